"""Run the prediction probe in its own process: stream its progress, cancel by terminating it.

The parent never imports mlflow: it starts ``python -m commands.probe`` (forked by the home's model
worker when the environment names a home, see ``commands.model_worker``), relays each progress line
to a callback and parses the final ``result``. Cancelling the awaiting task (Ctrl-C in the CLI,
the cancel key in the TUI) terminates the child, then kills it if it does not stop in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from console.diagnosis_model import PredictionComparison
from console.errors import ConsoleError

PROBE_MODULE = "commands.probe"
DEFAULT_TIMEOUT_S = 300.0
STOP_GRACE_S = 3.0

ProgressCallback = Callable[[str, float | None], None]


class ProbeError(ConsoleError):
    """The probe could not load the models or score the rows; ``side`` and ``reason`` name the
    model that could not be loaded and the loader's own words, when that was the failure."""

    side: str | None = None
    reason: str | None = None


class ProbeRequest(BaseModel):
    tracking_uri: str
    model: str
    left: str
    right: str
    table: str | None = None
    left_snapshot: str | None = None
    right_snapshot: str | None = None
    catalog: str = "lake"
    catalog_db: str | None = None
    warehouse: str | None = None
    params: dict[str, str] = {}
    scope: str = "holdout"
    max_rows: int = 0
    rows_file: str | None = None
    all_sources: bool = False
    no_datasets: bool = False
    synthetic_rows: int | None = None
    left_uri: str | None = None
    right_uri: str | None = None
    tolerance: float | None = None

    def argv(self) -> list[str]:
        args = [
            sys.executable,
            "-m",
            PROBE_MODULE,
            "--tracking-uri",
            self.tracking_uri,
            "--model",
            self.model,
            "--left",
            self.left,
            "--right",
            self.right,
            "--catalog",
            self.catalog,
            "--scope",
            self.scope,
            "--max-rows",
            str(self.max_rows),
        ]
        for flag, value in (
            ("--table", self.table),
            ("--left-snapshot", self.left_snapshot),
            ("--right-snapshot", self.right_snapshot),
            ("--catalog-db", self.catalog_db),
            ("--warehouse", self.warehouse),
            ("--rows", self.rows_file),
            ("--left-uri", self.left_uri),
            ("--right-uri", self.right_uri),
        ):
            if value:
                args += [flag, value]
        if self.params:
            args += ["--params", json.dumps(self.params)]
        if self.tolerance is not None:
            args += ["--tolerance", repr(float(self.tolerance))]
        if self.synthetic_rows:
            args += ["--synthetic-rows", str(self.synthetic_rows)]
        args += ["--all-sources"] if self.all_sources else []
        args += ["--no-datasets"] if self.no_datasets else []
        return args


class ProbeOutcome(BaseModel):
    predictions: PredictionComparison
    data_diff: dict[str, Any] | None = None


def child_env(settings: Any = None) -> dict[str, str]:
    """The environment of the probe: allow-listed (plus what loading a model from its artifact
    store needs), and the MLflow credentials from the settings."""
    from console.child_env import MODEL_STORE_PREFIXES
    from console.child_env import child_env as allowed

    env = allowed(keep_prefixes=MODEL_STORE_PREFIXES)
    env["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    if settings is not None:
        # names the home: its model worker runs the child, its download cache holds the models
        if getattr(settings, "home", None) is not None:
            env["MLOPS_CONSOLE_HOME"] = str(settings.home)
        if settings.tracking_username:
            env["MLFLOW_TRACKING_USERNAME"] = settings.tracking_username
        for name, secret in (
            ("MLFLOW_TRACKING_PASSWORD", settings.tracking_password),
            ("MLFLOW_TRACKING_TOKEN", settings.tracking_token),
        ):
            if secret is not None:
                env[name] = secret.get_secret_value()
        if settings.tracking_insecure_tls:
            env["MLFLOW_TRACKING_INSECURE_TLS"] = "true"
    return env


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    """Signal the probe's process group (it forks a helper for the data work)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        _signal_group(proc, signal.SIGKILL)  # a helper outliving the probe
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
    except TimeoutError:
        _signal_group(proc, signal.SIGKILL)
        await proc.wait()


async def run_protocol(
    argv: list[str],
    on_progress: ProgressCallback | None = None,
    *,
    env: dict[str, str] | None = None,
    limit_s: float = DEFAULT_TIMEOUT_S,
    on_start: Callable[[int], None] | None = None,
    what: str = "the prediction probe",
    cwd: str | None = None,
) -> dict[str, Any]:
    """Run a child speaking the probe's JSON-lines protocol; its ``result`` fields, or
    ``ProbeError``. Cancellation (and the time limit) stops the child's process group."""
    from commands.model_worker import spawn

    # a child of the home's model worker (mlflow already imported) or a plain process; in its
    # own session either way: Ctrl-C reaches the console, which then stops the child
    proc = await spawn(argv, env=env if env is not None else child_env(), cwd=cwd, limit=2**22)
    if on_start is not None:
        on_start(proc.pid)
    tail: list[str] = []

    async def drain_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                tail[:] = [*tail[-9:], line]

    async def read_protocol() -> dict[str, Any] | None:
        assert proc.stdout is not None
        final = None
        async for raw in proc.stdout:
            try:
                doc = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(doc, dict):
                continue
            if doc.get("event") == "progress" and on_progress is not None:
                on_progress(str(doc.get("message", "")), doc.get("fraction"))
            elif doc.get("event") in ("result", "error"):
                final = doc
        return final

    drain = asyncio.ensure_future(drain_stderr())
    try:
        final = await asyncio.wait_for(read_protocol(), limit_s)
        await proc.wait()
        await drain
    except TimeoutError:
        await _stop(proc)
        raise ProbeError(f"{what} took longer than {limit_s:g} s; stopped") from None
    except BaseException:
        await _stop(proc)
        drain.cancel()
        raise
    if final is None:
        detail = tail[-1] if tail else f"exit {proc.returncode}"
        raise ProbeError(f"{what} ended without a result: {detail}")
    if final.get("event") == "error":
        error = ProbeError(f"{what} failed: {final.get('message')}")
        side, reason = final.get("side"), final.get("reason")
        if side in ("left", "right") and isinstance(reason, str):
            error.side, error.reason = side, reason
        raise error
    return {k: v for k, v in final.items() if k != "event"}


async def run_probe(
    request: ProbeRequest,
    on_progress: ProgressCallback | None = None,
    *,
    env: dict[str, str] | None = None,
    limit_s: float = DEFAULT_TIMEOUT_S,
    on_start: Callable[[int], None] | None = None,
) -> ProbeOutcome:
    """Run the probe to completion; raises ``ProbeError``; cancellation stops the child."""
    fields = await run_protocol(
        request.argv(), on_progress, env=env, limit_s=limit_s, on_start=on_start
    )
    data_diff = fields.pop("data_diff", None)
    return ProbeOutcome(
        predictions=PredictionComparison.model_validate(fields), data_diff=data_diff
    )

"""Embedded deployments: start one for the version behind an alias, stop one.

``start_deployment`` resolves the alias, writes the record, launches the supervisor (see
``commands.deploy_supervisor``) in its own session with an allow-listed environment, and waits
until ``/version`` answers with the expected version. ``stop_deployment`` asks the supervisor to
stop (it stops the service's process group) and clears the record; a stale record (its processes
died with a crash) is cleared too. Both are audited. Rollout and rollback are in
``commands.rollout``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from commands import deploy_records as records
from commands.deploy_records import DeployError
from console.audit import AuditLog, AuditRecord, os_actor
from console.deployment_model import DeploymentInfo, DeploymentRecord, check_deployment_name
from console.embedded import procs
from console.errors import ReadOnlyError, UsageError

Progress = Callable[[str], None]
START_TIMEOUT = 240.0  # the service imports mlflow and loads the model before it binds its port

_CHILDREN: list[subprocess.Popen[bytes]] = []


def _quiet(message: str) -> None:
    return None


def default_name(model: str) -> str:
    """A deployment name from a model name (characters outside the allowed set become ``-``)."""
    cleaned = "".join(
        c if (c.isascii() and c.isalnum()) or c in "_.-" else "-" for c in model
    ).strip("-._")
    return (cleaned or "model")[:63]


def valid_name(name: str) -> str:
    """``name`` if ``deploy`` could have written it, else a one-line UsageError (exit 2)."""
    try:
        return check_deployment_name(name)
    except ValueError as exc:
        raise UsageError(str(exc), hint="see `mlops-console deployments` for the names") from None


def get_version(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """``GET /version`` of a service on loopback; None when it does not answer with JSON."""
    try:
        with urllib.request.urlopen(f"{url}/version", timeout=timeout) as resp:
            doc = json.loads(resp.read(65536))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def log_tail_error(home: Path | str, name: str) -> str:
    """The line of the deployment's log that says why the service failed."""
    try:
        lines = records.log_path(home, name).read_text(errors="replace").splitlines()[-200:]
    except OSError:
        return "no log was written"
    for marker in ("serve: error:", "Error", "error"):
        found = [ln.strip() for ln in lines if marker in ln]
        if found:
            return found[-1][:300]
    return lines[-1][:300] if lines else "the log is empty"


def record_state(path: Path, record: DeploymentRecord) -> tuple[str, str]:
    """(state, detail) of a record from its processes: running, stale, orphaned, failed…"""
    supervised = records.is_our_supervisor(record.supervisor_pid, path)
    serving = records.is_our_service(record.pid, record)
    if record.state == "failed":
        return "failed", record.detail or "the service kept dying; see its log"
    if supervised:
        return record.state, record.detail or ""
    if serving:
        return "orphaned", (
            f"its supervisor (pid {record.supervisor_pid}) is gone; the service (pid "
            f"{record.pid}) runs unsupervised — `deploy stop {record.name}` and deploy again"
        )
    return "stale", (
        f"stale record: neither the supervisor (pid {record.supervisor_pid}) nor the service "
        f"(pid {record.pid}) is running (a crash or a reboot) — `deploy stop {record.name}` "
        "clears it"
    )


def _audit(settings: Any, action: str, outcome: str, record: DeploymentRecord, message: str):
    audit = AuditLog.for_settings(settings)
    with contextlib.suppress(Exception):
        audit.append(
            AuditRecord(
                action=action,
                outcome=outcome,  # type: ignore[arg-type]
                actor=os_actor(),
                server=record.tracking_uri,
                model=record.model,
                version=record.version,
                target=f"deployment:{record.name}",
                message=message,
                details={"url": record.url, "alias": record.alias},
            )
        )


async def resolve_alias(client: Any, model: str, alias: str) -> str:
    """The version an alias points at now (NotFound → a one-line DeployError)."""
    from console.mlflow.errors import MlflowError

    try:
        return str((await client.get_model_version_by_alias(model, alias)).version)
    except MlflowError as exc:
        raise DeployError(
            f"cannot resolve {model}@{alias}: {exc}",
            hint=f"check the model name and alias with `mlops-console versions {model}`",
        ) from None


def start_deployment(
    settings: Any,
    *,
    model: str,
    alias: str,
    version: str,
    tracking_uri: str,
    name: str | None = None,
    progress: Progress = _quiet,
    timeout: float = START_TIMEOUT,
) -> DeploymentInfo:
    """Start a supervised predict service for ``model`` v``version`` (behind ``alias``)."""
    if settings.read_only:
        raise ReadOnlyError(f"deploy {model}@{alias}")
    name = valid_name(name or default_name(model))
    home = Path(settings.home).expanduser().resolve()
    path = records.record_path(home, name)
    with records.locked(home):
        existing = records.read(path)
        if existing is not None:
            state, _ = record_state(path, existing)
            if state not in ("stale", "failed"):
                raise DeployError(
                    f"deployment {name} already exists ({existing.model} v{existing.version} at "
                    f"{existing.url}, {state})",
                    hint=f"stop it with `mlops-console deploy stop {name}` or choose --name",
                )
            progress(f"replacing the {state} record of deployment {name}")
            _terminate(path, existing)
        port = procs.free_port()
        record = DeploymentRecord(
            name=name,
            url=f"http://127.0.0.1:{port}",
            model=model,
            version=str(version),
            alias=alias,
            port=port,
            started=datetime.now(UTC).replace(microsecond=0),
            tracking_uri=tracking_uri,
            embedded_tracking=settings.embedded,
            home=str(home),
        )
        records.write(path, record)
        proc = _launch(path, home, name)
        # (not records.update: that takes the lock we hold; the supervisor waits for it)
        records.write(path, record.model_copy(update={"supervisor_pid": proc.pid}))
    progress(f"starting {name}: models:/{model}/{version} on {record.url} (loading the model)…")
    _wait_ready(path, record, proc, timeout, progress)
    info = DeploymentInfo(name=name, url=record.url, model=model, version=str(version), alias=alias)
    _audit(settings, "deploy.start", "succeeded", record, f"started {name} on {record.url}")
    return info


def _launch(path: Path, home: Path, name: str) -> subprocess.Popen[bytes]:
    cmd = [records.python(), "-m", records.SUPERVISOR_MODULE, "--record", str(path)]
    with open(records.log_path(home, name), "ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=home,
            env=records.child_env(records.project_root()),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN[:] = [c for c in _CHILDREN if c.poll() is None]
    _CHILDREN.append(proc)
    return proc


def _wait_ready(
    path: Path,
    record: DeploymentRecord,
    proc: subprocess.Popen[bytes],
    timeout: float,
    progress: Progress,
) -> None:
    started = time.monotonic()
    next_report = started + 5.0
    while time.monotonic() - started < timeout:
        doc = get_version(record.url, timeout=1.0)
        if doc is not None and str(doc.get("version")) == record.version:
            return
        current = records.read(path)
        if proc.poll() is not None or current is None or current.state == "failed":
            why = log_tail_error(record.home, record.name)
            _terminate(path, current or record)
            raise DeployError(
                f"deployment {record.name} failed to start: {why}",
                hint=f"see {records.log_path(record.home, record.name)}",
            )
        if current.restarts > 0:
            why = log_tail_error(record.home, record.name)
            _terminate(path, current)
            raise DeployError(
                f"deployment {record.name} died while starting: {why}",
                hint=f"see {records.log_path(record.home, record.name)}",
            )
        if time.monotonic() >= next_report:
            progress(f"waiting for {record.name}… {time.monotonic() - started:.0f} s")
            next_report += 5.0
        time.sleep(0.25)
    _terminate(path, records.read(path) or record)
    raise DeployError(
        f"deployment {record.name} did not answer within {timeout:.0f} s",
        hint=f"see {records.log_path(record.home, record.name)}; the machine may be busy",
    )


def _terminate(path: Path, record: DeploymentRecord, grace: float = 20.0) -> None:
    """Stop the supervisor (it stops the service) and anything of ours left; remove the record."""
    sup = record.supervisor_pid if records.is_our_supervisor(record.supervisor_pid, path) else 0
    svc = record.pid if records.is_our_service(record.pid, record) else 0
    if sup:
        procs.signal_pid(sup, signal.SIGTERM)
    elif svc:
        procs.signal_group(svc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not (sup and procs.is_alive(sup)) and not (svc and procs.group_alive(svc)):
            break
        time.sleep(0.1)
    else:
        if svc:
            procs.signal_group(svc, signal.SIGKILL)
        if sup:
            procs.signal_pid(sup, signal.SIGKILL)
    if sup:
        procs.reap(sup)
    records.remove(path)


def stop_deployment(settings: Any, name: str) -> DeploymentRecord | None:
    """Stop deployment ``name`` (or clear its stale record); the record it had, None if none."""
    if settings.read_only:
        raise ReadOnlyError(f"stop deployment {name}")
    valid_name(name)
    path = records.record_path(settings.home, name)
    record = records.read(path)
    if record is None:
        if path.exists():
            records.remove(path)  # unreadable: nothing it names can be trusted or stopped
        return None
    _terminate(path, record)
    _audit(settings, "deploy.stop", "succeeded", record, f"stopped {name}")
    return record

"""The promotion gates, evaluated on a candidate version: ready, metric, provenance, invariance.

Each gate returns a ``GateResult`` and never raises: a gate that cannot decide says so as
``error`` (which blocks like ``failed``). They run one at a time, cheapest first, and the first
that blocks stops the rest (reported ``not_run``) unless every gate was asked for. The invariance
checks run in a separate process with a timeout (a child of the home's model worker, which keeps
mlflow imported, or a plain process: ``commands.model_worker``), so ``mlflow`` and the model are
never loaded into the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commands.gates import DEFAULT_METRICS, SIGNATURE_CHECKS, EffectiveGates
from console.errors import ConsoleError
from console.model import ModelVersion, Run
from console.promotion_model import GateProgress, GateResult, PromotionRequest

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class GateInputs:
    """What the gates look at; ``holder`` is the version currently behind the target."""

    client: Any
    request: PromotionRequest
    candidate: ModelVersion
    holder: str | None
    tracking_uri: str
    settings: Any = None
    # environment for the invariance process (credentials for the server; never logged)
    child_env: dict[str, str] = field(default_factory=dict)


def gate_ready(inputs: GateInputs) -> GateResult:
    status = inputs.candidate.status or "unknown"
    if status == "READY":
        return GateResult(name="ready", status="passed", detail="version status READY")
    message = f" ({inputs.candidate.status_message})" if inputs.candidate.status_message else ""
    return GateResult(
        name="ready", status="failed", detail=f"version status is {status}, not READY{message}"
    )


async def gate_provenance(inputs: GateInputs, gates: EffectiveGates) -> GateResult:
    """Provenance complete: no gap in the configured areas (console.provenance.collect's record)."""
    from console.provenance.collect import ProvenanceSources, collect

    sources = (
        ProvenanceSources.from_settings(
            inputs.settings, lineage="lineage" in gates.provenance_areas
        )
        if inputs.settings is not None
        else ProvenanceSources()
    )
    try:
        record = await collect(inputs.client, inputs.request.model, inputs.request.version, sources)
    except ConsoleError as exc:
        return GateResult(name="provenance", status="error", detail=f"cannot collect: {exc}")
    finally:
        await sources.aclose()
    gaps = record.gaps_in(*gates.provenance_areas)
    if not gaps:
        ignored = len(record.gaps)
        extra = f" ({ignored} gap(s) outside the checked areas)" if ignored else ""
        return GateResult(
            name="provenance", status="passed", detail=f"no gaps in code, data, environment{extra}"
        )
    first = gaps[0]
    more = f" (+{len(gaps) - 1} more)" if len(gaps) > 1 else ""
    return GateResult(
        name="provenance",
        status="failed",
        detail=f"{first.area}: {first.message}{more}",
        problems=[f"{gap.area}: {gap.message}" for gap in gaps] if more else [],
    )


async def gate_invariance(inputs: GateInputs, gates: EffectiveGates) -> GateResult:
    """The model's own invariance checks, then the signature-derived ones, within the timeout;
    the first that does not pass decides. The console's own check modules run together in one
    process (``commands.invariance_gate``: mlflow imported once, the model loaded once); any
    other module runs in a process of its own (``python -m MODULE``)."""
    from commands.invariance_gate import IN_PROCESS

    modules = gates.invariance_modules
    if not modules:
        return GateResult(
            name="invariance",
            status="skipped",
            detail=f"no invariance checks configured for model {inputs.request.model}",
        )
    passed = []
    for batch in _batches(modules, IN_PROCESS):
        if batch[0] in IN_PROCESS:
            results = await _run_together(inputs, gates, batch)
        else:
            results = [(batch[0], await _run_checks(inputs, gates, batch[0]))]
        for module, result in results:
            if module == SIGNATURE_CHECKS and len(modules) > 1:
                result.detail = f"signature checks: {result.detail}"
            if result.status != "passed":
                return result
            passed.append(result.detail)
    return GateResult(name="invariance", status="passed", detail="; ".join(passed))


def _batches(modules: list[str], together: frozenset[str]) -> list[list[str]]:
    """The modules in order, consecutive ones of ``together`` grouped (one process each group)."""
    batches: list[list[str]] = []
    for module in modules:
        if module in together and batches and batches[-1][0] in together:
            batches[-1].append(module)
        else:
            batches.append([module])
    return batches


async def _spawn(
    inputs: GateInputs, argv: list[str], within: float
) -> tuple[int, str, str] | GateResult:
    """Run ``argv`` in a session of its own: (exit code, stdout, stderr), or the timeout's
    verdict (the process group killed)."""
    from commands.model_worker import spawn
    from console.child_env import MODEL_STORE_PREFIXES, child_env

    env = child_env(inputs.child_env, keep_prefixes=MODEL_STORE_PREFIXES)
    if getattr(inputs.settings, "home", None) is not None:
        env["MLOPS_CONSOLE_HOME"] = str(inputs.settings.home)  # its model worker runs the checks
    proc = await spawn(argv, env=env, cwd=ROOT)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        _kill(proc)
        await proc.wait()
        return GateResult(
            name="invariance",
            status="error",
            detail=f"checks did not finish within {within:g} s (killed)",
        )
    except asyncio.CancelledError:
        _kill(proc)  # an abandoned promotion must not leave a model loading in the background
        raise
    return (
        proc.returncode if proc.returncode is not None else 2,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )


def _argv(inputs: GateInputs, module: str) -> list[str]:
    uri = f"models:/{inputs.request.model}/{inputs.request.version}"
    return [sys.executable, "-m", module, "--model-uri", uri, "--tracking-uri",
            inputs.tracking_uri, "--json"]  # fmt: skip


async def _run_checks(inputs: GateInputs, gates: EffectiveGates, module: str) -> GateResult:
    """One module by the ``python -m MODULE`` protocol, in a process of its own."""
    ran = await _spawn(inputs, _argv(inputs, module), gates.invariance_timeout)
    if isinstance(ran, GateResult):
        return ran
    code, out, err = ran
    return _verdict(code, _last_json(out), err)


async def _run_together(
    inputs: GateInputs, gates: EffectiveGates, modules: list[str]
) -> list[tuple[str, GateResult]]:
    """The console's own modules on one loaded model, in one process; a verdict per module run
    (it stops at the first that does not pass)."""
    argv = _argv(inputs, "commands.invariance_gate")
    for module in modules:
        argv += ["--module", module]
    ran = await _spawn(inputs, argv, gates.invariance_timeout * len(modules))
    if isinstance(ran, GateResult):
        return [(modules[0], ran)]
    code, out, err = ran
    doc = _last_json(out)
    entries = doc.get("modules") or []
    if not entries:  # the model could not be loaded (or the runner itself failed)
        return [(modules[0], _verdict(code or 2, doc, err))]
    return [
        (str(entry.get("module")), _verdict(int(entry.get("exit", 2)), _entry_doc(entry), err))
        for entry in entries
    ]


def _entry_doc(entry: dict[str, Any]) -> dict[str, Any]:
    return entry.get("report") or {"error": entry.get("error")}


def _verdict(code: int, doc: dict[str, Any], err: str) -> GateResult:
    """A check module's exit code and JSON document as the gate's verdict."""
    if code == 0:
        names = ", ".join(c.get("name", "?") for c in doc.get("checks", []))
        return GateResult(name="invariance", status="passed", detail=f"all passed: {names}")
    if code == 1 and doc.get("checks"):
        failed = [c for c in doc["checks"] if not c.get("passed")]
        detail = "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in failed)
        return GateResult(name="invariance", status="failed", detail=detail or "a check failed")
    why = doc.get("error") or err.strip().splitlines()[-1:]
    whole = _one_line(why, limit=None)
    return GateResult(
        name="invariance",
        status="error",
        detail=f"checks could not run (exit {code}): {_one_line(why)}",
        problems=[whole] if whole != _one_line(why) else [],
    )


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _one_line(value: Any, limit: int | None = 300) -> str:
    text = " ".join(value) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text[:limit] or "no output"


def _last_json(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, dict):
                return doc
    with contextlib.suppress(ValueError):
        doc = json.loads(text)
        if isinstance(doc, dict):
            return doc
    return {}


def pick_metric(run: Run, configured: str | None) -> str | None:
    """The primary metric: the configured one, else the first of f1_macro/accuracy the run has."""
    if configured:
        return configured
    for wanted in DEFAULT_METRICS:
        if wanted in run.metrics:
            return wanted
        suffixed = sorted(k for k in run.metrics if k.endswith("_" + wanted))
        if suffixed:
            return suffixed[0]
    return None


async def gate_metric(inputs: GateInputs, gates: EffectiveGates) -> GateResult:
    """The candidate's primary metric is not worse than the current holder's."""
    from console.mlflow.errors import MlflowError

    request = inputs.request
    if not inputs.candidate.run_id:
        return GateResult(name="metric", status="failed", detail="the version names no run")
    try:
        run = await inputs.client.get_run(inputs.candidate.run_id)
    except MlflowError as exc:
        return GateResult(name="metric", status="error", detail=f"run unreadable: {exc.message}")
    metric = pick_metric(run, gates.metric)
    if metric is None:
        return GateResult(
            name="metric",
            status="failed",
            detail="no primary metric (none configured; the run has no f1_macro or accuracy)",
        )
    value = run.metric_value(metric)
    if value is None:
        return GateResult(name="metric", status="failed", detail=f"the run has no {metric}")
    if inputs.holder is None or inputs.holder == request.version:
        return GateResult(
            name="metric",
            status="passed",
            detail=f"{metric}={value:.4g}; no other version holds {request.target} to compare",
        )
    try:
        holder = await inputs.client.get_model_version(request.model, inputs.holder)
        theirs = (
            (await inputs.client.get_run(holder.run_id)).metric_value(metric)
            if holder.run_id
            else None
        )
    except MlflowError as exc:
        return GateResult(
            name="metric",
            status="error",
            detail=f"holder v{inputs.holder} unreadable: {exc.message}",
        )
    if theirs is None:
        return GateResult(
            name="metric",
            status="passed",
            detail=f"{metric}={value:.4g}; holder v{inputs.holder} has no {metric}",
        )
    worse = (theirs - value) if gates.higher_is_better else (value - theirs)
    comparison = f"{metric} {value:.4g} vs holder v{inputs.holder} {theirs:.4g}"
    if worse > gates.tolerance:
        return GateResult(name="metric", status="failed", detail=f"{comparison}: worse")
    return GateResult(name="metric", status="passed", detail=f"{comparison}: not worse")


NOT_RUN = "not run (an earlier gate failed: {failed})"


async def evaluate(
    inputs: GateInputs, gates: EffectiveGates, driver: Any = None, *, all_gates: bool = False
) -> list[GateResult]:
    """The required gates one at a time, cheapest first (``gates.require`` is in cost order),
    each timed. The first that blocks (failed or error) stops the rest: they are reported as
    ``not_run``, never as passed; ``all_gates`` runs every one regardless.

    With a ``driver``, each gate's start and verdict are reported as it happens: a line through
    ``progress`` (the CLI prints it) and a ``GateProgress`` through ``output`` (the TUI shows it).
    """
    total, done = len(gates.require), 0

    def report(name: str, status: Any, detail: str = "", seconds: float | None = None) -> None:
        if driver is None:
            return
        driver.output(GateProgress(name=name, status=status, detail=detail, seconds=seconds))
        if status == "waiting":
            return  # the list of gates was said once ("checking gates: …")
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        line = f"gate {name}: {status}{took}" + (f" — {detail}" if detail else "")
        if status == "not_run":
            line = f"gate {name}: {detail}"  # "not run (an earlier gate failed: …)"
        driver.progress(line, fraction=done / total if total else None)

    for name in gates.require:
        report(name, "waiting")
    results: list[GateResult] = []
    for name in gates.require:
        stopped_by = [r.name for r in results if r.blocking]
        if stopped_by and not all_gates:
            result = GateResult(
                name=name, status="not_run", detail=NOT_RUN.format(failed=", ".join(stopped_by))
            )
        else:
            report(name, "running")
            started = time.monotonic()
            result = await _one(name, inputs, gates)
            result.seconds = round(time.monotonic() - started, 3)
        done += 1
        report(name, result.status, result.detail, result.seconds)
        results.append(result)
    return results


async def _one(name: str, inputs: GateInputs, gates: EffectiveGates) -> GateResult:
    if name == "ready":
        return gate_ready(inputs)
    if name == "provenance":
        return await gate_provenance(inputs, gates)
    if name == "invariance":
        return await gate_invariance(inputs, gates)
    return await gate_metric(inputs, gates)

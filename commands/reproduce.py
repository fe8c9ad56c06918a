"""``reproduce``: retrain a version from its record, then probe the new model against it.

From the provenance record: the commit (its clone must hold it), the pinned snapshot (it must
still exist), the logged params, and a training entry point — a ``train`` command configured for
the model in the profile file (``[reproduce.models."<model>"] train = "…"``, ``{param}``
placeholders), the demo's pipeline, or an ``MLproject`` at the commit. Whatever of these is
missing is named and nothing runs (INCOMPLETE). Otherwise ``commands.reproduce_train`` trains in
its own process (progress through the callback), the prediction probe compares the registered
model with the new one on the held-out and synthetic rows, and the answer is MATCH or MISMATCH
with the environment differences and what the record cannot pin. Nothing is registered.
"""

from __future__ import annotations

import json
import sys
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from commands.diagnose import probe_request
from commands.diagnose_compare import requirement_specs
from commands.probe_runner import ProbeError, ProgressCallback, run_probe, run_protocol
from console import gitinfo
from console.errors import ConsoleError, SettingsError
from console.provenance.collect import ProvenanceSources, collect, is_seed_param
from console.provenance.model import ProvenanceRecord
from console.reproduce_model import EntryKind, ReproduceResult, TrainSpec
from console.settings import config_path

TRAIN_MODULE = "commands.reproduce_train"
TRAIN_TIMEOUT_S = 3600.0
DEMO_MODEL = "next-week-commits"
ROOT = Path(__file__).resolve().parents[1]
ALWAYS_UNPINNED = "hardware, OS, BLAS and thread settings (the record does not hold them)"


def load_train_commands(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``[reproduce.models."<model>"] train = "…"`` of the profile file: model -> command."""
    path = config_path(env)
    try:
        doc = tomllib.loads(path.read_bytes().decode("utf-8", errors="replace"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"config file {path}: {exc}") from None
    models = (doc.get("reproduce") or {}).get("models") or {}
    out = {}
    for name, table in models.items() if isinstance(models, dict) else []:
        command = table.get("train") if isinstance(table, dict) else None
        if not isinstance(command, str) or not command.strip():
            raise SettingsError(f"config file {path}: reproduce.models.{name}.train: not a command")
        out[str(name)] = command
    return out


async def _entry_point(
    record: ProvenanceRecord, clone: Path | None, commands: Mapping[str, str]
) -> tuple[EntryKind | None, str]:
    params = record.run.params if record.run else {}
    if record.model in commands:
        return "command", f"the train command configured for {record.model}"
    if record.model == DEMO_MODEL and "model.class" in params:
        return "demo", "the demo pipeline's features.py and trainer.py at the commit"
    commit = record.code.commit
    if (
        clone is not None
        and commit
        and gitinfo.is_revision(commit)
        and await gitinfo.git_ok(clone, "cat-file", "-e", revisions=[f"{commit}:MLproject"])
    ):
        return "mlproject", f"the MLproject at {commit[:12]}"
    return None, ""


async def check_record(
    record: ProvenanceRecord, sources: ProvenanceSources, commands: Mapping[str, str]
) -> tuple[list[str], Path | None, EntryKind | None, str]:
    """(what retraining needs and the record lacks, the clone, the entry point and its label)."""
    missing: list[str] = []
    if record.run is None:
        missing.append("the source run: the version names no readable run")
    code = record.code
    clone: Path | None = None
    if not code.commit:
        missing.append("the commit: the run has no mlflow.source.git.commit tag")
    elif not gitinfo.is_revision(code.commit):
        missing.append(f"the commit: {gitinfo.not_a_revision(code.commit)}")
    else:
        clone = (
            Path(code.clone) if code.clone else gitinfo.find_clone(code.repo_url, sources.git_repos)
        )
        if clone is None:
            missing.append(
                f"a clone of {code.repo_url or 'the repository'} holding commit {code.commit} "
                "(map it in the profile's git_repos)"
            )
        elif not await gitinfo.git_ok(
            clone, "cat-file", "-e", revisions=[f"{code.commit}^{{commit}}"]
        ):
            missing.append(f"commit {code.commit}: it is not in the clone at {clone} (gone)")
            clone = None
    data = record.data
    if data.table and data.snapshot_id and data.snapshot is None:
        why = next(
            (g.message for g in record.gaps if g.area == "data" and "snapshot" in g.message),
            "not found",
        )
        missing.append(
            f"snapshot {data.snapshot_id} of {data.table}: it no longer exists (expired?): {why}"
        )
    entry, label = await _entry_point(record, clone, commands)
    if entry is None:
        where = f"no MLproject at {code.commit[:12]}, " if clone and code.commit else ""
        missing.append(
            f"a training entry point: not the demo, {where}no train command configured for "
            f'{record.model} ([reproduce.models."{record.model}"] train = "…" in the profile file)'
        )
    if entry == "demo" and not (data.table and data.snapshot_id):
        missing.append("the pinned snapshot the demo pipeline trains on")
    return missing, clone, entry, label


def environment_differences(record: ProvenanceRecord, env: dict[str, Any]) -> list[str]:
    """Where the retraining's Python and libraries differ from the record's pins."""
    out = []
    recorded_python = (
        record.environment.python_env.python if record.environment.python_env else None
    ) or (record.environment.mlmodel.python_version if record.environment.mlmodel else None)
    python = env.get("python")
    if recorded_python and python and recorded_python != python:
        out.append(f"python {recorded_python} recorded, {python} here")
    installed = env.get("packages") or {}
    for name, spec in requirement_specs(record.environment.requirements).items():
        have = installed.get(name)
        if spec.startswith("==") and have != spec[2:]:
            out.append(f"{name} {spec[2:]} recorded, {have or 'not installed'} here")
    return out


def cannot_pin(record: ProvenanceRecord, entry: EntryKind | None) -> list[str]:
    params = record.run.params if record.run else {}
    out = [ALWAYS_UNPINNED]
    if not any(is_seed_param(k) for k in params):
        out.append("a random seed: none among the logged params")
    if not (record.data.table and record.data.snapshot_id):
        out.append(
            "the training data: no Iceberg snapshot pinned (dataset inputs are not versions)"
        )
    if entry == "demo":
        out.append("the demo's calendar (start date, weeks): the console's DemoConfig, not logged")
    if not any(
        s.startswith("==") for s in requirement_specs(record.environment.requirements).values()
    ):
        out.append("library versions: the requirements pin none")
    return out


async def reproduce(
    client: Any,
    model: str,
    version: str,
    sources: ProvenanceSources,
    *,
    tracking_uri: str,
    train_commands: Mapping[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
    env: dict[str, str] | None = None,
) -> ReproduceResult:
    started = time.monotonic()
    report = on_progress or (lambda _m, _f: None)
    report(f"reading the record of {model} version {version}", 0.0)
    record = await collect(client, model, version, sources)
    missing, clone, entry, label = await check_record(record, sources, train_commands or {})
    result = ReproduceResult(
        model=model,
        version=str(version),
        verdict="INCOMPLETE",
        missing=missing,
        entry_point=label or None,
        commit=record.code.commit,
        table=record.data.table,
        snapshot_id=record.data.snapshot_id,
        cannot_pin=cannot_pin(record, entry),
    )
    if missing or entry is None or clone is None or record.run is None:
        result.seconds = round(time.monotonic() - started, 3)
        return result
    request = probe_request(tracking_uri, record, record, sources, all_sources=True)
    spec = TrainSpec(
        tracking_uri=tracking_uri,
        model=model,
        version=str(version),
        source_run_id=record.run.run_id,
        experiment_id=record.run.experiment_id or "0",
        entry=entry,
        command=(train_commands or {}).get(model),
        clone=str(clone),
        commit=record.code.commit or "",
        table=record.data.table,
        snapshot_id=record.data.snapshot_id,
        catalog=request.catalog,
        catalog_db=request.catalog_db,
        warehouse=request.warehouse,
        params=dict(record.run.params),
        requirements=list(record.environment.requirements),
    )
    try:
        trained = await run_protocol(
            [sys.executable, "-m", TRAIN_MODULE, spec.model_dump_json()],
            lambda m, f: report(f"train: {m}", None if f is None else 0.05 + 0.5 * f),
            env=env,
            limit_s=TRAIN_TIMEOUT_S,
            what="the retraining",
            cwd=str(ROOT),
        )
    except ProbeError as exc:
        raise ConsoleError(str(exc)) from None
    result.run_id = trained.get("run_id")
    result.model_uri = trained.get("model_uri")
    result.environment = environment_differences(record, trained.get("environment") or {})
    request.right_uri = result.model_uri
    try:
        outcome = await run_probe(
            request,
            lambda m, f: report(f"probe: {m}", None if f is None else 0.55 + 0.45 * f),
            env=env,
        )
    except ProbeError as exc:
        raise ConsoleError(f"retrained as run {result.run_id}, but {exc}") from None
    p = outcome.predictions
    result.predictions = p
    if p.disagreements:
        result.verdict = "MISMATCH"
    elif p.conclusive:
        result.verdict = "MATCH"
    else:
        result.missing.append(f"enough rows to compare: {p.verdict}")
    result.seconds = round(time.monotonic() - started, 3)
    report(f"{result.verdict} in {result.seconds:.1f} s", 1.0)
    return result


def result_lines(result: ReproduceResult) -> list[str]:
    """Plain text of a reproduce result (80 columns, server strings made printable)."""
    from console.provenance.text import _kv, _wrap, prediction_lines

    lines = [f"{result.model} version {result.version}: {result.verdict}"]
    lines += _kv("entry point", result.entry_point)
    lines += _kv("commit", result.commit)
    lines += _kv("snapshot", f"{result.table}@{result.snapshot_id}" if result.table else None)
    if result.missing:
        lines += ["", "Missing, so it cannot be retrained from the record:"]
        for item in result.missing:
            lines += _wrap(f"- {item}", hanging=4)
    if result.run_id:
        lines += _kv("new run", f"{result.run_id} (tagged mlops-console.reproduce, not registered)")
    if result.predictions is not None:
        lines += ["", "Registered vs retrained"]
        lines += prediction_lines(result.predictions)
    if result.environment:
        lines += ["", "Environment differences"]
        for item in result.environment:
            lines += _wrap(f"- {item}", hanging=4)
    lines += ["", "Not pinned by the record"]
    for item in result.cannot_pin:
        lines += _wrap(f"- {item}", hanging=4)
    return lines


def as_json(result: ReproduceResult) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=True)


def audit_result(settings: Any, result: ReproduceResult) -> None:
    """Record a retraining in the audit log (the CLI and the TUI alike)."""
    from console.audit import AuditLog, AuditRecord, os_actor

    AuditLog.for_settings(settings).append(
        AuditRecord(
            action="reproduce",
            outcome="succeeded",
            actor=os_actor(),
            server=None,
            model=result.model,
            version=result.version,
            message=f"{result.verdict}: new run {result.run_id} (not registered)",
            details={"run_id": result.run_id, "verdict": result.verdict},
        )
    )

"""Step commands for lineage broken on the MLflow side: find, re-emit OpenLineage events, re-sync.

``lineage.find_problems`` compares each registered version's run in MLflow with the OpenLineage
event log (embedded home) and with DataHub (the lineage reader's problem checks); it also lists
runs missing the provenance contract (a training-code fix, reported, never "repaired").
``lineage.reemit_events`` rebuilds a run's START/COMPLETE events from its MLflow params and sends
them through the pipeline's own OpenLineage transport; ``lineage.resync`` runs
``mlops-console lineage sync`` in a subprocess (it imports datahub and mlflow).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from commands.runbooks.context import StepContext, StepFailed
from commands.runbooks.registry import Plan, StepCommand, StepResult

PARAM_TABLE = "data.iceberg.table"
PARAM_SNAPSHOT = "data.iceberg.snapshot_id"
CONTRACT_TAGS = (
    "mlflow.source.git.commit",
    "mlflow.source.git.repoURL",
    "mlflow.source.git.branch",
)
JOB_NAMESPACE = "ml-training"
# facets take it as ``producer=`` (attrs drops the underscore of their ``_producer`` field;
# pyright does not, hence the ignores on those arguments)
PRODUCER = "https://github.com/mlops-console/mlops-console/tree/main/commands/runbooks"
SYNC_TIMEOUT_S = 900

Fix = Literal["re-emit", "re-sync"]
# the lineage reader's problem kinds and what repairs each
READER_FIXES: dict[str, Fix] = {
    "version_not_in_datahub": "re-sync",
    "version_without_run": "re-sync",
    "run_mismatch": "re-sync",
    "run_not_ingested": "re-sync",
    "events_never_sent": "re-emit",
    "dataset_name_mismatch": "re-emit",
    "snapshot_mismatch": "re-emit",
    "snapshot_not_pinned": "re-emit",
}


class LineageIssue(BaseModel):
    kind: str
    fix: Fix
    model: str
    version: str
    run_id: str | None = None
    message: str


class FindArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    fail_if_found: bool = False


def contract_gaps(run: Any) -> list[str]:
    """What the run does not log of the provenance contract (DESIGN.md)."""
    gaps = [f"tag {t}" for t in CONTRACT_TAGS if not run.tags.get(t)]
    gaps += [f"param {p}" for p in (PARAM_TABLE, PARAM_SNAPSHOT) if not run.params.get(p)]
    table = run.params.get(PARAM_TABLE)
    if table and not any(i.dataset.name == table for i in run.inputs):
        gaps.append(f"dataset input named {table}")
    return gaps


def _events_by_run(ctx: StepContext) -> dict[str, list[dict[str, Any]]] | None:
    """The embedded OpenLineage log grouped by runId; None when this home keeps no log."""
    from commands.lineage_emit import read_events
    from console.embedded.lifecycle import EmbeddedPaths

    path = EmbeddedPaths.for_home(ctx.settings.home).openlineage_events
    if not path.exists():
        return None if ctx.settings.tracking_uri else {}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in read_events(path):
        grouped.setdefault(str(event["run"].get("runId")), []).append(event)
    return grouped


def _log_issues(
    model: str, version: str, run: Any, events: dict[str, list[dict[str, Any]]]
) -> list[LineageIssue]:
    from commands.lineage_sync import latest_per_run
    from console.lineage.urns import openlineage_run_id

    run_id = run.info.run_id
    found = events.get(openlineage_run_id(run_id) or "", [])
    base = {"model": model, "version": version, "run_id": run_id, "fix": "re-emit"}
    if not found:
        message = f"{model} v{version}: run {run_id} has no OpenLineage event in the log"
        return [LineageIssue(kind="events_missing", message=message, **base)]
    latest = latest_per_run(found)[-1]
    table = run.params.get(PARAM_TABLE)
    names = [i.get("name") for i in latest.get("inputs") or []]
    if table and table.lower() not in [str(n).lower() for n in names]:
        message = (
            f"{model} v{version}: run {run_id}'s event reads {', '.join(map(str, names)) or '-'}, "
            f"but its {PARAM_TABLE} param says {table}"
        )
        return [LineageIssue(kind="dataset_name_mismatch", message=message, **base)]
    return []


async def _versions(client: Any, model: str | None) -> list[Any]:
    names = [model] if model else [m.name async for m in client.iter_registered_models()]
    out = []
    for name in names:
        async for v in client.iter_model_versions(name=name, page_size=1000, with_aliases=False):
            if (v.current_stage or "None") != "Archived":
                out.append(v)
    return sorted(out, key=lambda v: (v.name, int(v.version)))


async def find_issues(ctx: StepContext, args: FindArgs) -> tuple[list[LineageIssue], list[str]]:
    from console.lineage.reader import open_reader

    client = await ctx.mlflow()
    events = _events_by_run(ctx)
    issues: list[LineageIssue] = []
    gaps: list[str] = []
    async with open_reader(ctx.settings) as reader:
        for v in await _versions(client, args.model):
            if not v.run_id:
                gaps.append(f"{v.name} v{v.version}: no source run")
                continue
            run = await client.get_run(v.run_id)
            missing = contract_gaps(run)
            if missing:
                gaps.append(f"{v.name} v{v.version} run {v.run_id} lacks {', '.join(missing)}")
            found = _log_issues(v.name, v.version, run, events) if events is not None else []
            graph = await reader.lineage_for_version(v.name, v.version, depth=2, mlflow_run=run)
            for problem in graph.problems:
                fix = READER_FIXES.get(problem.kind)
                if fix is None or problem.severity == "info":
                    continue
                found.append(
                    LineageIssue(
                        kind=problem.kind,
                        fix=fix,
                        model=v.name,
                        version=v.version,
                        run_id=v.run_id,
                        message=f"{v.name} v{v.version}: {problem.message}",
                    )
                )
            issues += _dedupe(found)
    return issues, gaps


def _dedupe(found: list[LineageIssue]) -> list[LineageIssue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for issue in found:
        if (issue.kind, issue.version) not in seen:
            seen.add((issue.kind, issue.version))
            out.append(issue)
    return out


async def _find(ctx: StepContext, args: FindArgs) -> StepResult:
    issues, gaps = await find_issues(ctx, args)
    reemit = sorted({i.run_id for i in issues if i.fix == "re-emit" and i.run_id})
    summary = f"{len(issues)} lineage problem(s)" if issues else "lineage complete"
    if gaps:
        summary += f"; {len(gaps)} run(s) miss part of the provenance contract"
    return StepResult(
        ok=not (args.fail_if_found and issues),
        summary=summary,
        findings=[i.message for i in issues] + [f"contract: {g}" for g in gaps],
        data={
            "issues": [i.model_dump() for i in issues],
            "count": len(issues),
            "reemit_runs": reemit,
            "reemit_count": len(reemit),
            "contract_gaps": gaps,
        },
    )


# --- re-emit ----------------------------------------------------------------------------------


class ReemitArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_ids: list[str] = Field(default_factory=list)


def _iso(ms: int | None) -> str:
    stamp = datetime.fromtimestamp((ms or 0) / 1000, tz=UTC) if ms else datetime.now(UTC)
    return stamp.isoformat().replace("+00:00", "Z")


async def _runs_to_emit(ctx: StepContext, run_ids: list[str]) -> tuple[list[tuple], list[str]]:
    """(run, model, version) for each run that can be re-emitted, and why others cannot."""
    client = await ctx.mlflow()
    ready, refused = [], []
    for run_id in run_ids:
        run = await client.get_run(run_id)
        if not run.params.get(PARAM_TABLE) or not run.params.get(PARAM_SNAPSHOT):
            refused.append(
                f"run {run_id}: no {PARAM_TABLE}/{PARAM_SNAPSHOT} params to rebuild from"
            )
            continue
        versions = [
            v
            async for v in client.iter_model_versions(
                filter=f"run_id = '{run_id}'", page_size=100, with_aliases=False
            )
        ]
        version = max(versions, key=lambda v: int(v.version)) if versions else None
        ready.append((run, version.name if version else None, version.version if version else None))
    return ready, refused


async def _reemit_plan(ctx: StepContext, args: ReemitArgs) -> Plan:
    from console.embedded.lifecycle import EmbeddedPaths
    from console.lineage.openlineage_config import http_transport

    ready, refused = await _runs_to_emit(ctx, args.run_ids)
    if not ready:
        return Plan(data={"refused": refused})
    log = EmbeddedPaths.for_home(ctx.settings.home).openlineage_events
    http = http_transport(ctx.settings)
    where = f"the event log {log}" + (f" and {http['url']}{http['endpoint']}" if http else "")
    changes = [
        f"send START and COMPLETE for run {run.info.run_id} ({model or '-'} v{version or '-'}): "
        f"input iceberg {run.params[PARAM_TABLE]} at snapshot {run.params[PARAM_SNAPSHOT]}, "
        f"to {where}"
        for run, model, version in ready
    ]
    return Plan(changes=changes + [f"cannot: {r}" for r in refused], data={"refused": refused})


def _emit(ctx: StepContext, ready: list[tuple], tracking_uri: str) -> int:
    import os

    os.environ.setdefault("DATAHUB_TELEMETRY_ENABLED", "false")
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import dataset_version_dataset, job_type_job

    from commands.demo.lineage import MlflowRunFacet
    from commands.lineage_emit import MLFLOW_RUN_FACET
    from console.embedded.lifecycle import EmbeddedPaths
    from console.lineage.openlineage_config import openlineage_client_config
    from console.lineage.urns import openlineage_run_id

    log = EmbeddedPaths.for_home(ctx.settings.home).openlineage_events
    log.parent.mkdir(parents=True, exist_ok=True)
    client = OpenLineageClient(config=openlineage_client_config(ctx.settings, log))
    sent = 0
    for run, model, version in ready:
        job = Job(
            namespace=JOB_NAMESPACE,
            name=f"{model or run.info.experiment_id}.train",
            facets={
                "jobType": job_type_job.JobTypeJobFacet(
                    processingType="BATCH",
                    integration="MLFLOW",
                    jobType="TRAINING",
                    producer=PRODUCER,  # pyright: ignore[reportCallIssue]
                )
            },
        )
        dataset = InputDataset(
            namespace="iceberg",
            name=run.params[PARAM_TABLE],
            facets={
                "version": dataset_version_dataset.DatasetVersionDatasetFacet(
                    datasetVersion=run.params[PARAM_SNAPSHOT],
                    producer=PRODUCER,  # pyright: ignore[reportCallIssue]
                )
            },
        )
        for state, ms, produced in (
            (RunState.START, run.info.start_time, None),
            (RunState.COMPLETE, run.info.end_time or run.info.start_time, version),
        ):
            facet = MlflowRunFacet(
                runId=run.info.run_id,
                experimentId=str(run.info.experiment_id),
                runName=run.info.run_name or run.info.run_id,
                startTime=_iso(run.info.start_time),
                trackingUri=tracking_uri,
                modelName=model if produced else None,
                modelVersion=produced,
                producer=PRODUCER,  # pyright: ignore[reportCallIssue]
            )
            client.emit(
                RunEvent(
                    eventType=state,
                    eventTime=_iso(ms),
                    producer=PRODUCER,
                    run=Run(
                        # MLflow's run ids are hex-32: never None here
                        runId=openlineage_run_id(run.info.run_id),  # pyright: ignore[reportArgumentType]
                        facets={MLFLOW_RUN_FACET: facet},
                    ),
                    job=job,
                    inputs=[dataset],
                    outputs=[],
                )
            )
            sent += 1
    return sent


async def _reemit(ctx: StepContext, args: ReemitArgs) -> StepResult:
    ready, refused = await _runs_to_emit(ctx, args.run_ids)
    tracking_uri = await ctx.tracking_uri()
    sent = await asyncio.to_thread(_emit, ctx, ready, tracking_uri)
    changes = [f"re-emitted START and COMPLETE for run {run.info.run_id}" for run, _, _ in ready]
    return StepResult(
        summary=f"{sent} events sent for {len(ready)} run(s)",
        changes=changes,
        findings=[f"cannot: {r}" for r in refused],
        data={"events": sent, "runs": [run.info.run_id for run, _, _ in ready]},
    )


# --- re-sync ----------------------------------------------------------------------------------


class ResyncArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    needed: bool = True


async def _resync_plan(ctx: StepContext, args: ResyncArgs) -> Plan:
    from console.embedded.lifecycle import EmbeddedPaths
    from console.lineage.gms import gms_config

    if not args.needed:
        return Plan()
    config = gms_config(ctx.settings)
    if config is not None:
        return Plan(
            changes=[
                f"send the OpenLineage log to DataHub GMS at {config.url} and ingest MLflow "
                f"({await ctx.tracking_uri()}) there with DataHub's MLflow source and REST "
                "emitter; only changed aspects are written"
            ]
        )
    store = EmbeddedPaths.for_home(ctx.settings.home).datahub_lite_db
    return Plan(
        changes=[
            f"replay the OpenLineage log and ingest MLflow ({await ctx.tracking_uri()}) into "
            f"the DataHub Lite store {store}; only changed aspects are written"
        ]
    )


async def _resync(ctx: StepContext, args: ResyncArgs) -> StepResult:
    from commands.promote import credentials_env

    uri = await ctx.tracking_uri()
    from console.child_env import child_env

    # a console of its own: the lineage settings it reads, MLflow credentials, nothing else
    env = child_env(credentials_env(ctx.settings), keep_prefixes=("DATAHUB_", "OPENLINEAGE_"))
    command = [
        sys.executable, "-m", "console", "lineage", "sync", "--json",
        "--home", str(ctx.settings.home), "--tracking-uri", uri,
    ]  # fmt: skip
    ctx.say("running mlops-console lineage sync (DataHub's MLflow source; 10–30 s)")
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    try:
        async with asyncio.timeout(SYNC_TIMEOUT_S):
            out, err = await proc.communicate()
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise StepFailed(f"lineage sync failed: {lines[-1] if lines else proc.returncode}")
    try:
        report = json.loads(out.decode())
    except json.JSONDecodeError:
        raise StepFailed("lineage sync printed no JSON report") from None
    return StepResult(
        summary=f"lineage sync wrote {report.get('changes', 0)} aspect(s)",
        changes=[
            f"{report.get('event_changes', 0)} aspects from {report.get('events_read', 0)} events, "
            f"{report.get('mlflow_changes', 0)} from MLflow"
        ],
        findings=[f"warning: {w}" for w in report.get("warnings", [])],
        data=report,
    )


COMMANDS = [
    StepCommand(
        name="lineage.find_problems",
        kind="check",
        summary="versions and runs whose lineage is missing or inconsistent, contract gaps",
        args_model=FindArgs,
        run=_find,
    ),
    StepCommand(
        name="lineage.reemit_events",
        kind="action",
        summary="rebuild runs' OpenLineage events from their MLflow params and send them",
        args_model=ReemitArgs,
        run=_reemit,
        plan=_reemit_plan,
    ),
    StepCommand(
        name="lineage.resync",
        kind="action",
        summary="bring DataHub (the embedded Lite store, or GMS) up to date (lineage sync)",
        args_model=ResyncArgs,
        run=_resync,
        plan=_resync_plan,
    ),
]

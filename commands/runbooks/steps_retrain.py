"""Step commands of the ``model-retrain`` runbook: newest snapshot, train, alias, probe, gates,
promotion and rollout.

Training goes through the model's entry point in a process of its own: the demo's
``commands.demo.retrain`` for ``next-week-commits``, else the profile's ``training_commands``
(an argv with ``{tracking_uri}``, ``{model}``, ``{from_version}``, ``{snapshot_id}``, ``{table}``
and ``{home}`` filled in, printing one JSON line with ``version``). Alias moves are promotions
(``commands.promote``: gates, compare-and-set, tags, audit). The rollout follows the deployment
contract: ``POST /reload {"version"}`` on each embedded deployment, verified with ``GET /version``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from commands.runbooks.context import StepContext, StepFailed
from commands.runbooks.registry import Plan, StepCommand, StepResult

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = "next-week-commits"
TRAIN_TIMEOUT_S = 900.0
RETRAINED_FROM_TAG = "mlops.retrained_from"


class SnapshotArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    alias: str = "champion"


async def _find_snapshot(ctx: StepContext, args: SnapshotArgs) -> StepResult:
    from console.iceberg import IcebergError, SnapshotReader
    from console.mlflow.errors import MlflowError, NotFound

    client = await ctx.mlflow()
    try:
        version = await client.get_model_version_by_alias(args.model, args.alias)
        run = await client.get_run(version.run_id) if version.run_id else None
    except NotFound as exc:
        raise StepFailed(
            f"cannot read {args.model}@{args.alias}: {exc.message}",
            hint=(
                f"this server has no model {args.model} with an alias {args.alias}: set the "
                "`model` parameter to a registered model (`mlops-console models`) and `alias` "
                "to one of its aliases, then run again"
            ),
        ) from None
    except MlflowError as exc:
        raise StepFailed(
            f"cannot read {args.model}@{args.alias}: {exc.message}", hint=exc.hint
        ) from None
    params = run.params if run else {}
    table, pinned = params.get("data.iceberg.table"), params.get("data.iceberg.snapshot_id")
    if not (table and pinned):
        raise StepFailed(
            f"v{version.version} pins no Iceberg snapshot (data.iceberg.table/snapshot_id)",
            hint=(
                f"v{version.version} was not trained on a pinned snapshot, so there is no recipe "
                f"to retrain on newer data: check `mlops-console provenance {args.model} "
                f"{version.version}`"
            ),
        )
    try:
        snapshots = await SnapshotReader.from_settings(ctx.settings).snapshots(table)
    except IcebergError as exc:
        raise StepFailed(
            str(exc), hint="the table cannot be read: check the Iceberg catalog settings"
        ) from None
    current = next((s for s in snapshots.values() if s.is_current), None)
    if current is None:
        raise StepFailed(f"{table} has no current snapshot")
    newer = current.snapshot_id != str(pinned)
    summary = (
        f"{args.alias} v{version.version} was trained on {table}@{pinned}; the newest snapshot "
        f"is {current.snapshot_id}" + ("" if newer else " — the same: nothing to retrain on")
    )
    return StepResult(
        summary=summary,
        data={
            "champion_version": version.version,
            "table": table,
            "pinned_snapshot": str(pinned),
            "newest_snapshot": current.snapshot_id,
            "newer": newer,
            "newest_records": current.total_records,
        },
    )


class TrainArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    from_version: str
    table: str
    snapshot_id: str


def training_argv(settings: Any, tracking_uri: str, args: TrainArgs) -> list[str]:
    """The model's training entry point with its placeholders filled in."""
    values = {
        "tracking_uri": tracking_uri,
        "model": args.model,
        "from_version": args.from_version,
        "snapshot_id": args.snapshot_id,
        "table": args.table,
        "home": str(settings.home),
        "python": sys.executable,
    }
    configured = settings.training_commands.get(args.model)
    if configured:
        try:
            return [part.format(**values) for part in configured]
        except (KeyError, IndexError, ValueError) as exc:
            raise StepFailed(f"training_commands.{args.model}: bad placeholder {exc}") from None
    if args.model == DEMO_MODEL:
        return [
            sys.executable,
            "-m",
            "commands.demo.retrain",
            *("--home", str(settings.home), "--tracking-uri", tracking_uri),
            *("--from-version", args.from_version, "--snapshot", args.snapshot_id),
        ]
    raise StepFailed(
        f"no training entry point for {args.model}",
        hint=f"set training_commands.{args.model} in the profile (see README, Retrain)",
    )


async def _already_trained(ctx: StepContext, args: TrainArgs) -> str | None:
    """A version retrained from ``from_version`` on this snapshot (a resumed or repeated run)."""
    client = await ctx.mlflow()
    async for version in client.iter_model_versions(name=args.model, page_size=200):
        if version.tags.get(RETRAINED_FROM_TAG) != args.from_version or not version.run_id:
            continue
        run = await client.get_run(version.run_id)
        if run.params.get("data.iceberg.snapshot_id") == args.snapshot_id:
            return version.version
    return None


async def _train_plan(ctx: StepContext, args: TrainArgs) -> Plan:
    existing = await _already_trained(ctx, args)
    if existing:
        ctx.say(f"v{existing} was already retrained from v{args.from_version} on this snapshot")
        return Plan(data={"version": existing, "reused": True})
    argv = training_argv(ctx.settings, await ctx.tracking_uri(), args)
    return Plan(
        changes=[
            f"train v{args.from_version}'s recipe on {args.table}@{args.snapshot_id} "
            f"({' '.join(argv[1:4]) if argv[0] == sys.executable else argv[0]}) and register "
            f"the run as a new version of {args.model}"
        ],
        data={"argv_head": argv[:3]},
    )


async def _train(ctx: StepContext, args: TrainArgs) -> StepResult:
    from commands.probe_runner import child_env

    argv = training_argv(ctx.settings, await ctx.tracking_uri(), args)
    ctx.say(f"training {args.model} on snapshot {args.snapshot_id} (a minute or so)")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=ROOT,
        env=child_env(ctx.settings),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TRAIN_TIMEOUT_S)
    except (TimeoutError, asyncio.CancelledError, KeyboardInterrupt):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise
    doc: dict[str, Any] = {}
    for line in reversed(out.decode("utf-8", "replace").strip().splitlines()):
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            break
    if proc.returncode != 0 or not doc.get("version"):
        why = doc.get("error") or (err.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise StepFailed(f"training failed (exit {proc.returncode}): {str(why)[:300]}")
    version = str(doc["version"])
    metrics = doc.get("metrics") or {}
    shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if isinstance(v, float))
    return StepResult(
        summary=f"registered {args.model} v{version} (run {doc.get('run_id')}); {shown}",
        changes=[f"new version v{version} of {args.model} on snapshot {args.snapshot_id}"],
        data={"version": version, "run_id": doc.get("run_id"), "metrics": metrics},
    )


class PromoteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    version: str
    alias: str
    expect: str | None = None
    reason: str = "runbook model-retrain"


def _request(args: PromoteArgs):
    from console.promotion_model import PromotionRequest

    return PromotionRequest(
        model=args.model,
        version=args.version,
        alias=args.alias,
        expect=args.expect or None,
        reason=args.reason,
    )


async def _promote_plan(ctx: StepContext, args: PromoteArgs) -> Plan:
    from commands.promote import build_plan
    from commands.runbooks.steps_registry import _promote_context

    request = _request(args)
    plan = await build_plan(await _promote_context(ctx), request, ctx.driver)
    if plan.noop:
        return Plan(data={"version": args.version})
    line = f"{args.model}: {plan.before.describe(request)} → {plan.after.describe(request)}"
    gates = ", ".join(f"{g.name} {g.status}" for g in plan.gates)
    if gates:
        line += f" (gates: {gates})"
    if plan.refusal:
        line += f" — WILL BE REFUSED: {plan.refusal}"
    return Plan(
        changes=[line], typed_confirmation=plan.typed_confirmation, data={"version": args.version}
    )


async def _promote(ctx: StepContext, args: PromoteArgs) -> StepResult:
    from commands.promote import promote
    from commands.runbooks.steps_registry import _Confirmed, _promote_context

    result = await promote(await _promote_context(ctx), _request(args), _Confirmed(ctx.driver))
    if result.outcome not in {"succeeded", "noop"}:
        raise StepFailed(f"{result.outcome}: {result.message}")
    return StepResult(
        summary=f"{args.model}@{args.alias} → v{args.version}: {result.message}",
        changes=[result.message],
        data={"version": args.version, "audit_id": result.audit_id},
    )


class ProbeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    champion: str
    challenger: str
    max_disagreement: float = 1.0


async def _probe(ctx: StepContext, args: ProbeArgs) -> StepResult:
    from commands.diagnose import probe_request
    from commands.probe_runner import ProbeError, child_env, run_probe
    from console.provenance.collect import ProvenanceSources, collect

    client = await ctx.mlflow()
    sources = ProvenanceSources.from_settings(ctx.settings, lineage=False)
    try:
        left = await collect(client, args.model, args.champion, sources)
        right = await collect(client, args.model, args.challenger, sources)
        # the challenger's snapshot holds the newest rows: score those with both versions
        request = probe_request(await ctx.tracking_uri(), right, left, sources)
        request = request.model_copy(update={"left": args.champion, "right": args.challenger})
    finally:
        await sources.aclose()
    try:
        outcome = await run_probe(
            request, lambda m, f: ctx.say(f"probe: {m}"), env=child_env(ctx.settings)
        )
    except ProbeError as exc:
        raise StepFailed(str(exc)) from None
    p = outcome.predictions
    summary = (
        f"v{args.champion} vs v{args.challenger} on {p.rows} rows ({p.source}): "
        f"{p.disagreements} disagreements ({p.rate:.1%})"
    )
    return StepResult(
        ok=p.rate <= args.max_disagreement,
        summary=summary,
        data={"rows": p.rows, "disagreements": p.disagreements, "rate": p.rate},
    )


class GatesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    version: str
    alias: str = "champion"


async def _gates(ctx: StepContext, args: GatesArgs) -> StepResult:
    from commands.driver import QuietDriver
    from commands.promote import build_plan
    from commands.runbooks.steps_registry import _promote_context
    from console.promotion_model import PromotionRequest

    request = PromotionRequest(model=args.model, version=args.version, alias=args.alias)
    plan = await build_plan(await _promote_context(ctx), request, QuietDriver())
    findings = [f"{g.name}: {g.status} — {g.detail}" for g in plan.gates]
    failed = [g.name for g in plan.failed_gates]
    summary = (
        f"{args.alias} gates for v{args.version}: "
        + (f"failed: {', '.join(failed)}" if failed else "all passed")
        + (f" ({plan.refusal})" if plan.refusal and not failed else "")
    )
    return StepResult(
        ok=not failed and not (plan.refusal and not plan.noop),
        summary=summary,
        findings=findings,
        data={"passed": not failed, "gates": {g.name: g.status for g in plan.gates}},
    )


class DeploymentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    alias: str = "champion"
    # false when there is no new version to roll out (the count is then 0)
    enabled: bool = True


def _deployments(ctx: StepContext, model: str) -> list[dict[str, Any]]:
    from commands.demo.advance import find_deployments

    found, skipped = find_deployments(Path(ctx.settings.home), model)
    for note in skipped:
        ctx.say(f"skipped deployment record {note}")
    return found


async def _find_deployments(ctx: StepContext, args: DeploymentArgs) -> StepResult:
    if not args.enabled:
        return StepResult(summary="no new version: nothing to roll out", data={"count": 0})
    found = [d for d in _deployments(ctx, args.model) if d.get("alias") in (args.alias, None)]
    if not found:
        return StepResult(
            summary=f"no embedded deployment of {args.model}@{args.alias}: nothing to roll out",
            data={"count": 0, "names": []},
        )
    names = [str(d.get("name")) for d in found]
    return StepResult(
        summary=f"{len(found)} deployment(s) of {args.model}@{args.alias}: {', '.join(names)}",
        data={"count": len(found), "names": names},
    )


class RolloutArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    version: str
    alias: str = "champion"
    timeout: float = 120.0


async def _served(url: str) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(f"{url.rstrip('/')}/version")
        answer.raise_for_status()
        doc = answer.json()
        return doc if isinstance(doc, dict) else {}


async def _rollout_targets(ctx: StepContext, args: RolloutArgs) -> list[tuple[dict, str]]:
    import httpx

    targets = []
    for record in _deployments(ctx, args.model):
        if record.get("alias") not in (args.alias, None):
            continue
        try:
            served = str((await _served(str(record["url"]))).get("version"))
        except (httpx.HTTPError, ValueError) as exc:
            raise StepFailed(f"deployment {record.get('name')} does not answer: {exc}") from None
        if served != args.version:
            targets.append((record, served))
    return targets


async def _rollout_plan(ctx: StepContext, args: RolloutArgs) -> Plan:
    targets = await _rollout_targets(ctx, args)
    return Plan(
        changes=[
            f"deployment {r.get('name')} at {r.get('url')}: "
            f"serves v{served} → reload v{args.version}"
            for r, served in targets
        ],
        data={"deployments": [str(r.get("name")) for r, _ in targets]},
    )


def _reload_headers(ctx: StepContext, record: dict) -> dict[str, str]:
    """The deployment's reload token, kept beside its record in this home."""
    from commands.deploy_records import reload_headers
    from console.deployment_model import check_deployment_name

    try:
        name = check_deployment_name(str(record.get("name") or ""))
    except ValueError:
        return {}  # not a name deploy writes: no token file of ours to read
    return reload_headers(ctx.settings.home, name)


async def _rollout(ctx: StepContext, args: RolloutArgs) -> StepResult:
    import httpx

    changes = []
    for record, served in await _rollout_targets(ctx, args):
        url = str(record["url"]).rstrip("/")
        try:
            async with httpx.AsyncClient(timeout=args.timeout) as http:
                answer = await http.post(
                    f"{url}/reload",
                    json={"version": args.version},
                    headers=_reload_headers(ctx, record),
                )
            if answer.status_code >= 400:
                raise StepFailed(
                    f"{record.get('name')}: reload answered HTTP {answer.status_code}: "
                    f"{answer.text[:200]}"
                )
            now = str((await _served(url)).get("version"))
        except httpx.HTTPError as exc:
            raise StepFailed(f"{record.get('name')}: reload failed: {exc}") from None
        if now != args.version:
            raise StepFailed(f"{record.get('name')}: /version says v{now} after the reload")
        changes.append(f"{record.get('name')}: v{served} → v{now} (verified by /version)")
    return StepResult(
        summary=f"rolled out v{args.version} to {len(changes)} deployment(s)",
        changes=changes,
        data={"deployments": len(changes)},
    )


COMMANDS = [
    StepCommand(
        name="retrain.find_snapshot",
        kind="check",
        summary="the champion's pinned snapshot and the table's newest one",
        args_model=SnapshotArgs,
        run=_find_snapshot,
    ),
    StepCommand(
        name="retrain.train",
        kind="action",
        summary="train the champion's recipe on a snapshot and register a new version",
        args_model=TrainArgs,
        run=_train,
        plan=_train_plan,
    ),
    StepCommand(
        name="retrain.promote",
        kind="action",
        summary="move an alias through the promotion flow (gates, compare-and-set, audit)",
        args_model=PromoteArgs,
        run=_promote,
        plan=_promote_plan,
    ),
    StepCommand(
        name="retrain.probe",
        kind="check",
        summary="score the newest rows with the champion and the challenger; count disagreements",
        args_model=ProbeArgs,
        run=_probe,
    ),
    StepCommand(
        name="retrain.gates",
        kind="check",
        summary="the champion gates, evaluated for the challenger",
        args_model=GatesArgs,
        run=_gates,
    ),
    StepCommand(
        name="retrain.deployments",
        kind="check",
        summary="the embedded deployments of the model's alias",
        args_model=DeploymentArgs,
        run=_find_deployments,
    ),
    StepCommand(
        name="retrain.rollout",
        kind="action",
        summary="reload the deployments on the new version and verify /version",
        args_model=RolloutArgs,
        run=_rollout,
        plan=_rollout_plan,
    ),
]

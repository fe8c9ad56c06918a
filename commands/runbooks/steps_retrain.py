"""Step commands of the ``model-retrain`` runbook: newest snapshot, train, alias, probe, the
comparison on the same rows, promotion and rollout.

Training goes through the model's entry point in a process of its own: the demo's
``commands.demo.retrain`` for ``next-week-commits``, else the profile's ``training_commands``
(an argv with ``{tracking_uri}``, ``{model}``, ``{from_version}``, ``{snapshot_id}``, ``{table}``
and ``{home}`` filled in, printing one JSON line with ``version``). The entry point holds out the
newest labelled rows from the new model's training and scores the champion on the same rows,
logging the champion's score on the new run as ``METRIC.vN`` and the rows as ``holdout.window``;
``retrain.compare`` decides from those two scores (promote, or keep the champion), and a
promotion's metric gate is answered with them — the metrics each version logged at its own
training were measured on different rows and do not compare. Alias moves are promotions
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
            f"{args.model} v{version.version} pins no Iceberg snapshot: the retrain needs the "
            "champion's run to name its training data (params data.iceberg.table and "
            "data.iceberg.snapshot_id)",
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
    if newer and not has_training_entry_point(ctx.settings, args.model):
        raise StepFailed(
            f"{args.model} has no training entry point: the retrain needs "
            f"training_commands.{args.model} in the profile (see docs/guide/runbooks.md)",
            hint=(
                f"set training_commands.{args.model} to an argv that trains the recipe on "
                "{snapshot_id}, holds out the newest labelled rows, logs the champion's score on "
                "them as METRIC.v{from_version} and prints one JSON line with `version`"
            ),
        )
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


def has_training_entry_point(settings: Any, model: str) -> bool:
    return model == DEMO_MODEL or bool(settings.training_commands.get(model))


def training_argv(
    settings: Any, tracking_uri: str, args: TrainArgs, *, plan: bool = False
) -> list[str]:
    """The model's training entry point with its placeholders filled in (``plan``: the demo's
    entry point only says which rows it would hold out; a configured one has no plan mode)."""
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
            *(["--plan"] if plan else []),
        ]
    raise StepFailed(
        f"no training entry point for {args.model}",
        hint=f"set training_commands.{args.model} in the profile (see docs/guide/runbooks.md)",
    )


async def _already_trained(ctx: StepContext, args: TrainArgs) -> tuple[str, Any] | None:
    """(version, run) retrained from ``from_version`` on this snapshot (a resumed or repeated
    run)."""
    client = await ctx.mlflow()
    async for version in client.iter_model_versions(name=args.model, page_size=200):
        if version.tags.get(RETRAINED_FROM_TAG) != args.from_version or not version.run_id:
            continue
        run = await client.get_run(version.run_id)
        if run.params.get("data.iceberg.snapshot_id") == args.snapshot_id:
            return version.version, run
    return None


async def _train_plan(ctx: StepContext, args: TrainArgs) -> Plan:
    existing = await _already_trained(ctx, args)
    if existing:
        version, run = existing
        ctx.say(f"v{version} was already retrained from v{args.from_version} on this snapshot")
        text = run.params.get("holdout.window")
        return Plan(
            summary=(
                f"v{version} was already retrained from v{args.from_version} on this snapshot: "
                "reused, nothing to train"
            ),
            data={
                "version": version,
                "run_id": run.run_id,
                "reused": True,
                "window": {"text": text} if text else {},
            },
        )
    argv = training_argv(ctx.settings, await ctx.tracking_uri(), args)
    window = await _planned_window(ctx, args)
    rows = (
        f"hold out {window['text']} from its training, and score it and v{args.from_version} on "
        "those same rows"
        if window
        else "hold out the newest labelled rows (the training command names them) and score it "
        f"and v{args.from_version} on those same rows"
    )
    return Plan(
        changes=[
            f"train v{args.from_version}'s recipe on {args.table}@{args.snapshot_id} "
            f"({' '.join(argv[1:4]) if argv[0] == sys.executable else argv[0]}), {rows}; register "
            f"the run as a new version of {args.model}"
        ],
        data={"argv_head": argv[:3], "window": window},
    )


async def _planned_window(ctx: StepContext, args: TrainArgs) -> dict[str, Any] | None:
    """Which rows the training would hold out, from the entry point's plan mode (demo only)."""
    if ctx.settings.training_commands.get(args.model) or args.model != DEMO_MODEL:
        return None
    argv = training_argv(ctx.settings, await ctx.tracking_uri(), args, plan=True)
    code, doc, why = await _run_entry_point(ctx, argv, 120.0)
    if code != 0 or not isinstance(doc.get("window"), dict):
        raise StepFailed(f"cannot tell which rows the training would hold out: {why[:300]}")
    return doc["window"]


async def _run_entry_point(
    ctx: StepContext, argv: list[str], limit_s: float
) -> tuple[int | None, dict[str, Any], str]:
    """(exit code, its last JSON line, why it failed) of the training entry point."""
    from commands.probe_runner import child_env

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
        out, err = await asyncio.wait_for(proc.communicate(), limit_s)
    except (TimeoutError, asyncio.CancelledError, KeyboardInterrupt):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise
    doc: dict[str, Any] = {}
    for line in reversed(out.decode("utf-8", "replace").strip().splitlines()):
        with contextlib.suppress(ValueError):
            found = json.loads(line)
            if isinstance(found, dict):
                doc = found
                break
    why = doc.get("error") or (err.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
    return proc.returncode, doc, str(why)


async def _train(ctx: StepContext, args: TrainArgs) -> StepResult:
    argv = training_argv(ctx.settings, await ctx.tracking_uri(), args)
    ctx.say(f"training {args.model} on snapshot {args.snapshot_id} (a minute or so)")
    code, doc, why = await _run_entry_point(ctx, argv, TRAIN_TIMEOUT_S)
    if code != 0 or not doc.get("version"):
        raise StepFailed(f"training failed (exit {code}): {why[:300]}")
    version = str(doc["version"])
    metrics = doc.get("metrics") or {}
    shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if isinstance(v, float))
    findings = []
    window = doc.get("window")
    window = window if isinstance(window, dict) else {}
    if window.get("text"):
        findings.append(f"held out from its training and scored: {window['text']}")
    compared = doc.get("compared")
    compared = compared if isinstance(compared, dict) else {}
    theirs = compared.get("metrics") or {}
    if theirs:
        findings.append(
            f"v{compared.get('version')} on the same rows: "
            + ", ".join(f"{k}={v:.4f}" for k, v in sorted(theirs.items()) if isinstance(v, float))
        )
    lineage = doc.get("lineage")
    lineage = lineage if isinstance(lineage, dict) else {}
    if lineage:
        findings.append(
            f"lineage: {lineage.get('event_aspects', 0)} event and "
            f"{lineage.get('mlflow_aspects', 0)} MLflow aspect(s) written to {lineage.get('store')}"
        )
        for failure in lineage.get("failures") or []:
            ctx.driver.warn(f"lineage of v{version}: {failure}")
            findings.append(f"lineage failure: {failure}")
    return StepResult(
        summary=f"registered {args.model} v{version} (run {doc.get('run_id')}); {shown}",
        findings=findings,
        changes=[f"new version v{version} of {args.model} on snapshot {args.snapshot_id}"],
        data={
            "version": version,
            "run_id": doc.get("run_id"),
            "metrics": metrics,
            "window": window,
        },
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


class Comparison(BaseModel):
    """The challenger and the champion scored on the same held-out rows (the challenger's run)."""

    model: str
    challenger: str
    champion: str
    metric: str
    challenger_score: float
    champion_score: float
    higher_is_better: bool = True
    tolerance: float = 0.0
    window: str
    rows: str | None = None
    rows_in_champion_training: int = 0
    others: list[str] = []

    @property
    def worse(self) -> float:
        """How much worse the challenger scores (negative: better), in the metric's units."""
        if self.higher_is_better:
            return self.champion_score - self.challenger_score
        return self.challenger_score - self.champion_score

    @property
    def promote(self) -> bool:
        return self.worse <= self.tolerance

    def line(self) -> str:
        return (
            f"{self.metric} v{self.challenger} {self.challenger_score:.4f} vs v{self.champion} "
            f"{self.champion_score:.4f} on the same rows ({self.window})"
        )

    def gate(self) -> Any:
        """The metric gate's verdict for promoting the challenger over the champion."""
        from console.promotion_model import GateResult

        return GateResult(
            name="metric",
            status="passed" if self.promote else "failed",
            detail=(
                f"{self.metric} {self.challenger_score:.4g} vs holder v{self.champion} "
                f"{self.champion_score:.4g} on the same rows ({self.window}): "
                + (
                    ("not worse" if self.worse <= 0 else f"within the tolerance {self.tolerance:g}")
                    if self.promote
                    else "worse"
                )
            ),
        )


async def compare_on_same_rows(
    ctx: StepContext, model: str, challenger: str, champion: str, alias: str
) -> Comparison:
    """Read both scores on the same rows from the challenger's run; StepFailed when it has none.

    The metric and its direction are the metric gate's for ``alias`` (``[gates]``, else
    ``f1_macro``/``accuracy`` matched as a suffix); the champion's score is ``METRIC.vN``.
    """
    from commands.demo.retrain import compared_key
    from commands.gates import effective_gates, load_gates
    from commands.promote_gates import pick_metric
    from console.promotion_model import PromotionRequest

    client = await ctx.mlflow()
    version = await client.get_model_version(model, challenger)
    if not version.run_id:
        raise StepFailed(f"v{challenger} names no run: there are no scores to compare")
    run = await client.get_run(version.run_id)
    rules = effective_gates(
        PromotionRequest(model=model, version=challenger, alias=alias), load_gates()
    )
    metric = pick_metric(run, rules.metric)
    ours = run.metric_value(metric) if metric else None
    theirs = run.metric_value(compared_key(metric, champion)) if metric else None
    window = run.params.get("holdout.window")
    if metric is None or ours is None or theirs is None or not window:
        needs = compared_key(metric or "METRIC", champion)
        raise StepFailed(
            f"v{challenger}'s run has no score of v{champion} on its held-out rows ({needs} and "
            "the holdout.window param): its training entry point must score the champion on "
            "the rows it held out",
            hint=(
                "the demo's entry point does this; a training_commands entry point must log the "
                f"champion's {metric or 'primary metric'} on the held-out rows as {needs} and "
                "name the rows in the param holdout.window (see docs/guide/runbooks.md)"
            ),
        )
    others = []
    for key in sorted(run.metrics):
        theirs_too = run.metric_value(compared_key(key, champion))
        value = run.metric_value(key)
        if key != metric and theirs_too is not None and value is not None:
            others.append(f"{key}: v{challenger} {value:.4f}, v{champion} {theirs_too:.4f}")
    overlap = run.params.get("holdout.rows_in_champion_training") or "0"
    return Comparison(
        model=model,
        challenger=challenger,
        champion=champion,
        metric=metric,
        challenger_score=float(ours),
        champion_score=float(theirs),
        higher_is_better=rules.higher_is_better,
        tolerance=rules.tolerance,
        window=window,
        rows=run.params.get("holdout.rows"),
        rows_in_champion_training=int(overlap) if overlap.isdigit() else 0,
        others=others,
    )


async def _promotion_plan(ctx: StepContext, request: Any) -> Any:
    """The promotion's plan, its metric gate answered on the same rows when the candidate's run
    scored the alias's holder on its held-out rows (the logged metrics of two trainings were
    measured on different rows). The other gates run as usual."""
    import dataclasses

    from commands.gates import GateRule, GatesConfig, TargetRules, effective_gates
    from commands.promote import build_plan
    from commands.runbooks.steps_registry import _promote_context, _Quiet

    pctx = await _promote_context(ctx)
    rules = effective_gates(request, pctx.gates)
    client = await ctx.mlflow()
    holder = (await client.get_registered_model(request.model)).aliases.get(request.alias or "")
    comparison = None
    if "metric" in rules.require and holder and holder != request.version:
        with contextlib.suppress(StepFailed):
            comparison = await compare_on_same_rows(
                ctx, request.model, request.version, holder, request.alias or ""
            )
    if comparison is None:
        return await build_plan(pctx, request, ctx.driver)
    # the other gates, run as configured; then the metric gate's verdict on the same rows
    config = pctx.gates or GatesConfig()
    per_model = config.models.get(request.model) or TargetRules()
    rule = (per_model.alias.get(request.alias or "") or GateRule()).model_copy(
        update={"require": [g for g in rules.require if g != "metric"]}
    )
    per_model = per_model.model_copy(update={"alias": {**per_model.alias, request.alias: rule}})
    without_metric = config.model_copy(
        update={"models": {**config.models, request.model: per_model}}
    )
    first = await build_plan(dataclasses.replace(pctx, gates=without_metric), request, ctx.driver)
    if first.noop or (first.refusal and not first.gates):
        return first  # nothing to do, or refused before any gate (permission, the alias moved)
    gate = comparison.gate()
    ctx.say(f"gate metric: {gate.status} — {gate.detail}")
    by_name = {g.name: g for g in [*first.gates, gate]}
    gates = [by_name[name] for name in rules.require if name in by_name]
    return await build_plan(pctx, request, _Quiet(ctx.driver), gates=gates)


async def _promote_plan(ctx: StepContext, args: PromoteArgs) -> Plan:
    request = _request(args)
    plan = await _promotion_plan(ctx, request)
    if plan.noop:
        return Plan(data={"version": args.version})
    line = f"{args.model}: {plan.before.describe(request)} → {plan.after.describe(request)}"
    gates = ", ".join(f"{g.name} {g.status}" for g in plan.gates)
    if gates:
        line += f" (gates: {gates})"
    if plan.refusal:
        line += f" — WILL BE REFUSED: {plan.refusal}"
    return Plan(
        changes=[line],
        typed_confirmation=plan.typed_confirmation,
        data={"version": args.version},
        carry=plan,
    )


async def _promote(ctx: StepContext, args: PromoteArgs) -> StepResult:
    """Carry out the plan the operator confirmed, with its gate verdicts (not run again)."""
    from commands.promote import build_plan, carry_out
    from commands.runbooks.steps_registry import _promote_context, _Quiet

    if ctx.plan is None or ctx.plan.carry is None:
        raise StepFailed("retrain.promote acts only on a plan the operator confirmed")
    confirmed = ctx.plan.carry
    pctx = await _promote_context(ctx)
    driver = _Quiet(ctx.driver)
    plan = await build_plan(pctx, confirmed.request, driver, gates=confirmed.gates)
    result = await carry_out(pctx, plan, driver, confirmed=True)
    if result.outcome not in {"succeeded", "noop"}:
        raise StepFailed(f"{result.outcome}: {result.message}")
    return StepResult(
        summary=f"{args.model}@{args.alias} → v{args.version}: {result.message}",
        changes=[result.message],
        findings=[f"gate {g.name}: {g.status} — {g.detail}" for g in plan.gates],
        data={"version": args.version, "audit_id": result.audit_id},
    )


async def _describe_promote(ctx: StepContext, raw: dict[str, Any]) -> StepResult:
    from commands.gates import effective_gates, load_gates
    from console.promotion_model import PROTECTED_ALIASES, PromotionRequest

    model, alias, version = raw.get("model"), raw.get("alias"), raw.get("version")
    expect = raw.get("expect")
    required: list[str] = []
    with contextlib.suppress(Exception):
        probe = PromotionRequest(model=str(model), version="1", alias=str(alias))
        required = list(effective_gates(probe, load_gates()).require)
    gates = ", ".join(required) or "no"
    if "metric" in required:
        gates += " (the metric gate answered on the rows the challenger was held out from)"
    cas = f" if it still points at v{expect}" if expect and str(expect) != "None" else ""
    typed = " (asks you to type the model name)" if alias in PROTECTED_ALIASES else ""
    return StepResult(
        summary=f"would alias {version} as {alias} of {model}{cas}",
        changes=[
            f"set alias {alias} of {model} to {version} through the promotion flow: gates "
            f"{gates}, compare-and-set, tags, audit{typed}"
        ],
    )


class CompareArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    champion: str
    challenger: str
    alias: str = "champion"
    # what the train step said of the rows (for the description only; the decision reads the
    # challenger's run)
    window: dict[str, Any] = {}


async def _compare(ctx: StepContext, args: CompareArgs) -> StepResult:
    found = await compare_on_same_rows(ctx, args.model, args.challenger, args.champion, args.alias)
    findings = [f"rows: {found.window}", *found.others]
    if found.rows_in_champion_training:
        findings.append(
            f"warning: v{args.champion} trained on {found.rows_in_champion_training} of these "
            "rows, which favours it"
        )
    if found.promote:
        why = (
            "it scores at least as well"
            if found.worse <= 0
            else f"it is worse by {found.worse:.4f}, within the tolerance {found.tolerance:g}"
        )
        summary = f"promote v{args.challenger}: {why} — {found.line()}"
        verdict = (
            f"v{args.challenger} scores {found.metric} {found.challenger_score:.4f} against "
            f"v{args.champion}'s {found.champion_score:.4f} on the same rows"
        )
    else:
        summary = (
            f"keep champion v{args.champion}: it scores better on the same rows — {found.line()}"
        )
        verdict = (
            f"v{args.champion} scores better on the same rows ({found.metric} "
            f"{found.champion_score:.4f} vs v{args.challenger}'s {found.challenger_score:.4f})"
        )
    return StepResult(
        summary=summary,
        findings=findings,
        data={
            "promote": found.promote,
            "decision": "promote" if found.promote else "keep",
            "verdict": verdict,
            "metric": found.metric,
            "challenger_score": found.challenger_score,
            "champion_score": found.champion_score,
            "window": found.window,
        },
    )


async def _describe_compare(ctx: StepContext, raw: dict[str, Any]) -> StepResult:
    window = raw.get("window")
    rows = (
        window.get("text")
        if isinstance(window, dict) and window.get("text")
        else "the rows the train step holds out"
    )
    return StepResult(
        summary=(
            f"would compare {raw.get('challenger')} with v{raw.get('champion')} on the same "
            f"rows — {rows} — by the {raw.get('alias')} metric gate's metric: promote it when it "
            f"is not worse, else keep v{raw.get('champion')}"
        )
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
        request = probe_request(
            await ctx.tracking_uri(), right, left, sources, tolerance=ctx.settings.probe_tolerance
        )
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


async def _describe_probe(ctx: StepContext, raw: dict[str, Any]) -> StepResult:
    share = raw.get("max_disagreement")
    stop = (
        f"; stop when they disagree on more than {float(share):.0%} of the rows"
        if isinstance(share, int | float) and share < 1
        else ""
    )
    return StepResult(
        summary=(
            f"would score the newest held-out rows with v{raw.get('champion')} and "
            f"{raw.get('challenger')} and count their disagreements{stop}"
        )
    )


async def _describe_gates(ctx: StepContext, raw: dict[str, Any]) -> StepResult:
    return StepResult(
        summary=(
            f"would run the {raw.get('alias')} gates for {raw.get('version')} (the metric gate on "
            "the rows it was held out from)"
        )
    )


class GatesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    version: str
    alias: str = "champion"


async def _gates(ctx: StepContext, args: GatesArgs) -> StepResult:
    from console.promotion_model import PromotionRequest

    request = PromotionRequest(model=args.model, version=args.version, alias=args.alias)
    plan = await _promotion_plan(ctx, request)
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


async def _describe_deployments(ctx: StepContext, raw: dict[str, Any]) -> StepResult:
    model, alias = str(raw.get("model")), raw.get("alias")
    try:
        names = [
            str(d.get("name")) for d in _deployments(ctx, model) if d.get("alias") in (alias, None)
        ]
    except OSError:
        names = []
    now = f"now: {', '.join(names)}" if names else "none now"
    return StepResult(summary=f"would find the embedded deployments of {model}@{alias} ({now})")


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


async def _describe_rollout(ctx: StepContext, raw: dict[str, Any]) -> StepResult:
    import httpx

    model, alias, version = (
        str(raw.get("model")),
        raw.get("alias") or "champion",
        raw.get("version"),
    )
    changes = []
    for record in _deployments(ctx, model):
        if record.get("alias") not in (alias, None):
            continue
        try:
            served = f"v{(await _served(str(record['url']))).get('version')}"
        except (httpx.HTTPError, ValueError, KeyError):
            served = "a version it does not tell (not answering now)"
        changes.append(
            f"deployment {record.get('name')} at {record.get('url')}: serves {served} → reload "
            f"{version}, verified by GET /version"
        )
    return StepResult(
        summary=f"would reload each deployment of {model}@{alias} on {version}",
        changes=changes,
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
        outputs={
            "newer": "the {step} step finds a newer snapshot",
            "champion_version": "the champion version the {step} step reads",
        },
    ),
    StepCommand(
        name="retrain.train",
        kind="action",
        summary="train the champion's recipe on a snapshot and register a new version",
        args_model=TrainArgs,
        run=_train,
        plan=_train_plan,
        outputs={
            "version": "the version the {step} step registers",
            "run_id": "the run the {step} step logs",
            "window": "the rows the {step} step holds out",
        },
    ),
    StepCommand(
        name="retrain.promote",
        kind="action",
        summary="move an alias through the promotion flow (gates, compare-and-set, audit)",
        args_model=PromoteArgs,
        run=_promote,
        plan=_promote_plan,
        outputs={"version": "the version the {step} step moves the alias to"},
        describe=_describe_promote,
    ),
    StepCommand(
        name="retrain.probe",
        kind="check",
        summary="score the newest rows with the champion and the challenger; count disagreements",
        args_model=ProbeArgs,
        run=_probe,
        describe=_describe_probe,
    ),
    StepCommand(
        name="retrain.compare",
        kind="check",
        summary=(
            "compare the challenger and the champion on the same held-out rows: promote or keep"
        ),
        args_model=CompareArgs,
        run=_compare,
        outputs={
            "promote": "the {step} step chooses to promote",
            "decision": "the decision of the {step} step",
            "verdict": "the verdict of the {step} step",
        },
        describe=_describe_compare,
    ),
    StepCommand(
        name="retrain.gates",
        kind="check",
        summary="the champion gates, evaluated for the challenger",
        args_model=GatesArgs,
        run=_gates,
        describe=_describe_gates,
    ),
    StepCommand(
        name="retrain.deployments",
        kind="check",
        summary="the embedded deployments of the model's alias",
        args_model=DeploymentArgs,
        run=_find_deployments,
        outputs={"count": "the {step} step finds a deployment to roll out to"},
        describe=_describe_deployments,
    ),
    StepCommand(
        name="retrain.rollout",
        kind="action",
        summary="reload the deployments on the new version and verify /version",
        args_model=RolloutArgs,
        run=_rollout,
        plan=_rollout_plan,
        describe=_describe_rollout,
    ),
]

"""Step commands for a stuck Model Registry: find the problems, check permission, repair.

Problems: versions stuck in PENDING_REGISTRATION / FAILED_REGISTRATION, an alias on an archived,
deleted, not-ready or file-less version, serving versions whose model files are gone, an alias
and its stage disagreeing, and no permission to fix any of it. Every repair is a promotion
(``commands.promote``): the same plan, gates, compare-and-set, verification, tags and audit
record as ``mlops-console promote``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from commands.runbooks.context import StepContext, StepFailed
from commands.runbooks.registry import Plan, StepCommand, StepResult

STUCK = frozenset({"PENDING_REGISTRATION", "FAILED_REGISTRATION"})
SERVING_STAGES = frozenset({"Staging", "Production"})

ProblemKind = Literal[
    "stuck_version", "alias_on_unusable", "files_missing", "stage_alias_disagree", "permission"
]


class RegistryProblem(BaseModel):
    kind: ProblemKind
    model: str
    message: str
    version: str | None = None
    alias: str | None = None
    stage: str | None = None
    # the version an alias should move to (or the stage's rightful holder)
    fix_version: str | None = None


def parse_alias_stages(text: str | None) -> dict[str, str]:
    """``"champion=Production,prod=Staging"`` -> {alias: stage}."""
    from console.promotion_model import canonical_stage

    pairs: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        alias, sep, stage = item.partition("=")
        if not sep:
            raise ValueError(f"{item!r} is not ALIAS=STAGE")
        pairs[alias.strip()] = canonical_stage(stage.strip())
    return pairs


class FindArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    alias_stages: str | None = None
    fail_if_found: bool = False

    @field_validator("alias_stages")
    @classmethod
    def _pairs(cls, value: str | None) -> str | None:
        parse_alias_stages(value)
        return value


async def _model_names(client: Any, model: str | None) -> list[str]:
    if model:
        return [model]
    return sorted([m.name async for m in client.iter_registered_models(page_size=1000)])


async def _files_problem(client: Any, name: str, version: str) -> str | None:
    """Why the version's model files cannot be served, or None when ``MLmodel`` is there."""
    from console.mlflow.errors import MlflowError

    try:
        files = await client.get_model_files(name, version)
    except MlflowError as exc:
        return f"its model files cannot be read: {exc.message}"
    if "MLmodel" in files.missing:
        return "its model files are missing from the artifact store (no MLmodel)"
    return None


async def _problems_of_model(
    client: Any, name: str, alias_stages: dict[str, str]
) -> tuple[list[RegistryProblem], dict[str, Any]]:
    model = await client.get_registered_model(name)
    versions = {
        v.version: v
        async for v in client.iter_model_versions(name=name, page_size=1000, with_aliases=False)
    }
    problems: list[RegistryProblem] = []
    files_cache: dict[str, str | None] = {}

    async def files(version: str) -> str | None:
        if version not in files_cache:
            files_cache[version] = await _files_problem(client, name, version)
        return files_cache[version]

    async def unusable(version: str) -> str | None:
        found = versions.get(version)
        if found is None:
            return "that version does not exist (deleted)"
        if (found.current_stage or "None") == "Archived":
            return "that version is archived"
        if (found.status or "READY") != "READY":
            return f"that version is {found.status}, not READY"
        return await files(version)

    async def fallback(exclude: set[str]) -> str | None:
        for number in sorted(versions, key=int, reverse=True):
            if number not in exclude and await unusable(number) is None:
                return number
        return None

    alias_targets: dict[str, str] = {}
    broken_aliases: set[str] = set()
    for alias, version in sorted(model.aliases.items()):
        why = await unusable(version)
        if why is None:
            alias_targets[alias] = version
            continue
        broken_aliases.add(version)
        target = await fallback({version})
        alias_targets[alias] = target or version
        problems.append(
            RegistryProblem(
                kind="alias_on_unusable",
                model=name,
                alias=alias,
                version=version,
                fix_version=target,
                message=f"{name}: alias {alias} → v{version}, but {why}"
                + (
                    f"; v{target} is the newest usable version" if target else "; no usable version"
                ),
            )
        )
    for number, v in sorted(versions.items(), key=lambda kv: int(kv[0])):
        stage = v.current_stage or "None"
        if v.status in STUCK and stage != "Archived":
            problems.append(
                RegistryProblem(
                    kind="stuck_version",
                    model=name,
                    version=number,
                    message=f"{name} v{number} is stuck in {v.status}"
                    + (f" ({v.status_message})" if v.status_message else ""),
                )
            )
        elif stage in SERVING_STAGES and number not in broken_aliases:
            why = await files(number)
            if why:
                problems.append(
                    RegistryProblem(
                        kind="files_missing",
                        model=name,
                        version=number,
                        stage=stage,
                        message=f"{name} v{number} is in {stage}, but {why}",
                    )
                )
    for alias, stage in alias_stages.items():
        target = alias_targets.get(alias)
        if target is None:
            continue
        holders = sorted(
            (n for n, v in versions.items() if (v.current_stage or "None") == stage), key=int
        )
        if holders != [target]:
            shown = ", ".join(f"v{h}" for h in holders) or "no version"
            problems.append(
                RegistryProblem(
                    kind="stage_alias_disagree",
                    model=name,
                    alias=alias,
                    stage=stage,
                    version=target,
                    fix_version=target,
                    message=f"{name}: alias {alias} → v{target}, but stage {stage} holds {shown}",
                )
            )
    facts = {
        "aliases": dict(model.aliases),
        "versions": {
            n: {"status": v.status, "stage": v.current_stage or "None"} for n, v in versions.items()
        },
    }
    return problems, facts


async def find_problems(ctx: StepContext, args: FindArgs) -> tuple[list[RegistryProblem], dict]:
    client = await ctx.mlflow()
    pairs = parse_alias_stages(args.alias_stages)
    problems: list[RegistryProblem] = []
    facts: dict[str, Any] = {}
    for name in await _model_names(client, args.model):
        ctx.say(f"checking {name}")
        found, facts[name] = await _problems_of_model(client, name, pairs)
        problems += found
    return problems, facts


def _result(problems: list[RegistryProblem], facts: dict, fail_if_found: bool) -> StepResult:
    models = sorted({p.model for p in problems})
    summary = (
        f"{len(problems)} problem(s) in {', '.join(models)}"
        if problems
        else f"no problems in {len(facts)} model(s)"
    )
    return StepResult(
        ok=not (fail_if_found and problems),
        summary=summary,
        findings=[p.message for p in problems],
        data={
            "problems": [p.model_dump() for p in problems],
            "count": len(problems),
            "models": models,
            "registry": facts,
        },
    )


async def _find(ctx: StepContext, args: FindArgs) -> StepResult:
    problems, facts = await find_problems(ctx, args)
    return _result(problems, facts, args.fail_if_found)


# --- permission -----------------------------------------------------------------------------------


class PermissionArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(default_factory=list)


async def _permission(ctx: StepContext, args: PermissionArgs) -> StepResult:
    client = await ctx.mlflow()
    findings, denied, unknown = [], [], []
    for name in args.models:
        permission = await client.can_edit_model(name)
        findings.append(permission.reason)
        if permission.allowed is False:
            denied.append(name)
        elif permission.allowed is None:
            unknown.append(name)
    if denied:
        return StepResult(
            ok=False,
            summary=f"no permission to change {', '.join(denied)}",
            findings=findings,
            data={"denied": denied, "unknown": unknown},
        )
    summary = "may change every affected model" if args.models else "no models to change"
    if unknown:
        summary += f" (the server cannot tell for {', '.join(unknown)})"
    return StepResult(summary=summary, findings=findings, data={"denied": [], "unknown": unknown})


# --- repair through the promotion flow -----------------------------------------------------------


class RepairArgs(FindArgs):
    fallback_version: str | None = None
    reason: str = "runbook model-registry-promotion-stuck"


def _requests(problems: list[RegistryProblem], args: RepairArgs) -> list[Any]:
    """Promotion requests that fix ``problems``: alias moves, then archives, then stages."""
    from console.promotion_model import PromotionRequest

    moves, archives, stages = [], [], []
    for p in problems:
        if p.kind == "alias_on_unusable":
            target = args.fallback_version or p.fix_version
            if target:
                moves.append(
                    PromotionRequest(
                        model=p.model,
                        version=target,
                        alias=p.alias,
                        expect=p.version,
                        reason=f"{args.reason}: {p.message}",
                    )
                )
        elif p.kind in {"stuck_version", "files_missing"}:
            assert p.version is not None  # these problems are about one version
            archives.append(
                PromotionRequest(
                    model=p.model,
                    version=p.version,
                    stage="Archived",
                    reason=f"{args.reason}: {p.message}",
                )
            )
        elif p.kind == "stage_alias_disagree":
            assert p.fix_version is not None  # the problem names the version to fix it with
            stages.append(
                PromotionRequest(
                    model=p.model,
                    version=p.fix_version,
                    stage=p.stage,
                    archive_others=True,
                    reason=f"{args.reason}: {p.message}",
                )
            )
    return moves + archives + stages


async def _promote_context(ctx: StepContext):
    from commands.promote import PromoteContext

    client = await ctx.mlflow()
    return PromoteContext.from_settings(ctx.settings, client, await ctx.tracking_uri())


async def _repair_plan(ctx: StepContext, args: RepairArgs) -> Plan:
    from commands.promote import build_plan

    problems, _ = await find_problems(ctx, args)
    requests = _requests(problems, args)
    unfixable = [
        p.message
        for p in problems
        if p.kind == "alias_on_unusable" and not (args.fallback_version or p.fix_version)
    ]
    if not requests:
        return Plan(data={"requests": [], "unfixable": unfixable})
    pctx = await _promote_context(ctx)
    changes, typed, plans = [], None, []
    for request in requests:
        plan = await build_plan(pctx, request, ctx.driver)
        plans.append(plan)
        line = f"{request.model}: {plan.before.describe(request)} → {plan.after.describe(request)}"
        gates = ", ".join(f"{g.name} {g.status}" for g in plan.gates)
        if gates:
            line += f" (gates: {gates})"
        if plan.refusal:
            line += f" — WILL BE REFUSED: {plan.refusal}"
        changes.append(line)
        typed = typed or plan.typed_confirmation
    changes += [f"cannot fix: {m}" for m in unfixable]
    return Plan(
        changes=changes,
        typed_confirmation=typed,
        data={
            "requests": [r.model_dump(mode="json") for r in requests],
            "unfixable": unfixable,
        },
        carry=plans,
    )


class _Quiet:
    """Passes progress on; promotion plans are summarised in the step's own output instead."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.inner.progress(message, fraction=fraction)

    def warn(self, message: str) -> None:
        self.inner.warn(message)

    def output(self, item: Any) -> None:
        return None

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        return False  # never reached: the runbook's own confirmation covered these plans


class _Confirmed(_Quiet):
    """The runbook already showed and confirmed the promotion; typed prompts still go through."""

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        if typed is None:
            return True
        return await self.inner.confirm(prompt, typed=typed)


async def _repair(ctx: StepContext, args: RepairArgs) -> StepResult:
    """Carry out the plans the operator confirmed once (no second prompt, no second gate run).

    Each promotion is planned again from the registry as it is now — the earlier repairs of this
    step change what later ones compare with (archiving v4 adds to the Archived holders that the
    archive of v5 is conditioned on) — with the confirmed gate verdicts, then compare-and-set,
    written, verified, tagged and audited by ``commands.promote``. An alias that moved since the
    confirmation is refused (each alias move expects the version the operator saw).
    """
    from commands.promote import build_plan, carry_out

    if ctx.plan is None or ctx.plan.carry is None:
        raise StepFailed("registry.repair acts only on a plan the operator confirmed")
    plans = list(ctx.plan.carry)
    pctx = await _promote_context(ctx)
    changes, failures, audit_ids = [], [], []
    driver = _Quiet(ctx.driver)
    for confirmed in plans:
        request = confirmed.request
        plan = await build_plan(pctx, request, driver, gates=confirmed.gates)
        result = await carry_out(pctx, plan, driver, confirmed=True)
        line = f"{request.model}: {result.message}"
        ctx.say(line)
        if result.audit_id:
            audit_ids.append(result.audit_id)
        if result.outcome in {"succeeded", "noop"}:
            changes.append(line)
        else:
            failures.append(f"{result.outcome}: {line}")
    data = {"promotion_audit_ids": audit_ids, "failures": failures}
    if failures:
        raise StepFailed(
            f"{len(failures)} of {len(plans)} repairs did not go through: {failures[0]}"
        )
    return StepResult(
        summary=f"{len(changes)} promotion(s) applied through the promotion flow",
        changes=changes,
        data=data,
    )


COMMANDS = [
    StepCommand(
        name="registry.find_problems",
        kind="check",
        summary="stuck versions, misdirected aliases, missing model files, alias/stage mismatch",
        args_model=FindArgs,
        run=_find,
    ),
    StepCommand(
        name="registry.check_permission",
        kind="check",
        summary="whether the operator may change the given registered models",
        args_model=PermissionArgs,
        run=_permission,
    ),
    StepCommand(
        name="registry.repair",
        kind="action",
        summary="fix the registry problems through the promotion flow (gates, audit)",
        args_model=RepairArgs,
        run=_repair,
        plan=_repair_plan,
    ),
]

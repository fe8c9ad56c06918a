"""Promotions: set, move or remove an alias, or transition a stage — one guarded flow for all.

plan (before → after, gates, who, writes) → shown through the driver → explicit confirmation →
the model's promotion lease on the server (``commands.promote_lease``; plus a lock file between
consoles sharing a home) → compare-and-set (re-read just before writing; refuse if the target
moved) → intent record → write → re-read to verify → wait the settle time and verify again →
version tags and the outcome record → lease released → result. MLflow has no server-side
compare-and-set: a writer that ignores the lease (or outlasts the settle time) and lands after us
is seen by one of the two verifications, and the promotion is reported and audited as a lost race
(superseded). An intent without an outcome (a killed console) is resolved from the server at the
next promotion (``resolve_interrupted``).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from commands.driver import Driver
from commands.gates import GatesConfig, effective_gates
from commands.promote_gates import GateInputs, evaluate
from commands.promote_lease import LeaseBusy, LeaseTiming, SeenLease, held, holder_name, home_id
from console.audit import AuditFilter, AuditLog, AuditRecord, AuditUnavailable, identify
from console.errors import ConsoleError, ReadOnlyError
from console.model import ModelVersion
from console.private_files import private_dir
from console.promotion_model import (
    GateResult,
    Outcome,
    PromotionPlan,
    PromotionRequest,
    PromotionResult,
    RegistryView,
    RunAllGates,
    plan_lines,
)

TAG_PREFIX = "mlops."
LOCK_TIMEOUT_S = 30.0


@dataclass
class PromoteContext:
    """What the flow needs besides the request: a client, where to audit, gate settings."""

    client: Any
    tracking_uri: str
    audit: AuditLog
    gates: GatesConfig | None = None
    settings: Any = None
    read_only: bool = False
    lock_dir: Path | None = None
    lock_timeout: float = LOCK_TIMEOUT_S
    child_env: dict[str, str] = field(default_factory=dict)
    lease: LeaseTiming = field(default_factory=LeaseTiming)
    # the console home: names this home in the lease (a dead console's lease is taken over)
    home: Path | None = None

    @classmethod
    def from_settings(
        cls, settings: Any, client: Any, tracking_uri: str, *, gates: GatesConfig | None = None
    ) -> PromoteContext:
        from commands.gates import load_gates

        audit = AuditLog.for_settings(settings)
        return cls(
            client=client,
            tracking_uri=tracking_uri,
            audit=audit,
            gates=gates if gates is not None else load_gates(),
            settings=settings,
            read_only=settings.read_only,
            lock_dir=audit.directory / "locks",
            child_env=credentials_env(settings),
            lease=LeaseTiming(settle=settings.promotion_settle_seconds),
            home=Path(settings.home),
        )


def credentials_env(settings: Any) -> dict[str, str]:
    """The server credentials as MLflow's own environment variables, for the gate process."""
    env: dict[str, str] = {}
    if settings.tracking_username:
        env["MLFLOW_TRACKING_USERNAME"] = settings.tracking_username
    for name, var in (
        ("tracking_password", "MLFLOW_TRACKING_PASSWORD"),
        ("tracking_token", "MLFLOW_TRACKING_TOKEN"),
    ):
        value = getattr(settings, name)
        if value is not None:
            env[var] = value.get_secret_value()
    if settings.tracking_insecure_tls:
        env["MLFLOW_TRACKING_INSECURE_TLS"] = "true"
    for name, var in (
        ("tracking_server_cert_path", "MLFLOW_TRACKING_SERVER_CERT_PATH"),
        ("tracking_client_cert_path", "MLFLOW_TRACKING_CLIENT_CERT_PATH"),
    ):
        if getattr(settings, name):
            env[var] = str(getattr(settings, name))
    return env


# --- reading the registry ----------------------------------------------------------------------


async def read_view(client: Any, request: PromotionRequest) -> tuple[RegistryView, ModelVersion]:
    """The target's state now, and the candidate version (NotFound if it does not exist)."""
    if request.alias is not None:
        model, candidate = await asyncio.gather(
            client.get_registered_model(request.model),
            client.get_model_version(request.model, request.version),
        )
        view = RegistryView(
            alias_holder=model.aliases.get(request.alias), version_stage=candidate.current_stage
        )
        return view, candidate
    candidate = await client.get_model_version(request.model, request.version)
    in_stage = [
        v.version
        async for v in client.iter_model_versions(
            name=request.model, page_size=1000, with_aliases=False
        )
        if (v.current_stage or "None") == request.stage
    ]
    none = request.stage == "None"
    view = RegistryView(
        version_stage=candidate.current_stage or "None",
        # stage None has no holders (any number of versions are in it): counted, not compared
        stage_holders=[] if none else sorted(in_stage, key=int),
        stage_count=len(in_stage) if none else None,
    )
    return view, candidate


def _cas_key(view: RegistryView, request: PromotionRequest) -> tuple:
    if request.alias is not None:
        return (view.alias_holder,)
    return (view.version_stage or "None", tuple(view.stage_holders))


def _holder(view: RegistryView, request: PromotionRequest) -> str | None:
    return view.alias_holder if request.alias is not None else view.stage_holder


def _predicted(view: RegistryView, request: PromotionRequest) -> RegistryView:
    if request.action == "set_alias":
        return view.model_copy(update={"alias_holder": request.version})
    if request.action == "remove_alias":
        return view.model_copy(update={"alias_holder": None})
    if request.stage == "None":
        count = view.stage_count
        if count is not None and view.version_stage != "None":
            count += 1  # the version joins the others in None
        return RegistryView(version_stage="None", stage_count=count)
    if request.archive_others:
        holders = [request.version]
    else:
        holders = sorted({*view.stage_holders, request.version}, key=int)
    return RegistryView(version_stage=request.stage, stage_holders=holders)


def _reached(view: RegistryView, request: PromotionRequest) -> bool:
    """Whether the registry shows what the request wanted."""
    if request.action == "set_alias":
        return view.alias_holder == request.version
    if request.action == "remove_alias":
        return view.alias_holder != request.version
    if view.version_stage != request.stage:
        return False
    return not request.archive_others or view.stage_holders in ([request.version], [])


def _others(view: RegistryView, request: PromotionRequest) -> list[str]:
    if not request.archive_others or request.stage in ("None", "Archived"):
        return []
    return [v for v in view.stage_holders if v != request.version]


def _writes(view: RegistryView, request: PromotionRequest) -> list[str]:
    m, v = request.model, request.version
    if request.action == "set_alias":
        return [f"POST registered-models/alias {m} {request.alias} → v{v}"]
    if request.action == "remove_alias":
        return [f"DELETE registered-models/alias {m} {request.alias}"]
    writes = [f"POST model-versions/transition-stage {m} v{v} → {request.stage}"]
    writes += [
        f"POST model-versions/transition-stage {m} v{o} → Archived" for o in _others(view, request)
    ]
    return writes


# --- the flow ----------------------------------------------------------------------------------


async def build_plan(
    ctx: PromoteContext,
    request: PromotionRequest,
    driver: Driver,
    *,
    gates: list[GateResult] | None = None,
) -> PromotionPlan:
    """Read who, what may be done and the registry; evaluate the gates. Writes nothing.

    ``gates``: verdicts the operator already confirmed for this request (a runbook re-reads the
    registry before each of its promotions but does not run the gates a second time).
    """
    client = ctx.client
    driver.progress(f"reading {request.target} of {request.model} on {client.server}")
    actor, permission, (view, candidate) = await asyncio.gather(
        identify(client), client.can_edit_model(request.model), read_view(client, request)
    )
    holder = _holder(view, request)
    expected = request.expect or (holder or "none")
    plan = PromotionPlan(
        request=request,
        server=client.server,
        actor=actor,
        permission=permission.reason,
        before=view,
        after=_predicted(view, request),
        expected=expected,
        version_status=candidate.status,
        writes=_writes(view, request),
    )
    if permission.allowed is False:
        plan.refusal = f"permission: {permission.reason}"
        return plan
    if permission.allowed is None:
        driver.warn(f"{permission.reason}; trying anyway")
    if (holder or "none") != expected:
        now = f"v{holder}" if holder else "no version"
        plan.refusal = (
            f"{request.target} moved: you expected "
            f"{'no version' if expected == 'none' else 'v' + expected}, it is {now} now"
        )
        return plan
    if request.action == "remove_alias" and holder != request.version:
        if holder is None:
            plan.noop = True
        else:
            plan.refusal = f"alias {request.alias} points at v{holder}, not v{request.version}"
        return plan
    if _reached(view, request) and request.action != "remove_alias":
        plan.noop = True
        plan.writes = []
        return plan
    if request.promoting and gates is not None:
        plan.gates = list(gates)
    elif request.promoting:
        rules = effective_gates(request, ctx.gates)
        if rules.require:
            driver.progress(f"checking gates: {', '.join(rules.require)}")
            inputs = GateInputs(
                client=client,
                request=request,
                candidate=candidate,
                holder=_other_holder(view, request),
                tracking_uri=ctx.tracking_uri,
                settings=ctx.settings,
                child_env=ctx.child_env,
            )
            plan.gates = await evaluate(inputs, rules, driver, all_gates=request.all_gates)
    if request.promoting:
        failed = plan.failed_gates
        if failed and not request.force:
            names = ", ".join(g.name for g in failed)
            # no way to override in the text: the CLI adds its flags (``CLI_OVERRIDE_HINT``), the
            # TUI offers its override form
            unchecked = ", ".join(g.name for g in plan.not_run_gates)
            also = f"; not run: {unchecked}" if unchecked else ""
            plan.refusal = f"gate(s) failed: {names}{also}"
            plan.overridable = True
    if request.protected and plan.refusal is None:
        plan.typed_confirmation = request.model
    return plan


def forced_plan(plan: PromotionPlan, reason: str) -> PromotionPlan:
    """``plan`` as ``--force --reason`` would have built it: the failed gates kept, overridden.

    The gates are not run again: the operator overrides the verdicts they just read.
    """
    request = PromotionRequest.model_validate(
        {**plan.request.model_dump(), "force": True, "reason": reason}
    )
    return plan.model_copy(
        update={
            "request": request,
            "refusal": None,
            "overridable": False,
            "typed_confirmation": request.model if request.protected else None,
        }
    )


def _other_holder(view: RegistryView, request: PromotionRequest) -> str | None:
    """The version the candidate is compared with: the current holder that is not the candidate."""
    if request.alias is not None:
        return view.alias_holder
    others = [v for v in view.stage_holders if v != request.version]
    return max(others, key=int) if others else None


async def promote(
    ctx: PromoteContext, request: PromotionRequest, driver: Driver
) -> PromotionResult:
    """Run the whole flow for ``request``; the driver shows the plan and asks to confirm."""
    if ctx.read_only:
        refuse_read_only(ctx.audit, request, ctx.tracking_uri)
    for resolved in await resolve_interrupted(ctx):
        driver.warn(f"an interrupted promotion was resolved: {resolved.message}")
    plan = await build_plan(ctx, request, driver)
    driver.output(plan)
    return await carry_out(ctx, plan, driver)


async def carry_out(
    ctx: PromoteContext, plan: PromotionPlan, driver: Driver, *, confirmed: bool = False
) -> PromotionResult:
    """Everything after the plan: refuse, or confirm, then compare-and-set, write, verify, audit.

    ``confirmed``: the caller already showed this plan and had it confirmed (a runbook step that
    planned its promotions before asking once), so the driver is not asked again. A plan refused
    only because gates failed is offered to the driver's optional ``override`` (the TUI's form:
    a reason and the model name typed again); an accepted override is the ``--force --reason``
    request of the CLI, audited and tagged the same way. The form may instead answer
    ``RunAllGates`` when the first failure stopped the other gates: the plan is built again with
    every gate (``--all-gates``) and offered again.
    """
    request = plan.request
    if ctx.read_only:
        raise ReadOnlyError(_verb(request))
    while plan.refusal and plan.overridable and hasattr(driver, "override"):
        answer = await driver.override(plan)  # type: ignore[attr-defined]
        if isinstance(answer, RunAllGates) and plan.not_run_gates:
            # the operator asks to see every gate: plan again with all of them, still
            # compare-and-set against what the first plan showed, and offer the override again
            again = plan.request.model_copy(update={"all_gates": True, "expect": plan.expected})
            plan = await build_plan(ctx, again, driver)
            driver.output(plan)
            continue
        if isinstance(answer, str) and answer:
            plan = forced_plan(plan, answer)
            driver.output(plan)
            confirmed = True  # the override form was the confirmation (reason + typed name)
        break
    if plan.refusal:
        return await _finish(ctx, plan, "refused", plan.refusal, plan.before)
    if plan.noop:
        return PromotionResult(
            outcome="noop",
            message="nothing to do: " + plan.before.describe(request),
            plan=plan,
            current=plan.before,
        )
    prompt = "\n".join(plan_lines(plan))
    if not confirmed and not await driver.confirm(prompt, typed=plan.typed_confirmation):
        return PromotionResult(
            outcome="cancelled",
            message="nothing was written",
            plan=plan,
            current=plan.before,
        )
    async with _model_lock(ctx, request):
        # the intent goes first, before any registry write (the lease tag included): if it
        # cannot be written, nothing is changed (AuditUnavailable, exit 6)
        intent = _intent(ctx, plan)
        sent: list[bool] = []

        async def on_break(seen: SeenLease, why: str) -> None:
            _audit_lease_break(ctx, plan, seen, why, intent)

        try:
            async with held(
                ctx.client,
                request.model,
                holder_name(plan.actor),
                ctx.lease,
                driver,
                home=home_id(ctx.home),
                break_lease=request.break_lease,
                on_break=on_break,
            ):
                return await _compare_write_verify(ctx, plan, driver, intent, sent)
        except LeaseBusy as exc:
            return await _finish(
                ctx, plan, "refused", f"refused: {exc}", plan.before, intent=intent
            )
        except ConsoleError as exc:
            if sent:
                raise  # the intent stays pending: the next read of the model resolves it
            # nothing of the promotion was sent: close the intent saying so
            await _finish(
                ctx, plan, "failed", f"failed before the write: {exc}", None, intent=intent
            )
            raise


async def _compare_write_verify(
    ctx: PromoteContext, plan: PromotionPlan, driver: Driver, intent: str, sent: list[bool]
) -> PromotionResult:
    from console.mlflow.errors import MlflowError

    request, client = plan.request, ctx.client
    # compare: the registry must still show what the plan was built on
    current, _ = await read_view(client, request)
    if _cas_key(current, request) != _cas_key(plan.before, request):
        message = (
            f"refused: {request.target} changed since the plan; now "
            f"{current.describe(request)} (was {plan.before.describe(request)})"
        )
        return await _finish(ctx, plan, "refused", message, current, intent=intent)
    driver.progress(f"writing: {plan.title}")
    archived: list[str] = []
    sent.append(True)
    try:
        lost = await _write(ctx, plan, current, archived, driver)
    except MlflowError as exc:
        after = await _read_quietly(client, request)
        if after is None:
            return _unconfirmed(plan, f"the write got no clear answer ({exc.message})", intent)
        if not _reached(after, request):
            return await _finish(
                ctx, plan, "failed", f"write failed: {exc}", after, archived=archived,
                intent=intent,
            )  # fmt: skip
        lost = False  # the server answered with an error, yet the write landed: verify it
    try:
        # verify: read back what the server now holds
        after, _ = await read_view(client, request)
        if not lost and _reached(after, request):
            # and again once every write sent meanwhile has landed: a later writer supersedes us
            driver.progress("verifying again after the settle time")
            await asyncio.sleep(ctx.lease.settle)
            after, _ = await read_view(client, request)
            if not _reached(after, request):
                message = (
                    f"lost a race (superseded): the write was verified, but a later write "
                    f"changed it; the registry now shows {after.describe(request)}"
                )
                return await _finish(
                    ctx, plan, "lost_race", message, after, archived=archived, intent=intent
                )
    except MlflowError as exc:
        return _unconfirmed(
            plan, f"the server did not answer the verification ({exc.message})", intent
        )
    if lost or not _reached(after, request):
        message = (
            f"lost a race: after the write the registry shows {after.describe(request)}; "
            "another writer changed it at the same moment (MLflow has no compare-and-set)"
        )
        return await _finish(
            ctx, plan, "lost_race", message, after, archived=archived, intent=intent
        )
    return await _finish(
        ctx,
        plan,
        "succeeded",
        f"done: {after.describe(request)}",
        after,
        archived=archived,
        intent=intent,
    )


def _unconfirmed(plan: PromotionPlan, why: str, intent: str) -> PromotionResult:
    """The write was sent and nobody can say now whether it landed: no outcome record (the
    intent stays pending, so the next read of the model resolves it), and say how to check."""
    model = plan.request.model
    return PromotionResult(
        outcome="unconfirmed",
        message=(
            f"{why}: the {plan.request.target.replace(':', ' ')} may have moved; check with "
            f"`mlops-console history {model}` — the next read of {model} from this home "
            f"resolves it (intent {intent})"
        ),
        plan=plan,
        current=None,
        audit_id=intent,
    )


def _intent(ctx: PromoteContext, plan: PromotionPlan) -> str:
    """Record what is about to be written, before writing anything; its outcome follows (or is
    resolved at the next read of the model if this console dies in between). Raises
    AuditUnavailable when it cannot be written: then nothing is written to the registry."""
    request = plan.request
    record = AuditRecord(
        action=f"promote.{request.action}",
        outcome="pending",
        actor=plan.actor,
        server=plan.server,
        model=request.model,
        version=request.version,
        target=request.target,
        before=plan.before.model_dump(),
        forced=plan.forced,
        reason=request.reason,
        message=f"about to write: {plan.title}",
        details={
            "request": request.model_dump(mode="json"),
            "writes": plan.writes,
            "forced_gates": [g.name for g in plan.failed_gates] if plan.forced else [],
            "not_run_gates": [g.name for g in plan.not_run_gates],
        },
    )
    ctx.audit.append_or_refuse(record, plan.title)
    return record.id


def _audit_lease_break(
    ctx: PromoteContext, plan: PromotionPlan, seen: SeenLease, why: str, intent: str
) -> None:
    """Audit overwriting a broken lease (or a dead console's), before the overwrite."""
    request = plan.request
    lease = seen.lease
    if why == "broken":
        message = f"broke the promotion lease of {request.model}: {seen.broken}"
    else:
        message = (
            f"took over the promotion lease of {request.model} left by a console of this home "
            f"that is no longer running (pid {lease.pid if lease else '?'})"
        )
    record = AuditRecord(
        action="promote.break_lease" if why == "broken" else "promote.release_dead_lease",
        outcome="succeeded",
        actor=plan.actor,
        server=plan.server,
        model=request.model,
        version=request.version,
        target="lease",
        reason=request.reason if why == "broken" else None,
        message=message,
        details={
            "lease": (seen.raw or "")[:2000],
            "holder": lease.holder if lease else None,
            "promotion_intent_id": intent,
        },
    )
    ctx.audit.append_or_refuse(record, "the lease break")


async def resolve_interrupted(
    ctx: PromoteContext, *, model: str | None = None
) -> list[AuditRecord]:
    """Close every intent of this server (of ``model`` if given) that has no outcome — its
    console was killed mid-write, or the server did not answer its verification: read what the
    registry holds now, record that as the outcome and, where the write took effect, write the
    version's promotion tags (naming that record). Returns the new records.

    Cheap when nothing is pending: one read of the audit log, no request to the server."""
    from console.audit import AuditError

    if ctx.read_only:
        return []
    try:
        where = AuditFilter(model=model, action_prefix="promote.", outcome="pending")
        # intents whose outcome is recorded are left out; off the event loop (the TUI calls this)
        records = (await asyncio.to_thread(ctx.audit.read, where)).records
    except AuditError:
        return []
    resolved: list[AuditRecord] = []
    for intent in records:
        if intent.server != ctx.client.server or intent.model is None:
            continue
        if _lock_busy(ctx, intent.model):
            continue  # a console of this home is promoting that model right now: not dead
        try:
            request = PromotionRequest.model_validate(intent.details.get("request") or {})
        except ValueError:
            continue
        view = await _read_quietly(ctx.client, request)
        if view is None:
            continue  # cannot tell now; the next read tries again
        reached = _reached(view, request)
        record = AuditRecord(
            action=intent.action,
            outcome="succeeded" if reached else "failed",
            actor=intent.actor,
            server=intent.server,
            model=intent.model,
            version=intent.version,
            target=intent.target,
            before=intent.before,
            after=view.model_dump(),
            forced=intent.forced,
            reason=intent.reason,
            message=(
                f"resolved after an unfinished promotion (intent {intent.id}): the registry "
                f"shows {view.describe(request)}; "
                + ("the write took effect" if reached else "the write did not take effect")
            ),
            details={"intent_id": intent.id, "resolved_at_start": True},
        )
        tags: dict[str, str] = {}
        if reached:
            now = record.at.astimezone(UTC).isoformat(timespec="seconds")
            forced = [str(g) for g in intent.details.get("forced_gates") or []]
            unchecked = [str(g) for g in intent.details.get("not_run_gates") or []]
            tags = {
                k: ctx.audit.mask(v)
                for k, v in _tags(
                    request, intent.actor.name, record.id, now, forced, unchecked if forced else []
                ).items()
            }
            record.details["tags"] = tags
        try:
            ctx.audit.append(record)
        except AuditError:
            continue  # nothing written: the intent stays pending
        await _write_tags(ctx.client, request.model, [(request.version, tags)])
        resolved.append(record)
    return resolved


async def _write(
    ctx: PromoteContext,
    plan: PromotionPlan,
    current: RegistryView,
    archived: list[str],
    driver: Driver,
) -> bool:
    """Perform the writes; True when a concurrent writer was seen winning along the way."""
    from console.mlflow.errors import InvalidRequest, MlflowError

    request, client = plan.request, ctx.client
    if request.action == "set_alias":
        try:
            await client.set_model_alias(request.model, request.alias, request.version)
        except InvalidRequest as exc:
            if not _unique_violation(exc) or current.alias_holder is not None:
                raise
            # PostgreSQL: concurrent first-time creation of one alias collides on its unique
            # key. Retry once, but only if the alias is still absent (else someone else won).
            driver.warn("alias creation collided with another writer; re-reading and retrying once")
            again, _ = await read_view(client, request)
            if again.alias_holder is not None:
                return True
            await client.set_model_alias(request.model, request.alias, request.version)
        return False
    if request.action == "remove_alias":
        await client.delete_model_alias(request.model, request.alias)
        return False
    # archive_existing_versions gave HTTP 500 on MLflow 3.x: archive the others one by one
    await client.transition_model_version_stage(request.model, request.version, request.stage)
    for other in _others(current, request):
        driver.progress(f"archiving v{other}")
        await client.transition_model_version_stage(request.model, other, "Archived")
        try:
            seen = await client.get_model_version(request.model, other)
        except MlflowError:
            seen = None
        if seen is not None and seen.current_stage == "Archived":
            archived.append(other)
        else:
            driver.warn(f"v{other} did not read back as Archived")
    return False


def _unique_violation(exc: Any) -> bool:
    text = (exc.message or "").lower()
    return exc.status == 400 and (
        exc.error_code == "BAD_REQUEST"
        or "unique" in text
        or "duplicate" in text
        or "already exists" in text
    )


async def _read_quietly(client: Any, request: PromotionRequest) -> RegistryView | None:
    from console.mlflow.errors import MlflowError

    try:
        return (await read_view(client, request))[0]
    except MlflowError:
        return None


def _lock_path(ctx: PromoteContext, model: str) -> Path | None:
    if ctx.lock_dir is None:
        return None
    key = hashlib.sha256(f"{ctx.client.server}\n{model}".encode()).hexdigest()[:24]
    return ctx.lock_dir / f"{key}.lock"


def _lock_busy(ctx: PromoteContext, model: str) -> bool:
    """Whether another process of this home holds the model's promotion lock now."""
    path = _lock_path(ctx, model)
    if path is None or not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)  # flock needs no write access (a read-only home)
    except OSError:
        return True  # cannot tell: leave the intent for a later read
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@asynccontextmanager
async def _model_lock(ctx: PromoteContext, request: PromotionRequest) -> AsyncIterator[None]:
    """Serialise compare → write → verify between consoles sharing this home, per model."""
    if ctx.lock_dir is None:
        yield
        return
    path = _lock_path(ctx, request.model)
    assert path is not None
    try:
        private_dir(ctx.lock_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        # the lock lives beside the audit log: a home that cannot hold it cannot audit either
        raise AuditUnavailable(
            f"cannot write the promotion lock in {ctx.lock_dir} ({exc.strerror or exc}): "
            "nothing was changed",
            hint=f"check that {ctx.lock_dir.parent} is writable and has free space",
            reason=str(exc.strerror or exc),
        ) from None
    try:
        deadline = time.monotonic() + ctx.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConsoleError(
                        f"another promotion of {request.model} in this home holds its lock",
                        hint="wait for it to finish and try again",
                    ) from None
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(fd)


# --- audit and tags ----------------------------------------------------------------------------


def refuse_read_only(audit: AuditLog, request: PromotionRequest, server: str | None) -> None:
    """Audit a promotion refused because the console is read-only, then raise ReadOnlyError.

    Nothing is read from the server (read-only mode must not start an embedded one just to say
    no); the actor is the OS user. The CLI and the TUI share this, so both trails look the same.
    """
    from console.audit import AuditError, os_actor
    from console.settings import show_url

    record = AuditRecord(
        action=f"promote.{request.action}",
        outcome="refused",
        actor=os_actor(),
        server=show_url(server) if server else "embedded",
        model=request.model,
        version=request.version,
        target=request.target,
        forced=request.force,
        reason=request.reason,
        message="refused: the console is read-only",
        details={"read_only": True, "expected": request.expect},
    )
    error = ReadOnlyError(_verb(request))
    try:
        audit.append(record)
    except AuditError as exc:
        error.hint = f"{error.hint}; {exc}"
    raise error


def _verb(request: PromotionRequest) -> str:
    if request.action == "set_alias":
        return f"set alias {request.alias} of {request.model}"
    if request.action == "remove_alias":
        return f"remove alias {request.alias} of {request.model}"
    return f"move v{request.version} of {request.model} to {request.stage}"


async def _finish(
    ctx: PromoteContext,
    plan: PromotionPlan,
    outcome: Outcome,
    message: str,
    current: RegistryView | None,
    *,
    archived: list[str] | None = None,
    intent: str | None = None,
) -> PromotionResult:
    """Audit the attempt, tag the version(s) on success, and build the result.

    ``archived`` is given (possibly empty) once the registry write was sent. A refused attempt
    wrote nothing: its record has no ``after`` (what the registry showed instead is kept in
    ``details.seen``), so it never reads as a change from the state it left alone to itself.
    """
    from console.audit import AuditError

    request = plan.request
    changed = current is not None and outcome != "refused"
    seen = {"seen": current.model_dump()} if current is not None and not changed else {}
    record = AuditRecord(
        action=f"promote.{request.action}",
        outcome=outcome,  # type: ignore[arg-type]
        actor=plan.actor,
        server=plan.server,
        model=request.model,
        version=request.version,
        target=request.target,
        before=plan.before.model_dump(),
        after=current.model_dump() if changed and current is not None else {},
        gates=[g.model_dump() for g in plan.gates],
        forced=plan.forced,
        reason=request.reason,
        message=message,
        details={
            "expected": plan.expected,
            "writes": plan.writes,
            "permission": plan.permission,
            "archive_others": request.archive_others,
            "archived": archived or [],
            **seen,
            **({"intent_id": intent} if intent else {}),
        },
    )
    result = PromotionResult(
        outcome=outcome, message=message, plan=plan, current=current, audit_id=record.id
    )
    tagged: list[tuple[str, dict[str, str]]] = []
    if outcome == "succeeded":
        now = record.at.astimezone(UTC).isoformat(timespec="seconds")
        forced = [g.name for g in plan.failed_gates] if plan.forced else []
        unchecked = [g.name for g in plan.not_run_gates] if plan.forced else []
        # tags are readable by everyone with access to the model: mask secrets there too
        result.tags = {
            k: ctx.audit.mask(v)
            for k, v in _tags(request, plan.actor.name, record.id, now, forced, unchecked).items()
        }
        tagged = [(request.version, result.tags)]
        tagged += [(v, _archived_tags(plan, record.id, now)) for v in archived or []]
        record.details["tags"] = result.tags
    # the outcome record goes before the tags that name it: no tag points at a missing record
    try:
        ctx.audit.append(record)
    except AuditError as exc:
        result.audit_id = None
        result.tags = {}
        if intent is not None and archived is not None:
            result.warnings.append(
                f"the registry write happened ({message}), but its outcome record could not be "
                f"written ({exc.reason}); the intent record {intent} is on disk, no version tags "
                f"were written, and the next read of {request.model} from this home resolves it"
            )
        else:
            result.warnings.append(f"the outcome record could not be written: {exc}")
        return result
    result.warnings += await _write_tags(ctx.client, request.model, tagged)
    return result


async def _write_tags(
    client: Any, model: str, tagged: list[tuple[str, dict[str, str]]]
) -> list[str]:
    """Write each version's tags; a tag that cannot be written is a warning, not a failure."""
    from console.mlflow.errors import MlflowError

    warnings: list[str] = []
    for version, tags in tagged:
        for key, value in tags.items():
            try:
                await client.set_model_version_tag(model, version, key, value)
            except MlflowError as exc:
                warnings.append(f"tag {key} on v{version} not written: {exc.message}")
    return warnings


def _tags(
    request: PromotionRequest,
    actor: str,
    audit_id: str,
    now: str,
    forced: list[str],
    not_run: list[str] | None = None,
) -> dict[str, str]:
    """Tags on the candidate: who, when, what, why (never anything secret); a forced promotion
    also names the gates it overrode and those that never ran (an earlier one had failed).

    The reason, forced and not-run tags are always written, empty when this promotion has none:
    a version keeps one set of tags per kind, and an earlier promotion's reason left standing
    would read as this one's (the history takes the reason of a tag-only event from them).
    """
    what = f"alias {request.alias}" if request.alias else f"stage {request.stage}"
    kind = "promot" if request.promoting else "demot"
    return {
        f"{TAG_PREFIX}{kind}ed_by": actor,
        f"{TAG_PREFIX}{kind}ed_at": now,
        f"{TAG_PREFIX}{kind}ion": f"{'remove ' if request.remove else ''}{what}",
        f"{TAG_PREFIX}{kind}ion_audit_id": audit_id,
        f"{TAG_PREFIX}{kind}ion_reason": request.reason or "",
        f"{TAG_PREFIX}{kind}ion_forced": ",".join(forced),
        f"{TAG_PREFIX}{kind}ion_not_run": ",".join(not_run or []),
    }


def _archived_tags(plan: PromotionPlan, audit_id: str, now: str) -> dict[str, str]:
    request = plan.request
    return {
        f"{TAG_PREFIX}demoted_by": plan.actor.name,
        f"{TAG_PREFIX}demoted_at": now,
        f"{TAG_PREFIX}demotion": f"stage Archived (v{request.version} moved to {request.stage})",
        f"{TAG_PREFIX}demotion_audit_id": audit_id,
        # the archive is part of this promotion: its reason, never an earlier demotion's
        f"{TAG_PREFIX}demotion_reason": request.reason or "",
        f"{TAG_PREFIX}demotion_forced": "",
    }

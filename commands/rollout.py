"""Rollout and rollback of an embedded deployment: confirmed, verified by ``/version``, audited.

A moved alias never changes what is served by itself: ``rollout`` reloads the deployment on the
alias's current version (``POST /reload``), then reads ``/version`` to verify it. ``rollback`` is
one flow: a promotion of the alias back to the previously served version (``commands.promote``:
its plan, gates, confirmation, compare-and-set and audit), then a rollout without a second
question. Both take the driver every command takes, so the TUI, the CLI and runbooks share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commands import deploy_records as records
from commands.deploy import record_state, resolve_alias, valid_name
from commands.deploy_records import DeployError
from commands.driver import Driver
from console.audit import AuditLog, AuditRecord, identify
from console.deployment_model import DeploymentRecord, RolloutResult
from console.errors import ReadOnlyError

RELOAD_TIMEOUT = 300.0  # loading a model (and importing what it needs) can take a while


@dataclass
class DeployContext:
    """What rollout and rollback need: settings, a registry client, its URI, the audit log."""

    settings: Any
    client: Any
    tracking_uri: str
    audit: AuditLog

    @classmethod
    def from_settings(cls, settings: Any, client: Any, tracking_uri: str) -> DeployContext:
        return cls(settings, client, tracking_uri, AuditLog.for_settings(settings))


def _record(ctx: DeployContext, name: str) -> tuple[Path, DeploymentRecord]:
    valid_name(name)
    path = records.record_path(ctx.settings.home, name)
    record = records.read(path)
    if record is None:
        raise DeployError(
            f"no embedded deployment named {name}",
            hint="see `mlops-console deployments` (production endpoints are rolled out by "
            "their own platform)",
        )
    state, detail = record_state(path, record)
    if state in ("stale", "failed", "orphaned"):
        raise DeployError(f"deployment {name} is {state}: {detail}")
    return path, record


async def served_version(url: str, seconds: float = 5.0) -> str | None:
    """What the service says it serves (``GET /version``), or None if it does not answer."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=seconds) as http:
            response = await http.get(f"{url}/version")
            doc = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return str(doc["version"]) if isinstance(doc, dict) and "version" in doc else None


async def _reload(
    url: str, version: str, tracking_uri: str | None, headers: dict[str, str] | None = None
) -> str | None:
    """``POST /reload`` (with the deployment's token); None on success, else the reason."""
    import httpx

    body: dict[str, str] = {"version": version}
    if tracking_uri:
        body["tracking_uri"] = tracking_uri
    try:
        async with httpx.AsyncClient(timeout=RELOAD_TIMEOUT) as http:
            response = await http.post(f"{url}/reload", json=body, headers=headers or {})
    except httpx.HTTPError as exc:
        return f"the service did not answer the reload: {type(exc).__name__}"
    if response.status_code == 200:
        return None
    try:
        return str(response.json().get("message"))[:300]
    except ValueError:
        return f"HTTP {response.status_code}"


async def rollout(
    ctx: DeployContext,
    name: str,
    driver: Driver,
    *,
    confirmed: bool = False,
    action: str = "rollout",
    promotion: dict[str, Any] | None = None,
) -> RolloutResult:
    """Reload deployment ``name`` on its alias's current version; verify; record; audit."""
    if ctx.settings.read_only:
        raise ReadOnlyError(f"roll out deployment {name}")
    path, record = _record(ctx, name)
    driver.progress(f"reading what {name} serves and where {record.model}@{record.alias} points")
    before = await served_version(record.url)
    if before is None:
        raise DeployError(f"deployment {name} does not answer at {record.url}")
    target = await resolve_alias(ctx.client, record.model, record.alias)
    result = RolloutResult(
        name=name,
        action=action,  # type: ignore[arg-type]
        outcome="noop",
        message="",
        model=record.model,
        alias=record.alias,
        served_before=before,
        served_after=before,
        alias_version=target,
        promotion=promotion,
    )
    if before == target:
        result.message = f"nothing to do: {name} already serves v{target} ({record.alias})"
        return result
    prompt = (
        f"roll out deployment {name} ({record.url}):\n"
        f"  model:  {record.model}, alias {record.alias} → v{target}\n"
        f"  serves: v{before} → v{target} (loaded beside the old one, then swapped)"
    )
    if not confirmed and not await driver.confirm(prompt):
        result.outcome, result.message = "cancelled", "cancelled: nothing was changed"
        return result
    # the intent goes on disk before the reload: if it cannot, nothing is changed (exit 6)
    actor = await identify(ctx.client)
    intent = AuditRecord(
        action=f"deploy.{action}",
        outcome="pending",
        actor=actor,
        server=ctx.client.server,
        model=record.model,
        version=target,
        target=f"deployment:{record.name}",
        before={"served": before},
        message=f"about to reload {name} on v{target} (serving v{before})",
        details={"url": record.url, "alias": record.alias, "promotion": promotion},
    )
    ctx.audit.append_or_refuse(intent, f"the {action} of {name}")
    driver.progress(f"reloading {name} on v{target}…")
    # the embedded MLflow server may have come back on another port since the service started
    uri = ctx.tracking_uri if record.embedded_tracking else None
    problem = await _reload(record.url, target, uri, records.reload_headers(record.home, name))
    after = await served_version(record.url)
    result.served_after = after
    if problem is None and after == target:
        records.update(path, version=target, previous_version=before, tracking_uri=ctx.tracking_uri)
        result.outcome = "succeeded"
        result.message = f"done: {name} serves v{target} (was v{before}), verified by /version"
    else:
        result.outcome = "failed"
        result.message = (
            f"rollout failed: {problem or 'the reload answered but /version says v' + str(after)}"
            f"; {name} serves v{after or '?'}"
        )
    result.audit_id = _audit(ctx, record, result, actor, intent.id)
    if result.audit_id is None:
        result.message += (
            f" (the reload was sent, but its outcome record could not be written: the intent "
            f"record {intent.id} is on disk)"
        )
    return result


def _audit(
    ctx: DeployContext, record: DeploymentRecord, result: RolloutResult, actor: Any, intent: str
) -> str | None:
    from console.audit import AuditError

    entry = AuditRecord(
        action=f"deploy.{result.action}",
        outcome="succeeded" if result.outcome == "succeeded" else "failed",
        actor=actor,
        server=ctx.client.server,
        model=record.model,
        version=result.served_after,
        target=f"deployment:{record.name}",
        before={"served": result.served_before},
        after={"served": result.served_after, "alias_version": result.alias_version},
        message=result.message,
        details={
            "url": record.url,
            "alias": record.alias,
            "promotion": result.promotion,
            "intent_id": intent,
        },
    )
    try:
        ctx.audit.append(entry)
    except AuditError:
        return None
    return entry.id


class NoRollbackTarget(DeployError):
    """The deployment has no previously served version, and none was named.

    The CLI says to name one (``--to VERSION``); the TUI offers the model's versions to choose.
    """


def _audit_refused_rollback(
    ctx: DeployContext, record: DeploymentRecord, result: RolloutResult, promoted: Any
) -> str | None:
    """The rollback refused at its promotion, as such: nothing was moved or reloaded, so the
    record has no ``after`` (``audit`` shows it unchanged, not as a change to itself)."""
    from console.audit import AuditError

    plan = getattr(promoted, "plan", None)
    actor = plan.actor if plan is not None else None
    if actor is None:
        from console.audit import os_actor

        actor = os_actor()
    entry = AuditRecord(
        action="deploy.rollback",
        outcome="refused",
        actor=actor,
        server=ctx.client.server,
        model=record.model,
        version=promoted.plan.request.version if plan is not None else None,
        target=f"deployment:{record.name}",
        before={"served": result.served_before, "alias_version": result.alias_version},
        reason=plan.request.reason if plan is not None else None,
        message=result.message,
        details={"url": record.url, "alias": record.alias, "promotion": result.promotion},
    )
    try:
        ctx.audit.append(entry)
    except AuditError:
        return None
    return entry.id


class _RollbackDriver:
    """Prefixes the promotion's confirmation with what the whole rollback will do.

    A driver that can override failed gates (the TUI's) is offered the override with the same
    preface; without one (the CLI) the promotion refuses, as ``promote`` does.
    """

    def __init__(self, inner: Driver, preface: str) -> None:
        self.inner, self.preface = inner, preface
        if callable(getattr(inner, "override", None)):
            self.override = self._override

    async def _override(self, plan: Any) -> str | None:
        return await self.inner.override(plan, preface=self.preface)  # type: ignore[attr-defined]

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.inner.progress(message, fraction=fraction)

    def warn(self, message: str) -> None:
        self.inner.warn(message)

    def output(self, item: Any) -> None:
        self.inner.output(item)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        return await self.inner.confirm(f"{self.preface}\n{prompt}", typed=typed)


_PROMOTION_OUTCOME = {"cancelled": "cancelled", "refused": "refused", "lost_race": "refused"}


async def rollback(
    ctx: DeployContext,
    name: str,
    driver: Driver,
    *,
    to_version: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> RolloutResult:
    """Move the alias back to the previously served version (a promotion), then roll out."""
    from commands.promote import PromoteContext, promote
    from console.promotion_model import PromotionRequest

    if ctx.settings.read_only:
        raise ReadOnlyError(f"roll back deployment {name}")
    _, record = _record(ctx, name)
    target = to_version or record.previous_version
    if not target:
        raise NoRollbackTarget(
            f"deployment {name} has no previously served version to roll back to",
            hint="name one with --to VERSION",
        )
    serving = await served_version(record.url)
    holder = await resolve_alias(ctx.client, record.model, record.alias)
    # what is asked, never a "v1 → v1" change: the service may already serve the target
    why = reason or f"rollback of deployment {name} to v{target} (serving v{serving or '?'})"
    request = PromotionRequest(
        model=record.model,
        version=target,
        alias=record.alias,
        expect=holder,
        reason=why,
        force=force,
    )
    preface = (
        f"rollback of deployment {name}: alias {record.alias} moves back to v{target}, then "
        f"{name} reloads it (serving v{serving} now)"
    )
    pctx = PromoteContext.from_settings(ctx.settings, ctx.client, ctx.tracking_uri)
    promoted = await promote(pctx, request, _RollbackDriver(driver, preface))
    summary = {
        "outcome": promoted.outcome,
        "message": promoted.message,
        "audit_id": promoted.audit_id,
        # refused by gates alone: an override (--force --reason, the TUI's form) would pass
        "overridable": promoted.outcome == "refused"
        and promoted.plan is not None
        and promoted.plan.overridable,
    }
    if not promoted.ok:
        result = RolloutResult(
            name=name,
            action="rollback",
            outcome=_PROMOTION_OUTCOME.get(promoted.outcome, "failed"),  # type: ignore[arg-type]
            message=f"rollback stopped at the promotion: {promoted.message}",
            model=record.model,
            alias=record.alias,
            served_before=serving,
            served_after=serving,
            alias_version=holder,
            promotion=summary,
        )
        if result.outcome == "refused":
            result.audit_id = _audit_refused_rollback(ctx, record, result, promoted)
        return result
    from console.audit import AuditUnavailable

    try:
        return await rollout(
            ctx, name, driver, confirmed=True, action="rollback", promotion=summary
        )
    except AuditUnavailable as exc:
        # the promotion is done (and audited): say so, not "nothing was changed"
        return RolloutResult(
            name=name,
            action="rollback",
            outcome="failed",
            message=(
                f"rollback stopped after the promotion: {promoted.message}; {name} was not "
                f"reloaded because its audit record cannot be written ({exc.reason})"
            ),
            model=record.model,
            alias=record.alias,
            served_before=serving,
            served_after=serving,
            alias_version=target,
            promotion=summary,
        )


@dataclass
class RollbackChoices:
    """What choosing a rollback's version needs: the versions of the deployment's model, what
    the deployment serves and where its alias points (the TUI's chooser)."""

    name: str
    model: str
    alias: str
    serving: str | None
    holder: str | None
    versions: list[str]


async def rollback_choices(ctx: DeployContext, name: str, limit: int = 200) -> RollbackChoices:
    """The versions a rollback of ``name`` could go back to, newest first (at most ``limit``)."""
    if ctx.settings.read_only:
        raise ReadOnlyError(f"roll back deployment {name}")
    _, record = _record(ctx, name)
    serving = await served_version(record.url)
    try:
        holder: str | None = await resolve_alias(ctx.client, record.model, record.alias)
    except DeployError:
        holder = None
    versions = [
        v.version
        async for v in ctx.client.iter_model_versions(
            name=record.model, max_items=limit, with_aliases=False
        )
    ]
    versions.sort(key=lambda v: int(v) if v.isdigit() else 0, reverse=True)
    return RollbackChoices(name, record.model, record.alias, serving, holder, versions)

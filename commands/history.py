"""Registry history: the timeline of a model, its state at any instant, and undo.

``timeline`` first brings the store up to date — the audit log, the embedded server's webhook
inbox, the promotion tags on the versions and an observation of the model as it is now — then
returns the merged events. ``state_at`` folds them up to an instant. ``undo`` restores the state
before one event through the promotion flow of ``commands.promote`` (plan, gates, confirmation,
compare-and-set against the state the event left, verify, audit), and audits the undo itself with
a link to the undone event.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from commands.driver import Driver
from commands.history_ingest import (
    EMBEDDED,
    UNDO_ACTION,
    Merger,
    ingest_audit,
    ingest_inbox,
    ingest_tags,
    mark_unverified,
    observe,
)
from console.audit import AuditLog, AuditRecord, identify
from console.errors import ConsoleError, ReadOnlyError, UsageError
from console.history import db as history_db
from console.history.model import (
    HistoryEvent,
    RegistryState,
    Timeline,
    UndoPlan,
    UndoResult,
)
from console.history.model import state_at as fold_state_at
from console.history.store import HistoryStore, HistoryUnwritable
from console.promotion_model import PromotionRequest


def history_server(settings: Any, client: Any) -> str:
    """The key events are filed under: ``embedded`` for the home's own server, else its URL.

    The home's own server counts as such however it is reached: by default, or through a
    tracking URI (``--tracking-uri``, ``MLFLOW_TRACKING_URI``) naming the server this home's
    running webhook receiver is registered with — whose deliveries fill the inbox. Filed under
    its URL instead, a read would skip the inbox and only observe.
    """
    if not settings.tracking_uri or _is_embedded(settings.home, settings.tracking_uri):
        return EMBEDDED
    return client.server


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _is_embedded(home: Any, tracking_uri: str) -> bool:
    from urllib.parse import urlsplit

    from console.embedded.procs import is_alive
    from console.history import receiver as history_receiver

    state = history_receiver.read_state(home) or {}
    served = str(state.get("server") or "")
    if not served or not is_alive(state.get("pid") if isinstance(state.get("pid"), int) else None):
        return False
    try:
        ours, theirs = urlsplit(served), urlsplit(tracking_uri)
        return (
            theirs.scheme == "http"
            and (theirs.hostname or "") in _LOOPBACK
            and theirs.port == ours.port
            and theirs.path.rstrip("/") == ""
        )
    except ValueError:
        return False


async def _read_model(client: Any, model: str) -> tuple[dict[str, str], list[Any]] | None:
    """The model's aliases and versions now, or None when the server does not know it."""
    from console.mlflow.errors import NotFound

    try:
        registered = await client.get_registered_model(model)
    except NotFound:
        return None
    versions = [
        v async for v in client.iter_model_versions(name=model, page_size=1000, with_aliases=False)
    ]
    return dict(registered.aliases), versions


def _ingest(
    settings: Any,
    server: str,
    model: str,
    current: tuple[dict[str, str], list[Any]] | None,
    now: datetime,
) -> tuple[list[HistoryEvent], list[str]]:
    """Merge every source into the store (one transaction); the model's events and notes."""
    try:
        return _merge_sources(settings, server, model, current, now)
    except (sqlite3.Error, OSError) as exc:
        raise HistoryUnwritable(
            f"cannot update the registry history in {history_db.db_path(settings.home)}: {exc}",
            hint="check that the console home is writable and has free space",
        ) from None


def _merge_sources(
    settings: Any,
    server: str,
    model: str,
    current: tuple[dict[str, str], list[Any]] | None,
    now: datetime,
) -> tuple[list[HistoryEvent], list[str]]:
    with HistoryStore(settings.home) as store:
        with store.transaction():
            merger = Merger(store, server, model)
            records = ingest_audit(merger, AuditLog.for_settings(settings))
            if server == EMBEDDED:
                ingest_inbox(store, {model: merger}, now)
            if current is not None:
                aliases, versions = current
                ingest_tags(merger, versions)
                observe(merger, aliases, versions, now)
            mark_unverified(merger, records)
        return list(merger.events), list(store.warnings)


def record_read(
    settings: Any, client: Any, model: str, aliases: dict[str, str], versions: list[Any]
) -> list[str]:
    """Observe a model the console has just read elsewhere (``versions``, the registry pane).

    ``versions`` may be a partial listing: versions it lacks are left as the history knows them.
    Never raises: the history is secondary to the read, so a failure comes back as a note.
    """
    try:
        _ingest(settings, history_server(settings, client), model, (aliases, versions), _now())
    except (ConsoleError, OSError) as exc:
        return [f"registry history not updated: {exc}"]
    except Exception as exc:  # noqa: BLE001 - sqlite and validation errors alike
        return [f"registry history not updated: {type(exc).__name__}: {exc}"]
    return []


def _now() -> datetime:
    return datetime.now(UTC)


async def resolve_pending(settings: Any, client: Any, model: str) -> list[str]:
    """Resolve this home's unfinished promotions of ``model`` (an intent without an outcome: a
    killed console, or a verification the server did not answer) from what the server shows now;
    the notes to show. Cheap when nothing is pending (one read of the audit log, off the event
    loop); never raises (the read it accompanies matters more). Every read of a model calls it:
    ``history``, ``undo``, ``versions`` and the console's registry pane."""
    from commands.promote import PromoteContext, resolve_interrupted

    if settings.read_only:
        return []
    try:
        audit = AuditLog.for_settings(settings)
        ctx = PromoteContext(
            client=client,
            tracking_uri="",
            audit=audit,
            lock_dir=audit.directory / "locks",
            home=Path(settings.home),
        )
        done = await resolve_interrupted(ctx, model=model)
    except (ConsoleError, OSError) as exc:
        return [f"unfinished promotions of {model} not resolved: {exc}"]
    return [f"an unfinished promotion was resolved: {r.message}" for r in done]


async def timeline(
    settings: Any,
    client: Any,
    model: str,
    *,
    alias: str | None = None,
    since: datetime | None = None,
    observe_now: bool = True,
) -> Timeline:
    """The model's events, oldest first, after merging every source (and observing, by default).

    An unreachable server leaves the stored history readable (with a warning); a model neither
    the server nor the history knows is an error.
    """
    from console.mlflow.errors import MlflowError

    server = history_server(settings, client)
    warnings: list[str] = []
    current = None
    unreachable = False
    if observe_now:
        warnings += await resolve_pending(settings, client, model)
        try:
            current = await _read_model(client, model)
        except MlflowError as exc:
            unreachable = True
            warnings.append(f"could not read {model} now ({exc.message}); showing what is stored")
    now = datetime.now(UTC)
    events, notes = _ingest(settings, server, model, current, now)
    warnings = notes + warnings
    gone = observe_now and current is None and not unreachable
    if gone and not events:
        raise ConsoleError(
            f"no model named {model!r} on {client.server} and no history of it",
            hint="`mlops-console models` lists the registered models",
        )
    if gone:
        warnings.append(f"{model} no longer exists on {client.server}; showing its history")
    if alias is not None:
        events = [e for e in events if e.kind == "alias" and e.name == alias]
    if since is not None:
        events = [e for e in events if e.time >= since]
    return Timeline(
        model=model,
        server=server,
        events=events,
        warnings=warnings,
        observed_at=now if current is not None else None,
    )


async def state_at(settings: Any, client: Any, model: str, at: datetime) -> RegistryState:
    """Each alias → version and each stage → versions of ``model`` at instant ``at``."""
    full = await timeline(settings, client, model)
    return fold_state_at(full.events, at)


# --- undo --------------------------------------------------------------------------------------


def _choose(events: list[HistoryEvent], event_id: str | None, operator: str) -> HistoryEvent:
    if event_id is not None and not event_id.strip():
        raise UsageError(
            "undo: --event needs an event id (or a prefix of one)",
            hint="`mlops-console history MODEL` lists the event ids",
        )
    if event_id is not None:
        found = [e for e in events if e.id == event_id or e.id.startswith(event_id)]
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise ConsoleError(
                f"{what} history event matches {event_id!r}",
                hint="`mlops-console history MODEL` lists the event ids",
            )
        return found[0]
    undone = {e.undoes for e in events if e.undoes}
    # an unverified event names an actor nobody confirmed (anyone may set the tags): never "mine"
    mine = [
        e
        for e in events
        if e.kind != "version"
        and e.actor == operator
        and not e.undoes
        and e.id not in undone
        and not e.unverified
    ]
    if not mine:
        raise ConsoleError(
            f"no change by {operator} to undo in this model's history",
            hint="pass --event ID (see `mlops-console history MODEL`)",
        )
    return mine[-1]


async def _current(client: Any, event: HistoryEvent) -> tuple[str | None, list[str]]:
    """The target's value now (alias holder or the version's stage) and the from-stage holders."""
    if event.kind == "alias":
        registered = await client.get_registered_model(event.model)
        return registered.aliases.get(event.name or ""), []
    version = await client.get_model_version(event.model, event.version or "")
    holders = []
    if event.from_ and event.from_ != "None":
        holders = [
            v.version
            async for v in client.iter_model_versions(
                name=event.model, page_size=1000, with_aliases=False
            )
            if (v.current_stage or "None") == event.from_
        ]
    return version.current_stage or "None", holders


def _show(kind: str, value: str | None) -> str:
    if kind == "alias":
        return f"v{value}" if value else "absent"
    return value or "None"


def _restoring_request(
    event: HistoryEvent, holders: list[str], reason: str | None
) -> PromotionRequest:
    why = f"undo of history event {event.id}" + (f": {reason}" if reason else "")
    if event.kind == "alias":
        if event.from_:
            return PromotionRequest(
                model=event.model,
                version=event.from_,
                alias=event.name,
                expect=event.to or "none",
                reason=why,
            )
        return PromotionRequest(
            model=event.model,
            version=event.to or "",
            alias=event.name,
            remove=True,
            expect=event.to,
            reason=why,
        )
    newest = max(holders, key=int) if holders else "none"
    return PromotionRequest(
        model=event.model,
        version=event.version or "",
        stage=event.from_ or "None",
        expect=newest,
        reason=why,
    )


async def plan_undo(
    ctx: Any, model: str, driver: Driver, *, event_id: str | None = None, reason: str | None = None
) -> UndoPlan:
    """Which event to undo and the promotion that would restore the state before it.

    Refused (``refusal`` set) for a version creation, or when the target no longer shows what the
    event left (someone changed it since): the plan then says what it shows now.
    """
    settings, client = ctx.settings, ctx.client
    driver.progress(f"reading the history of {model}")
    full = await timeline(settings, client, model)
    for warning in full.warnings:
        driver.warn(warning)
    operator = (await identify(client)).name
    event = _choose(full.events, event_id, operator)
    plan = UndoPlan(event=event, restores=_restores(event))
    if event.kind == "version":
        plan.refusal = "a version creation cannot be undone (archive or delete the version instead)"
        return plan
    if event.unverified:
        # its from → to, actor and time come from tags anyone may set: restoring "the state
        # before it" could put back a state that never was
        plan.refusal = (
            f"event {event.id} is unverified: it comes from promotion tags that no audit record "
            "of this home confirms; check the registry and use `mlops-console promote` instead"
        )
        return plan
    now, holders = await _current(client, event)
    plan.current = f"{event.kind} {_target_name(event)} is {_show(event.kind, now)} now"
    if (now or None) != (event.to or None):
        plan.refusal = (
            f"{event.kind} {_target_name(event)} changed since event {event.id}: it left "
            f"{_show(event.kind, event.to)}, it is {_show(event.kind, now)} now"
        )
        return plan
    plan.request = _restoring_request(event, holders, reason)
    return plan


def _target_name(event: HistoryEvent) -> str:
    return str(event.name) if event.kind == "alias" else f"of v{event.version}"


def _restores(event: HistoryEvent) -> str:
    if event.kind == "alias":
        where = f"v{event.from_}" if event.from_ else "absent"
        return f"alias {event.name} back to {where}"
    if event.kind == "stage":
        return f"v{event.version} back to stage {event.from_ or 'None'}"
    return ""


async def undo(
    ctx: Any, model: str, driver: Driver, *, event_id: str | None = None, reason: str | None = None
) -> UndoResult:
    """Restore the state before an event through the full promotion flow; audit the undo."""
    from commands.promote import promote

    if ctx.read_only:
        raise ReadOnlyError(f"undo a change of {model}")
    plan = await plan_undo(ctx, model, driver, event_id=event_id, reason=reason)
    driver.output(plan)
    if plan.refusal or plan.request is None:
        result = UndoResult(outcome="refused", message=f"refused: {plan.refusal}", plan=plan)
        return _audit(ctx, result, operator=await identify(ctx.client))
    promotion = await promote(ctx, plan.request, driver)
    result = UndoResult(
        outcome=promotion.outcome,
        message=promotion.message,
        plan=plan,
        promotion=promotion,
        warnings=list(promotion.warnings),
    )
    if promotion.plan is not None:
        return _audit(ctx, result, operator=promotion.plan.actor)
    return _audit(ctx, result, operator=await identify(ctx.client))


def _audit(ctx: Any, result: UndoResult, operator: Any) -> UndoResult:
    from console.audit import AuditError

    event = result.plan.event
    outcome = "succeeded" if result.outcome == "noop" else result.outcome
    record = AuditRecord(
        action=UNDO_ACTION,
        outcome=outcome,
        actor=operator,
        server=ctx.client.server,
        model=event.model,
        version=event.version,
        target=f"{event.kind}:{event.name}" if event.kind == "alias" else f"stage:{event.to}",
        reason=result.plan.request.reason if result.plan.request else None,
        message=result.message,
        details={
            "undone_event": event.id,
            "undone": event.describe(),
            "promotion_audit_id": result.promotion.audit_id if result.promotion else None,
        },
    )
    try:
        ctx.audit.append(record)
        result.audit_id = record.id
    except AuditError as exc:
        result.warnings.append(str(exc))
    return result

"""Merging the history's sources into one timeline without duplicates.

Four sources describe registry changes: the console's audit log (exact, with the operator), the
embedded server's webhooks (exact time, no actor), the console's promotion tags on versions
(exact, with the operator, only the newest per version) and observation (the console compares what
it reads with what it knows: the change happened inside a window, actor unknown). Each source
record is merged once (its key is remembered); it joins an existing event describing the same
change (same target, same result, close in time, or the same audit id), else becomes a new one.
An event keeps the best source's time: console > webhook > tag > observed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from console.audit import AuditFilter, AuditLog, AuditRecord
from console.history.model import SOURCE_RANK, Fold, HistoryEvent, replay
from console.history.store import HistoryStore

MATCH_WINDOW = timedelta(seconds=120)
OBSERVED_SLACK = timedelta(seconds=60)
EMBEDDED = "embedded"
UNDO_ACTION = "history.undo"


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def server_matches(history_server: str, recorded: str | None) -> bool:
    """Whether an audit record's server is the one this history describes.

    The embedded server changes port between starts; any loopback URL counts as it.
    """
    if not recorded:
        return False
    if history_server == EMBEDDED:
        return (urlsplit(recorded).hostname or "") in ("127.0.0.1", "localhost", "::1")
    return recorded.rstrip("/") == history_server.rstrip("/")


class Merger:
    """The events of one model on one server, kept sorted, with merge-or-insert."""

    def __init__(self, store: HistoryStore, server: str, model: str) -> None:
        self.store = store
        self.server = server
        self.model = model
        self.events = store.events(server, model)

    def before(self, at: datetime) -> Fold:
        """The state just before ``at``."""
        return replay([e for e in self.events if e.time < at])

    def known(self) -> Fold:
        return replay(self.events)

    def event(
        self,
        *,
        kind: str,
        time: datetime,
        source: str,
        name: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        version: str | None = None,
        **extra: Any,
    ) -> HistoryEvent:
        return HistoryEvent(
            id=new_id(),
            time=time,
            model=self.model,
            kind=kind,
            name=name,
            from_=from_,  # pyright: ignore[reportCallIssue] - its alias is "from" (populate_by_name)
            to=to,
            version=version,
            source=source,
            sources=[source],
            server=self.server,
            **extra,
        )

    def find(self, c: HistoryEvent) -> HistoryEvent | None:
        """The existing event ``c`` describes too, if any."""
        best: tuple[timedelta, HistoryEvent] | None = None
        for e in self.events:
            if (e.kind, e.name, e.to, e.version) != (c.kind, c.name, c.to, c.version):
                continue
            if c.source in e.sources:
                continue  # one record per source per change
            if c.audit_id and e.audit_id:
                if c.audit_id == e.audit_id:
                    return e
                continue
            if e.kind == "version":
                return e  # a version is created once
            if e.uncertain:
                low = e.observed_after - OBSERVED_SLACK if e.observed_after else None
                inside = (low is None or c.time >= low) and c.time <= e.time + OBSERVED_SLACK
                distance = abs(e.time - c.time) if inside else None
            else:
                distance = abs(e.time - c.time)
                distance = distance if distance <= MATCH_WINDOW else None
            if distance is not None and (best is None or distance < best[0]):
                best = (distance, e)
        return best[1] if best else None

    def add(self, c: HistoryEvent, source_key: str, *, observed: bool = False) -> None:
        """Merge ``c`` into the event it duplicates, or record it; remember ``source_key``.

        An observed difference is new by construction (it is what the history did not know), so
        it is never merged into an earlier event.
        """
        match = None if observed else self.find(c)
        if match is not None:
            _merge(match, c)
            self.store.save(match)
            self.events.sort(key=lambda e: e.time)
            self.store.mark_merged(source_key, match.id)
            return
        if observed:
            self._insert(c)
            return
        if c.kind != "version" and (c.from_ or None) == (c.to or None):
            self.store.mark_merged(source_key, None)  # e.g. an alias set to where it already was
            return
        self._insert(c)
        self.store.mark_merged(source_key, c.id)

    def _insert(self, c: HistoryEvent) -> None:
        self.events.append(c)
        self.events.sort(key=lambda e: e.time)
        self.store.save(c)


# what the console's own audit record says about its promotion, and nobody else may fill in
CONSOLE_FACTS = ("actor", "audit_id", "reason", "undoes")


def _merge(into: HistoryEvent, c: HistoryEvent) -> None:
    had_console = "console" in into.sources
    into.sources = sorted({*into.sources, c.source}, key=lambda s: SOURCE_RANK[s])
    if SOURCE_RANK[c.source] < SOURCE_RANK[into.source]:
        if into.source == "observed" or c.source in ("console", "webhook"):
            into.time = c.time
            into.observed_after = None
        into.source = c.source
    if c.source == "console":
        # the audit record is the whole truth about its promotion: a reason it lacks stays
        # absent (the version's reason tag may be left from an earlier promotion)
        for name in CONSOLE_FACTS:
            setattr(into, name, getattr(c, name))
    elif not had_console:
        for name in CONSOLE_FACTS:
            if getattr(into, name) is None and getattr(c, name) is not None:
                setattr(into, name, getattr(c, name))
    if into.from_ is None and c.from_ is not None:
        into.from_ = c.from_


# --- the console's audit log -------------------------------------------------------------------


def ingest_audit(merger: Merger, audit: AuditLog) -> list[AuditRecord]:
    """Merge this home's promotion records of the model; return its records of this server."""
    read = audit.read(AuditFilter(model=merger.model))
    if read.unreadable_lines:
        merger.store.warnings.append(
            f"{read.unreadable_lines} unreadable line(s) in the audit log {audit.path} skipped"
        )
    records = [r for r in read.records if server_matches(merger.server, r.server)]
    undone = {
        str(r.details.get("promotion_audit_id")): str(r.details.get("undone_event"))
        for r in records
        if r.action == UNDO_ACTION and r.outcome == "succeeded"
    }
    for record in records:
        if not record.action.startswith("promote.") or record.outcome != "succeeded":
            continue
        for key, candidate in _from_audit(merger, record, undone.get(record.id)):
            if not merger.store.merged(key):
                merger.add(candidate, key)
    _restate_console_facts(merger, records)
    return records


def _restate_console_facts(merger: Merger, records: list[AuditRecord]) -> None:
    """Give each event the console recorded its own record's reason and actor again.

    Events stored before a tag could no longer fill them in may hold the reason of an earlier
    promotion of the same version (its reason tag was left standing).
    """
    own = {r.id: r for r in records if r.action.startswith("promote.") and r.outcome == "succeeded"}
    for event in merger.events:
        record = own.get(event.audit_id or "")
        if record is None or "console" not in event.sources:
            continue
        if (event.reason, event.actor) != (record.reason, record.actor.name):
            event.reason, event.actor = record.reason, record.actor.name
            merger.store.save(event)


def mark_unverified(merger: Merger, records: list[AuditRecord]) -> None:
    """Flag every event known from promotion tags that no audit record of this home confirms.

    The tags are plain registry tags: anyone who may tag a version can write them. An event is
    confirmed when the console's own record merged into it, or when the tag's audit id names a
    successful promotion record of this home for the same model, version and target (or the
    version it archived). Checked at every read, so events stored earlier are judged too.
    """
    confirmed = {
        r.id: r for r in records if r.action.startswith("promote.") and r.outcome == "succeeded"
    }
    for event in merger.events:
        if "tag" not in event.sources and not event.unverified:
            continue
        verified = "console" in event.sources or _confirms(
            confirmed.get(event.audit_id or ""), event
        )
        if event.unverified == verified:
            event.unverified = not verified
            merger.store.save(event)


def _confirms(record: AuditRecord | None, event: HistoryEvent) -> bool:
    if record is None or record.model != event.model:
        return False
    if record.version == event.version:
        return record.target == f"{event.kind}:{event.name}"
    archived = [str(v) for v in record.details.get("archived") or []]
    return event.kind == "stage" and event.name == "Archived" and event.version in archived


def _from_audit(
    merger: Merger, record: AuditRecord, undoes: str | None
) -> list[tuple[str, HistoryEvent]]:
    common: dict[str, Any] = {
        "time": record.at,
        "source": "console",
        "actor": record.actor.name,
        "audit_id": record.id,
        "reason": record.reason,
        "undoes": undoes,
    }
    kind, _, target = (record.target or "").partition(":")
    version = record.version
    if record.action == "promote.set_alias":
        before = record.before.get("alias_holder")
        event = merger.event(
            kind="alias", name=target, from_=before, to=version, version=version, **common
        )
        return [(f"audit:{record.id}", event)]
    if record.action == "promote.remove_alias":
        event = merger.event(
            kind="alias", name=target, from_=version, to=None, version=version, **common
        )
        return [(f"audit:{record.id}", event)]
    if record.action == "promote.transition_stage" and kind == "stage":
        found = [
            (
                f"audit:{record.id}",
                merger.event(
                    kind="stage",
                    name=target,
                    from_=record.before.get("version_stage") or "None",
                    to=target,
                    version=version,
                    **common,
                ),
            )
        ]
        for other in record.details.get("archived") or []:
            found.append(
                (
                    f"audit:{record.id}:{other}",
                    merger.event(
                        kind="stage",
                        name="Archived",
                        from_=target,
                        to="Archived",
                        version=str(other),
                        **common,
                    ),
                )
            )
        return found
    return []


# --- webhooks ----------------------------------------------------------------------------------


def _when(text: str | None, fallback: datetime | None) -> datetime | None:
    try:
        at = datetime.fromisoformat(text or "")
    except ValueError:
        return fallback
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def ingest_inbox(store: HistoryStore, mergers: dict[str, Merger], now: datetime) -> None:
    """Turn webhook deliveries into events (every model: the inbox is the embedded server's).

    Deliveries are taken in the order MLflow stamped them, not the order they arrived (MLflow
    sends from a thread pool, and retries: two moves can arrive together, the later first). An
    alias's ``from`` comes from the history, so after a delivery lands between known events the
    ``from`` of every later event of that alias that the history inferred is derived again.
    """
    bad = 0
    pending: list[tuple[datetime, str, dict[str, Any]]] = []
    for delivery_id, row in store.pending_deliveries():
        store.mark_delivered(delivery_id)
        if row is None or not row.get("model"):
            bad += 1
            continue
        pending.append((_when(row.get("time"), now) or now, delivery_id, row))
    touched: set[tuple[str, str]] = set()
    for at, delivery_id, row in sorted(pending, key=lambda p: p[0]):
        model = str(row["model"])
        if model not in mergers:
            mergers[model] = Merger(store, EMBEDDED, model)
        merger = mergers[model]
        key = f"webhook:{delivery_id}"
        entity, action = row.get("entity"), row.get("action")
        version, alias = row.get("version"), row.get("alias")
        if entity == "model_version" and action == "created" and version:
            merger.add(
                merger.event(
                    kind="version", time=at, source="webhook", to=version, version=version
                ),
                key,
            )
        elif entity == "model_version_alias" and alias:
            touched.add((model, str(alias)))
            before = merger.before(at).aliases.get(alias)
            if action == "created" and version:
                merger.add(
                    merger.event(
                        kind="alias",
                        time=at,
                        source="webhook",
                        name=alias,
                        from_=before,
                        to=version,
                        version=version,
                    ),
                    key,
                )
            elif action == "deleted" and before is not None:
                # MLflow says only which alias; what it pointed at comes from the history
                merger.add(
                    merger.event(
                        kind="alias",
                        time=at,
                        source="webhook",
                        name=alias,
                        from_=before,
                        to=None,
                        version=before,
                    ),
                    key,
                )
        # tag deliveries need nothing here: the tags themselves are read at each observation
    for model, alias in sorted(touched):
        rechain_alias(mergers[model], alias)
    if bad:
        store.warnings.append(
            f"{bad} unreadable webhook deliver{'ies' if bad != 1 else 'y'} skipped"
        )


def rechain_alias(merger: Merger, alias: str) -> None:
    """Make each inferred ``from`` of ``alias`` the ``to`` of the event before it.

    Only the console's audit record knows what an alias pointed at before; webhooks, tags and
    observation take it from the history, which may have learnt of an earlier change since. An
    observed change that the delivered events now show to be no change at all (the alias already
    held that version) contradicted them and is removed.
    """
    holder: str | None = None
    for event in [e for e in merger.events if e.kind == "alias" and e.name == alias]:
        if "console" not in event.sources and (event.from_ or None) != holder:
            if event.source == "observed" and (event.to or None) == holder:
                merger.events.remove(event)
                merger.store.delete(event.id)
                continue
            event.from_ = holder
            if event.to is None:
                event.version = holder
            merger.store.save(event)
        holder = event.to or None


# --- promotion tags ----------------------------------------------------------------------------


def ingest_tags(merger: Merger, versions: list[Any]) -> None:
    """Events from the ``mlops.promot*``/``mlops.demot*`` tags the console writes on versions."""
    for v in versions:
        tags = v.tags or {}
        for kind in ("promot", "demot"):
            audit_id = tags.get(f"mlops.{kind}ion_audit_id")
            what = tags.get(f"mlops.{kind}ion") or ""
            if not audit_id or not what:
                continue
            key = f"tag:{audit_id}:{v.version}"
            if merger.store.merged(key):
                continue
            at = _when(tags.get(f"mlops.{kind}ed_at"), None)
            if at is None:
                continue
            candidate = _from_tag(merger, what, v.version, at)
            if candidate is None:
                continue
            candidate.actor = tags.get(f"mlops.{kind}ed_by")
            candidate.audit_id = audit_id
            candidate.reason = tags.get(f"mlops.{kind}ion_reason") or None  # "" = none
            merger.add(candidate, key)


def _from_tag(merger: Merger, what: str, version: str, at: datetime) -> HistoryEvent | None:
    words = what.split()
    before = merger.before(at)
    if words[:2] == ["remove", "alias"] and len(words) >= 3:
        return merger.event(
            kind="alias", time=at, source="tag", name=words[2], from_=version, to=None,
            version=version,
        )  # fmt: skip
    if words[:1] == ["alias"] and len(words) >= 2:
        return merger.event(
            kind="alias", time=at, source="tag", name=words[1],
            from_=before.aliases.get(words[1]), to=version, version=version,
        )  # fmt: skip
    if words[:1] == ["stage"] and len(words) >= 2:
        return merger.event(
            kind="stage", time=at, source="tag", name=words[1],
            from_=before.version_stages.get(version, "None"), to=words[1], version=version,
        )  # fmt: skip
    return None


# --- observation -------------------------------------------------------------------------------


def _ms(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


def observe(
    merger: Merger, aliases: dict[str, str], versions: list[Any], now: datetime
) -> list[HistoryEvent]:
    """Record what changed since the history last knew: "observed between T1 and now"."""
    snap = merger.store.snapshot(merger.server, merger.model)
    last_seen = snap[0] if snap else None
    known = merger.known()
    created = {v.version: _ms(v.creation_timestamp) for v in versions}
    found: list[HistoryEvent] = []

    def after(*times: datetime | None) -> datetime | None:
        present = [t for t in times if t is not None]
        return max(present) if present else None

    def last_change(
        kind: str, *, name: str | None = None, version: str | None = None
    ) -> datetime | None:
        # a change cannot predate the event that set what it changed: the window starts there
        times = [
            e.time
            for e in merger.events
            if e.kind == kind
            and (name is None or e.name == name)
            and (version is None or e.version == version)
        ]
        return max(times) if times else None

    for v in sorted(versions, key=lambda v: v.version_number):
        if v.version not in known.version_stages:
            at = created[v.version] or now
            event = merger.event(
                kind="version", time=at, source="observed", to=v.version, version=v.version,
                observed_after=at, actor=v.user_id or None,
            )  # fmt: skip
            merger.add(event, "", observed=True)
            found.append(event)
    actual_stages = {v.version: v.current_stage or "None" for v in versions}
    for version, stage in actual_stages.items():
        was = known.version_stages.get(version, "None")
        if stage != was:
            event = merger.event(
                kind="stage", time=now, source="observed", name=stage, from_=was, to=stage,
                version=version,
                observed_after=after(
                    last_seen, created.get(version), last_change("stage", version=version)
                ),
            )  # fmt: skip
            merger.add(event, "", observed=True)
            found.append(event)
    for alias in sorted(set(aliases) | set(known.aliases)):
        now_at, was = aliases.get(alias), known.aliases.get(alias)
        if now_at != was:
            window = after(
                last_seen,
                created.get(now_at) if now_at else None,
                last_change("alias", name=alias),
            )
            event = merger.event(
                kind="alias", time=now, source="observed", name=alias, from_=was, to=now_at,
                version=now_at or was, observed_after=window,
            )  # fmt: skip
            merger.add(event, "", observed=True)
            found.append(event)
    merger.store.save_snapshot(
        merger.server, merger.model, now, {"aliases": aliases, "stages": actual_stages}
    )
    return found

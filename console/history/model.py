"""Domain types of the registry history: one event of the timeline, the state at an instant, undo.

Pydantic only, shared by ``commands.history``, the CLI and (later) the TUI's history screen.
``replay`` folds events into the registry state they leave behind; it is the one definition of
"what was true at time T" used by ``--at``, by observation and by undo.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from console.promotion_model import PromotionRequest, PromotionResult

Kind = Literal["alias", "stage", "version"]
Source = Literal["console", "webhook", "observed", "tag"]
# which source's account of an event wins when several describe it (time, actor)
SOURCE_RANK: dict[str, int] = {"console": 0, "webhook": 1, "tag": 2, "observed": 3}


class HistoryEvent(BaseModel):
    """One registry change. ``from``/``to``: versions for aliases, stages for stages.

    - alias: ``name`` the alias, ``from``/``to`` the versions (null = absent), ``version`` the one
      acted on;
    - stage: ``name`` the stage entered, ``from``/``to`` the version's stages, ``version`` it;
    - version: a version created; ``to`` and ``version`` are its number, ``name`` is null.

    ``observed_after`` is set for changes the console only observed: the change happened after
    it (null: at any time before) and no later than ``time``. ``unverified`` marks an event the
    console knows from ``mlops.promot*``/``mlops.demot*`` tags alone, with no matching audit
    record of this home: it is shown as such and never undone.
    """

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    time: datetime
    model: str
    kind: Kind
    name: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    version: str | None = None
    actor: str | None = None
    source: Source
    sources: list[Source] = Field(default_factory=list)
    observed_after: datetime | None = None
    server: str = ""
    audit_id: str | None = None
    reason: str | None = None
    # set on the event an undo produced: the id of the event it undid
    undoes: str | None = None
    # known from promotion tags (which anyone may set, e.g. with MLflow's own client) that no
    # audit record of this home confirms: its actor, time and reason are claims, not facts
    unverified: bool = False

    @property
    def uncertain(self) -> bool:
        """Whether only observation dates this change (it happened inside a window)."""
        return self.source == "observed" and self.kind != "version"

    @property
    def target(self) -> str:
        return f"{self.kind}:{self.name}" if self.kind != "version" else f"version:{self.version}"

    def describe(self) -> str:
        """``alias champion: v1 → v2`` and the like, as plain text."""
        if self.kind == "version":
            return f"version v{self.version} created"
        if self.kind == "alias":
            left = f"v{self.from_}" if self.from_ else "(absent)"
            right = f"v{self.to}" if self.to else "(deleted)"
            return f"alias {self.name}: {left} → {right}"
        return f"v{self.version} stage: {self.from_ or 'None'} → {self.to or 'None'}"

    def public(self) -> dict[str, Any]:
        """The JSON form of the CLI contract (``from`` spelled as such)."""
        return self.model_dump(mode="json", by_alias=True)


class Timeline(BaseModel):
    """A model's events (oldest first) and what the reader should know about them."""

    model: str
    server: str
    events: list[HistoryEvent] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    observed_at: datetime | None = None


class RegistryState(BaseModel):
    """The registry of one model at instant ``at``; ``observed`` when observation dates it."""

    at: datetime
    aliases: dict[str, str] = Field(default_factory=dict)
    stages: dict[str, list[str]] = Field(default_factory=dict)
    observed: bool = False

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Fold(BaseModel):
    """The state left by a sequence of events: aliases, each version's stage, known versions."""

    aliases: dict[str, str] = Field(default_factory=dict)
    version_stages: dict[str, str] = Field(default_factory=dict)

    def apply(self, event: HistoryEvent) -> None:
        if event.kind == "version" and event.version:
            self.version_stages.setdefault(event.version, "None")
        elif event.kind == "alias" and event.name:
            if event.to:
                self.aliases[event.name] = event.to
            else:
                self.aliases.pop(event.name, None)
        elif event.kind == "stage" and event.version:
            self.version_stages[event.version] = event.to or "None"

    def stages(self) -> dict[str, list[str]]:
        """Each stage other than None → its versions, in version order."""
        found: dict[str, list[str]] = {}
        for version, stage in self.version_stages.items():
            if stage != "None":
                found.setdefault(stage, []).append(version)
        return {s: sorted(v, key=_version_key) for s, v in sorted(found.items())}


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (0, version)


def replay(events: list[HistoryEvent], until: datetime | None = None) -> Fold:
    """Fold ``events`` (oldest first) up to and including ``until``."""
    fold = Fold()
    for event in events:
        if until is not None and event.time > until:
            break
        fold.apply(event)
    return fold


def state_at(events: list[HistoryEvent], at: datetime) -> RegistryState:
    """The state at ``at``; ``observed`` when ``at`` falls inside an observed change's window."""
    fold = replay(events, at)
    observed = any(
        e.uncertain and (e.observed_after is None or e.observed_after < at) and at < e.time
        for e in events
    )
    return RegistryState(at=at, aliases=dict(fold.aliases), stages=fold.stages(), observed=observed)


class UndoPlan(BaseModel):
    """What undoing one event means: the promotion that restores the state before it."""

    event: HistoryEvent
    # the restoring promotion, None when refused before it could be built
    request: PromotionRequest | None = None
    restores: str = ""
    current: str = ""
    refusal: str | None = None


class UndoResult(BaseModel):
    """How an undo ended; ``outcome`` uses the promotion's vocabulary (and exit codes)."""

    outcome: Literal[
        "succeeded", "noop", "cancelled", "refused", "lost_race", "failed", "unconfirmed"
    ]
    message: str
    plan: UndoPlan
    promotion: PromotionResult | None = None
    audit_id: str | None = None
    warnings: list[str] = Field(default_factory=list)

"""Domain types of a promotion: the request, what the registry showed, gates, the plan and result.

Pydantic only (no clients), so the CLI, commands and widgets share them; ``plan_lines`` renders a
plan as plain text lines (callers make server text printable or wrap it in ``rich.text.Text``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from console.audit import Actor
from console.model import ModelEditPermission, version_number

ActionKind = Literal["set_alias", "remove_alias", "transition_stage"]
# "not_run": an earlier gate failed and the operator did not ask for every gate (``all_gates``)
GateStatus = Literal["passed", "failed", "skipped", "error", "not_run"]
# "unconfirmed": the write was sent but the server did not answer its verification: the change
# may have happened; its intent stays pending and the next read of the model resolves it
Outcome = Literal["succeeded", "noop", "cancelled", "refused", "lost_race", "failed", "unconfirmed"]

STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
# targets whose promotion asks the operator to type the model name
PROTECTED_ALIASES = frozenset({"champion"})
PROTECTED_STAGES = frozenset({"Production"})
# stages that move a version towards serving; the others are demotions and are not gated
PROMOTING_STAGES = frozenset({"Staging", "Production"})

_ALIAS = re.compile(r"[\w\-]+")
_RESERVED_ALIAS = re.compile(r"latest|v\d+", re.IGNORECASE)
ALIAS_MAX = 255  # MLflow's limit on an alias name


def canonical_stage(stage: str) -> str:
    """``production`` → ``Production``; ValueError for anything that is not an MLflow stage."""
    found = STAGES.get(stage.strip().lower())
    if found is None:
        raise ValueError(f"unknown stage {stage!r} (use one of {', '.join(STAGES.values())})")
    return found


def check_alias(alias: str) -> str:
    """An alias MLflow accepts: letters, digits, ``_``, ``-``, at most 255 of them; not
    ``latest`` or ``v<digits>``. (``fullmatch``: ``$`` would let a trailing newline through.)"""
    if len(alias) > ALIAS_MAX:
        raise ValueError(f"an alias has at most {ALIAS_MAX} characters (this one {len(alias):,})")
    if not _ALIAS.fullmatch(alias):
        raise ValueError(f"alias {alias!r} may hold only letters, digits, '_' and '-'")
    if _RESERVED_ALIAS.fullmatch(alias):
        raise ValueError(f"alias {alias!r} is reserved by MLflow")
    return alias


class PromotionRequest(BaseModel):
    """What the operator asked for. ``expect`` is ``"<version>"``, ``"none"`` or unset."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(min_length=1)
    version: str
    alias: str | None = None
    stage: str | None = None
    remove: bool = False
    archive_others: bool = False
    expect: str | None = None
    reason: str | None = None
    force: bool = False
    # overwrite a broken promotion lease (one no console would write); audited with the reason
    break_lease: bool = False
    # run every gate even after one failed (by default the first failure stops the rest)
    all_gates: bool = False

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return version_number(value.strip().removeprefix("v"))

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str | None) -> str | None:
        return None if value is None else check_alias(value)

    @field_validator("stage")
    @classmethod
    def _stage(cls, value: str | None) -> str | None:
        return None if value is None else canonical_stage(value)

    @field_validator("expect")
    @classmethod
    def _expect(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower().removeprefix("v")
        if value == "none":
            return "none"
        try:
            return version_number(value)
        except ValueError:
            raise ValueError(f"--expect {value!r} must be a version number or 'none'") from None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        return value or None

    @model_validator(mode="after")
    def _one_target(self) -> PromotionRequest:
        if (self.alias is None) == (self.stage is None):
            raise ValueError("give exactly one of an alias or a stage")
        if self.remove and self.alias is None:
            raise ValueError("remove applies to an alias (move the version to stage None instead)")
        if self.archive_others and self.stage is None:
            raise ValueError("archive-others applies to a stage transition")
        if self.force and not self.reason:
            raise ValueError("force needs a reason: overriding a gate is audited with it")
        if self.break_lease and not self.reason:
            raise ValueError("break-lease needs a reason: breaking a lease is audited with it")
        return self

    @property
    def action(self) -> ActionKind:
        if self.stage is not None:
            return "transition_stage"
        return "remove_alias" if self.remove else "set_alias"

    @property
    def target(self) -> str:
        return f"alias:{self.alias}" if self.alias is not None else f"stage:{self.stage}"

    @property
    def promoting(self) -> bool:
        """True when the version moves towards serving (gated); removals and demotions are not."""
        if self.alias is not None:
            return not self.remove
        return self.stage in PROMOTING_STAGES

    @property
    def protected(self) -> bool:
        return self.alias in PROTECTED_ALIASES or self.stage in PROTECTED_STAGES


class RegistryView(BaseModel):
    """What the registry said about the target at one moment (the compare-and-set snapshot)."""

    # alias targets: the version the alias points at (None = the alias does not exist)
    alias_holder: str | None = None
    # stage targets: the candidate's own stage and every version in the target stage
    version_stage: str | None = None
    stage_holders: list[str] = Field(default_factory=list)
    # stage None: any number of versions are in it (not holders, not compared): how many are
    stage_count: int | None = None

    @property
    def stage_holder(self) -> str | None:
        """The newest version in the target stage (what ``--expect`` compares for stages)."""
        if not self.stage_holders:
            return None
        return max(self.stage_holders, key=int)

    def describe(self, request: PromotionRequest) -> str:
        if request.alias is not None:
            where = f"v{self.alias_holder}" if self.alias_holder else "nothing (alias absent)"
            return f"alias {request.alias} → {where}"
        where = f"v{request.version} in stage {self.version_stage or 'None'}"
        if request.stage == "None":
            # None is no stage: many versions are in it, and none of them "holds" it
            if self.stage_count is None:
                return f"{where}; the versions in None were not counted"
            return f"{where}; {_versions(self.stage_count)} in None"
        holders = ", ".join(f"v{v}" for v in self.stage_holders) or "no version"
        return f"{where}; {request.stage}: {holders}"


def _versions(count: int) -> str:
    return "1 version is" if count == 1 else f"{count} versions are"


class GateResult(BaseModel):
    """One gate on the candidate: ``failed`` and ``error`` block unless overridden."""

    name: str
    status: GateStatus
    # one line; a gate with several problems names the first and how many more
    detail: str
    seconds: float | None = None
    # every problem behind ``detail``, whole, when it had to summarise or cut (the full text)
    problems: list[str] = Field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return self.status in ("failed", "error")


class GateProgress(BaseModel):
    """One gate starting or finishing while a plan is built (for a live view of the gates)."""

    name: str
    # "waiting": queued behind the gates before it (they run one at a time, cheapest first)
    status: Literal["waiting", "running", "passed", "failed", "skipped", "error", "not_run"]
    detail: str = ""
    seconds: float | None = None


class RunAllGates(BaseModel):
    """An operator's answer to a plan whose first failed gate stopped the rest: run every gate
    (the request again with ``all_gates``), then show the plan again."""


class PromotionPlan(BaseModel):
    """Everything the operator confirms: before → after, gates, who, and the writes."""

    request: PromotionRequest
    server: str
    actor: Actor
    permission: str
    before: RegistryView
    after: RegistryView
    # the holder the write is conditioned on: a version, or "none" for "absent"
    expected: str
    version_status: str | None = None
    gates: list[GateResult] = Field(default_factory=list)
    writes: list[str] = Field(default_factory=list)
    typed_confirmation: str | None = None
    noop: bool = False
    # why the plan cannot go ahead (set before asking the operator)
    refusal: str | None = None
    # refused only because gates failed: an operator may override with a reason (the CLI's
    # --force, the TUI's override form); the refusal text itself names no way to do it
    overridable: bool = False

    @property
    def failed_gates(self) -> list[GateResult]:
        return [g for g in self.gates if g.blocking]

    @property
    def not_run_gates(self) -> list[GateResult]:
        """Gates left out because an earlier one failed (never counted as passed)."""
        return [g for g in self.gates if g.status == "not_run"]

    @property
    def forced(self) -> bool:
        return bool(self.failed_gates) and self.request.force

    @property
    def title(self) -> str:
        r = self.request
        if r.action == "set_alias":
            return f"set alias {r.alias} of {r.model} to v{r.version}"
        if r.action == "remove_alias":
            return f"remove alias {r.alias} (v{r.version}) of {r.model}"
        if r.stage == "None":
            return f"move v{r.version} of {r.model} to stage None (out of its stage)"
        extra = ", archiving the others" if r.archive_others else ""
        return f"move v{r.version} of {r.model} to stage {r.stage}{extra}"


class PromotionResult(BaseModel):
    """How the flow ended; ``current`` is the registry as last read."""

    outcome: Outcome
    message: str
    plan: PromotionPlan | None = None
    current: RegistryView | None = None
    audit_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("succeeded", "noop")


# what the CLI adds to a refusal it can override (the TUI offers its override form instead)
CLI_OVERRIDE_HINT = "override with --force and a --reason"


def promotion_blocked(read_only: bool, permission: ModelEditPermission | None) -> str | None:
    """Why promotion keys are greyed out for this model, or ``None`` when they are offered."""
    if read_only:
        return "read-only mode: promotions are disabled (run without --read-only)"
    if permission is not None and permission.allowed is False:
        return f"not permitted: {permission.reason}"
    return None


_MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "error": "ERR ", "not_run": "----"}
# what a plan says when the first failure stopped the gates after it
NOT_RUN_HINT = "to run every gate: --all-gates, or g on the plan in the console"


def _expects_line(plan: PromotionPlan) -> str:
    """What the write is conditioned on (compare-and-set), truthfully for stage None."""
    r = plan.request
    if r.alias is None and r.stage == "None":
        return (
            f"  expects:  v{r.version} still in stage {plan.before.version_stage or 'None'}"
            " (stage None has no holder to compare)"
        )
    holder = "no version" if plan.expected == "none" else "v" + plan.expected
    verb = "holds" if r.alias is None else "behind"
    return f"  expects:  {holder} {verb} {r.target.split(':', 1)[1]} right now"


def plan_lines(plan: PromotionPlan, *, full: bool = False) -> list[str]:
    """The plan as plain lines, for a terminal or a modal; ``full`` lists every problem of every
    gate under its line (the one-line detail names only the first)."""
    r = plan.request
    lines = [
        f"{plan.title}",
        f"  server:   {plan.server}",
        f"  operator: {plan.actor}",
        f"  access:   {plan.permission}",
        f"  before:   {plan.before.describe(r)}",
        f"  after:    {plan.after.describe(r)}",
        _expects_line(plan),
    ]
    if plan.gates:
        lines.append("  gates:")
        for g in plan.gates:
            lines.append(f"    {_MARK[g.status]} {g.name}: {g.detail}")
            if full:
                lines += [f"         - {problem}" for problem in g.problems]
        if plan.not_run_gates:
            names = ", ".join(g.name for g in plan.not_run_gates)
            lines.append(f"  stopped:  at the first failed gate; not run: {names} ({NOT_RUN_HINT})")
    elif r.promoting:
        lines.append("  gates:    none configured for this target")
    else:
        lines.append("  gates:    none (not a promotion)")
    if plan.forced:
        names = ", ".join(g.name for g in plan.failed_gates)
        unchecked = ", ".join(g.name for g in plan.not_run_gates)
        also = f"; gates never run, so not checked either: {unchecked}" if unchecked else ""
        lines.append(f"  OVERRIDE: failed gates ({names}) overridden{also}; reason: {r.reason}")
    elif r.reason:
        lines.append(f"  reason:   {r.reason}")
    if plan.writes:
        lines.append("  writes:")
        lines += [f"    {w}" for w in plan.writes]
    if plan.noop:
        lines.append("  nothing to do: the registry already shows this")
    if plan.refusal:
        lines.append(f"  REFUSED:  {plan.refusal}")
    return lines

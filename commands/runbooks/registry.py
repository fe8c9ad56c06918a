"""The registry of step commands a runbook may name (``postgres.table_stats``, ``mlflow.gc_runs``…).

A step command is a check (reads only; runs even in a dry run) or an action (changes something;
``plan`` says what it would change, for the dry run and the confirmation prompt). Each declares a
pydantic model of its arguments. Commands live in the ``steps_*`` modules, loaded on first lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from commands.runbooks.context import StepContext

STEP_MODULES = (
    "commands.runbooks.steps_postgres",
    "commands.runbooks.steps_registry",
    "commands.runbooks.steps_lineage",
    "commands.runbooks.steps_retrain",
)


class StepResult(BaseModel):
    """What a step produced: ``data`` is what later steps' templates can name."""

    ok: bool = True
    summary: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    findings: list[str] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list)


class Plan(BaseModel):
    """What an action would change; empty ``changes`` means there is nothing to do."""

    changes: list[str] = Field(default_factory=list)
    # with no changes: why there is nothing to do (default "nothing to change")
    summary: str = ""
    # text the operator must type to confirm (for the irreversible or disruptive ones)
    typed_confirmation: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    # what planning computed that the run reuses instead of computing it again (the promotion
    # plans with their gate verdicts); never shown, never written to the transcript
    carry: Any = Field(default=None, exclude=True)


@dataclass(frozen=True)
class StepCommand:
    name: str
    kind: Literal["check", "action"]
    summary: str
    args_model: type[BaseModel]
    run: Callable[[StepContext, Any], Awaitable[StepResult]]
    # actions only: what would change, computed with reads alone
    plan: Callable[[StepContext, Any], Awaitable[Plan]] | None = None
    # what the outputs in ``StepResult.data`` are, for a dry run that cannot know them yet:
    # key → a phrase ("the version the {step} step registers"; a flag as a condition: "the
    # {step} step chooses to promote"); ``{step}`` is the step's id in the runbook
    outputs: dict[str, str] = field(default_factory=dict)
    # a dry run of a step whose arguments name values not known yet (``template.Unknown``, whose
    # text says what they will be): what the step would do, from the raw arguments, with reads
    # alone; without it the engine describes the step from its summary
    describe: Callable[[StepContext, dict[str, Any]], Awaitable[StepResult]] | None = None


_loaded: dict[str, StepCommand] | None = None


def commands() -> dict[str, StepCommand]:
    """Every registered step command by name."""
    global _loaded
    if _loaded is None:
        import importlib

        found: dict[str, StepCommand] = {}
        for module_name in STEP_MODULES:
            module = importlib.import_module(module_name)
            for command in module.COMMANDS:
                if command.kind == "action" and command.plan is None:
                    raise RuntimeError(f"action {command.name} has no plan")
                found[command.name] = command
        _loaded = found
    return _loaded


def lookup(name: str) -> StepCommand | None:
    return commands().get(name)

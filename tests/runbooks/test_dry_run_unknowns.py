"""A dry run describes the steps that wait for what an earlier planned action would produce.

Step commands registered for the test only: an action whose output (a version) a dry run cannot
know, and later steps naming it in their arguments, inside a longer string, and in a ``when``.
The dry run shows every step as planned with what it would do and exits 0; a real run of the same
runbook runs them all with the real value. A step naming an output of a skipped step is skipped
(``when``) or told that the step was skipped (arguments).
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from commands.runbooks import registry, template
from commands.runbooks.registry import Plan, StepCommand, StepResult
from tests.runbooks.conftest import ScriptedDriver, settings_for


class MakeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class UseArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    label: str = ""


class FlagArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    raised: bool


async def _make_plan(ctx, args: MakeArgs) -> Plan:
    return Plan(changes=[f"make a new version of {args.name}"])


async def _make(ctx, args: MakeArgs) -> StepResult:
    return StepResult(summary="made v7", data={"version": "7", "ready": True})


async def _use_plan(ctx, args: UseArgs) -> Plan:
    return Plan(changes=[f"use v{args.version}"], data={"used": args.version})


async def _use(ctx, args: UseArgs) -> StepResult:
    return StepResult(summary=f"used v{args.version} ({args.label})", data={"used": args.version})


async def _describe_use(ctx, raw: dict[str, Any]) -> StepResult:
    return StepResult(summary=f"would use {raw['version']}", changes=[f"use {raw['version']}"])


async def _look(ctx, args: UseArgs) -> StepResult:
    return StepResult(summary=f"looked at {args.label}")


async def _flag(ctx, args: FlagArgs) -> StepResult:
    return StepResult(summary=f"flag {args.raised}", data={"raised": args.raised})


COMMANDS = [
    StepCommand(
        name="test.make",
        kind="action",
        summary="make a version",
        args_model=MakeArgs,
        run=_make,
        plan=_make_plan,
        outputs={
            "version": "the version the {step} step makes",
            "ready": "the {step} step's version is ready",
        },
    ),
    StepCommand(
        name="test.use",
        kind="action",
        summary="use a version",
        args_model=UseArgs,
        run=_use,
        plan=_use_plan,
        describe=_describe_use,
    ),
    StepCommand(
        name="test.look", kind="check", summary="look at a version", args_model=UseArgs, run=_look
    ),
    StepCommand(
        name="test.flag", kind="check", summary="report a flag", args_model=FlagArgs, run=_flag
    ),
]

RUNBOOK = """\
---
name: unknowns
title: Steps waiting for a planned action's output
summary: for the dry-run test
when_to_use: in tests
---

# Steps waiting

## Make

```step
id: make
kind: action
command: test.make
args:
  name: demo
on_failure: none
```

## Use

```step
id: use
kind: action
command: test.use
args:
  version: "{{ steps.make.version }}"
on_failure: none
```

## Look

```step
id: look
kind: check
command: test.look
args:
  version: "1"
  label: "v{{ steps.make.version }} of demo"
on_failure: none
```

## Use when ready

```step
id: when-ready
kind: action
command: test.use
when: steps.make.ready
args:
  version: "{{ steps.use.used }}"
on_failure: none
```

## A flag

```step
id: flag
kind: check
command: test.flag
args:
  raised: false
on_failure: none
```

## Only when flagged

```step
id: flagged
kind: check
command: test.flag
when: steps.flag.raised
args:
  raised: true
on_failure: none
```

## Naming a skipped step in a when

```step
id: after-skip
kind: check
command: test.look
when: steps.flagged.raised
args:
  version: "1"
on_failure: none
```
"""


@pytest.fixture
def runbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from commands.runbooks.format import parse_runbook

    loaded = dict(registry.commands())
    loaded.update({c.name: c for c in COMMANDS})
    monkeypatch.setattr(registry, "_loaded", loaded)
    path = tmp_path / "unknowns.md"
    path.write_text(textwrap.dedent(RUNBOOK))
    return parse_runbook(path)


def _run(runbook, home: Path, *, dry_run: bool):
    from commands.runbooks.engine import run_runbook

    settings = settings_for(home, "http://127.0.0.1:9", MLOPS_CONSOLE_CONFIG=str(home / "none"))
    driver = ScriptedDriver(default=True)
    transcript, _, md = asyncio.run(run_runbook(runbook, settings, driver, dry_run=dry_run, env={}))
    return transcript, driver, md


def test_dry_run_describes_steps_waiting_for_unknown_values(runbook, tmp_path) -> None:
    transcript, _driver, md = _run(runbook, tmp_path / "home", dry_run=True)
    steps = {s.id: s for s in transcript.steps}
    assert transcript.status == "dry-run", [(s.id, s.state, s.error) for s in transcript.steps]
    assert {k: s.state for k, s in steps.items()} == {
        "make": "planned",
        "use": "planned",
        "look": "planned",
        "when-ready": "planned",
        "flag": "ok",
        "flagged": "skipped",
        "after-skip": "skipped",
    }
    assert all(s.error is None and s.advice is None for s in transcript.steps)
    # the command's own description, in terms of what the value will be
    assert steps["use"].summary == "would use the version the make step makes"
    assert steps["use"].changes == ["use the version the make step makes"]
    assert steps["use"].args == {"version": "<the version the make step makes>"}
    # without a description: the command's summary and what it waits for (a longer string too)
    assert steps["look"].summary == (
        "would look at a version (label = vthe version the make step makes of demo)"
    )
    # an unknown condition is named; the step waits for the planned step's output in turn
    assert steps["when-ready"].summary.endswith(", if the make step's version is ready")
    assert "the used of step use (known once it runs)" in steps["when-ready"].summary
    # a skipped step's outputs are empty: a when naming one is false
    assert steps["after-skip"].summary == "when `steps.flagged.raised` is false"
    assert "would use the version the make step makes" in md.read_text()


def test_real_run_uses_the_values(runbook, tmp_path) -> None:
    transcript, _driver, _ = _run(runbook, tmp_path / "home", dry_run=False)
    steps = {s.id: s for s in transcript.steps}
    assert transcript.status == "completed", [(s.id, s.state, s.error) for s in transcript.steps]
    assert steps["use"].summary == "used v7 ()"
    assert steps["look"].summary == "looked at v7 of demo"
    assert steps["when-ready"].state == "ok" and steps["when-ready"].summary == "used v7 ()"


def test_arguments_naming_a_skipped_step_say_so() -> None:
    skipped = template.StepOutputs({}, step="train", state="skipped", why="skipped: x is false")
    scope = {"params": {}, "steps": {"train": skipped}}
    with pytest.raises(template.SkippedValue, match="step train was skipped"):
        template.render("{{ steps.train.version }}", scope)
    assert template.evaluate("steps.train.version", scope) is False
    planned = template.StepOutputs({"known": 1}, step="train", state="planned")
    scope = {"params": {}, "steps": {"train": planned}}
    assert template.render("{{ steps.train.known }}", scope) == 1
    value = template.render("{{ steps.train.version }}", scope)
    assert isinstance(value, template.Unknown)
    assert str(value) == "the version of step train (known once it runs)"
    assert isinstance(template.evaluate_or_unknown("not steps.train.ok", scope), template.Unknown)
    with pytest.raises(TypeError, match="not known yet"):
        template.evaluate("steps.train.ok", scope)


def test_a_template_without_a_value_gets_advice_about_the_template(tmp_path, monkeypatch) -> None:
    """Not the step's own on_failure advice: the step never ran."""
    from commands.runbooks.format import parse_runbook

    loaded = dict(registry.commands())
    loaded.update({c.name: c for c in COMMANDS})
    monkeypatch.setattr(registry, "_loaded", loaded)
    text = (
        textwrap.dedent(RUNBOOK)
        .replace('version: "{{ steps.make.version }}"', 'version: "{{ steps.make.nothing }}"')
        .replace("on_failure: none", "on_failure: the alias could not be set")
    )
    path = tmp_path / "unknowns.md"
    path.write_text(text)
    transcript, _driver, _ = _run(parse_runbook(path), tmp_path / "home", dry_run=False)
    use = transcript.step("use")
    assert transcript.status == "failed" and use.state == "failed"
    assert use.error == "{{ steps.make.nothing }} has no value (steps.make.nothing is missing)"
    assert use.advice.startswith("the step did not run: its arguments name a value")

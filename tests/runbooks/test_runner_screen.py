"""Pilot tests of the runbook runner screen, driving the real engine against real PostgreSQL.

A small runbook measures a table with dead tuples, VACUUMs it after a confirmation prompt, and
measures again; the screen shows each step's state, the prompt, live output and the transcript.
"""

from __future__ import annotations

import textwrap
import uuid

import psycopg
import pytest
from textual.app import App
from textual.widgets import DataTable

from commands.runbooks.engine import run_runbook
from commands.runbooks.format import parse_runbook
from tests.runbooks.conftest import settings_for
from tests.support.servers import PG_DSN, postgres_available
from widgets.runbook_screen import RunbookConfirm, RunbookScreen, StepView

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not on 127.0.0.1:5432"),
]

RUNBOOK = """\
---
name: tiny-vacuum
title: Tiny vacuum
summary: measure, vacuum, measure
when_to_use: in the runner screen tests
parameters:
  dsn:
    type: dsn
    required: true
---

## Measure

How big the metrics table is.

```step
id: before
kind: check
command: postgres.table_stats
args:
  dsn: "{{ params.dsn }}"
  tables: [metrics]
on_failure: check the database
```

## Vacuum

Makes dead tuples reusable.

```step
id: vacuum
kind: action
command: postgres.vacuum_analyze
args:
  dsn: "{{ params.dsn }}"
  tables: [metrics]
on_failure: check the database
```

## Measure again

```step
id: after
kind: check
command: postgres.table_stats
args:
  dsn: "{{ params.dsn }}"
  tables: [metrics]
on_failure: check the database
```
"""


@pytest.fixture
def database():
    name = f"mlc_rb_tui_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = PG_DSN.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE metrics (k text, v float)")
        conn.execute("INSERT INTO metrics SELECT 'loss', g FROM generate_series(1, 5000) g")
        conn.execute("DELETE FROM metrics WHERE v > 1000")
    # the session's counters reach pg_stat when it closes
    try:
        yield dsn
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Host(App):
    def __init__(self, screen: RunbookScreen) -> None:
        super().__init__()
        self.runner_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.runner_screen)


def _screen(tmp_path, dsn: str) -> RunbookScreen:
    path = tmp_path / "tiny-vacuum.md"
    path.write_text(textwrap.dedent(RUNBOOK))
    runbook = parse_runbook(path)
    settings = settings_for(tmp_path / "home")
    steps = [StepView(s.id, s.title, s.kind, s.command, s.explanation) for s in runbook.steps]
    return RunbookScreen(
        runbook.header.title,
        steps,
        lambda driver: run_runbook(runbook, settings, driver, overrides={"dsn": dsn}),
    )


def _prompted(app) -> bool:
    focused = app.focused
    return isinstance(app.screen, RunbookConfirm) and focused is not None and focused.id == "rb-no"


async def _until(pilot, condition, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


async def test_runner_confirms_runs_and_shows_transcript(tmp_path, database):
    screen = _screen(tmp_path, database)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: _prompted(app))  # the safe choice has the focus
        modal = app.screen
        assert "VACUUM (ANALYZE) metrics" in modal.prompt
        await pilot.press("y")
        await _until(pilot, lambda: screen.status is not None)
        assert screen.status == "completed"
        assert screen.states == {"before": "ok", "vacuum": "ok", "after": "ok"}
        table = screen.query_one("#rb-steps", DataTable)
        assert [table.get_cell(k, "state") for k in ("before", "vacuum", "after")] == ["✔"] * 3
        assert "## 2. Vacuum — ✔ ok" in screen.transcript_text
        assert screen.has_class("finished")
        await pilot.press("escape")
        assert app.screen is not screen


async def test_runner_declined_action_stops_and_changes_nothing(tmp_path, database):
    screen = _screen(tmp_path, database)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: _prompted(app))
        await pilot.press("escape")
        await _until(pilot, lambda: screen.status is not None)
        assert screen.status == "declined"
        assert screen.states["vacuum"] == "declined" and screen.states["after"] == "pending"


async def test_read_only_refuses_actions_and_audits_the_refusal(tmp_path, database):
    from console.audit import AuditFilter, AuditLog
    from tests.runbooks.conftest import ScriptedDriver

    path = tmp_path / "tiny-vacuum.md"
    path.write_text(textwrap.dedent(RUNBOOK))
    settings = settings_for(tmp_path / "home", MLOPS_CONSOLE_READ_ONLY="true")
    driver = ScriptedDriver(True)
    transcript, _, _ = await run_runbook(
        parse_runbook(path), settings, driver, overrides={"dsn": database}
    )
    assert transcript.status == "refused" and driver.prompts == []
    assert transcript.step("vacuum").state == "refused"
    records = AuditLog.for_settings(settings).read(AuditFilter(action_prefix="runbook.")).records
    assert [(r.action, r.outcome) for r in records] == [
        ("runbook.postgres.vacuum_analyze", "refused")
    ]


async def test_escape_after_the_end_leaves_once_the_run_has_closed(tmp_path):
    """The end is on screen (status, transcript) a moment before the engine returns; escape then
    leaves as soon as it has, instead of a "still running" toast that left the operator on the
    runner (journey 6 on CI)."""
    import asyncio

    closing = asyncio.Event()

    async def runner(driver) -> None:
        driver.output({"event": "finished", "status": "declined", "markdown": None})
        await closing.wait()  # the transcript's last write, the lease's release

    screen = RunbookScreen("Lingers", [StepView("a", "A", "check", "x.y", "")], runner)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: screen.status is not None)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is screen and not app._notifications  # waiting, no toast
        closing.set()
        await _until(pilot, lambda: app.screen is not screen)


async def test_escape_while_running_says_how_to_interrupt(tmp_path):
    import asyncio

    never = asyncio.Event()

    async def runner(driver) -> None:
        await never.wait()

    screen = RunbookScreen("Runs", [StepView("a", "A", "check", "x.y", "")], runner)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert any("press x to interrupt" in n.message for n in app._notifications)
        await pilot.press("x")
        await pilot.pause(0.2)
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is not screen)

"""Resume in the console: a runbook run stopped before its end (a declined step) is offered on
the runbook's form as Resume, which continues it where it stopped with its own parameters — as
``runbook run NAME --resume`` does — instead of the runner quoting that command."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Static

from console.tui.app import build_app
from tests.runbooks.test_runner_screen import RUNBOOK, database  # noqa: F401 - a fixture
from tests.support.servers import postgres_available
from tests.tui.support import plain, settle, showing, wait_for
from widgets.runbook_chooser import RunbookForm
from widgets.runbook_screen import RunbookConfirm, RunbookScreen

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not on 127.0.0.1:5432"),
]


async def _form(pilot, app, dsn: str) -> RunbookForm:
    app.runbooks.open_prefilled("tiny-vacuum", {"dsn": dsn})
    await wait_for(pilot, lambda: showing(app, RunbookForm), 30)
    return app.screen


async def test_an_interrupted_run_resumes_from_the_form(
    tui_world,
    settings_for,
    tmp_path,
    monkeypatch,
    database,  # noqa: F811
) -> None:
    shelf = tmp_path / "runbooks"
    shelf.mkdir()
    (shelf / "tiny-vacuum.md").write_text(RUNBOOK)
    monkeypatch.setenv("MLOPS_CONSOLE_RUNBOOKS", str(shelf))
    app = build_app(settings_for(tui_world.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await _form(pilot, app, database)
        assert not form.query("#form-resume")  # nothing to resume yet
        form.query_one("#form-run", Button).press()
        await wait_for(pilot, lambda: showing(app, RunbookConfirm), 60)
        await pilot.press("escape")  # decline the vacuum: the run stops before its end
        await wait_for(pilot, lambda: showing(app, RunbookScreen), 30)
        runner = app.screen
        await wait_for(pilot, lambda: runner.status is not None, 60)
        assert runner.status == "declined"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, 30)

        form = await _form(pilot, app, database)
        offer = plain(form.query_one("#form-resumable", Static).render(), width=80)
        assert "interrupted: run" in offer and "(declined) after 1 of 3 steps" in offer, offer
        form.query_one("#form-resume", Button).press()
        await wait_for(pilot, lambda: showing(app, RunbookConfirm), 60)
        await pilot.press("y")
        await wait_for(pilot, lambda: showing(app, RunbookScreen), 30)
        runner = app.screen
        await wait_for(pilot, lambda: runner.status is not None, 60)
        assert runner.status == "completed"
        assert runner.states == {"before": "ok", "vacuum": "ok", "after": "ok"}
        assert "- resumed: " in runner.transcript_text
        await pilot.press("escape")
        form = await _form(pilot, app, database)
        assert not form.query("#form-resume")  # finished: nothing left to resume

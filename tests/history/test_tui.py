"""The history screen and undo in the console, driven with Pilot against a real MLflow server.

Aliases are moved by a console promotion and by MLflow's own Python client (someone else); the
registry pane's read observes the foreign move, ``h`` lists both, the ``@`` prompt answers, ``u``
undoes through the promotion modals (checked on the server), read-only refuses, and the focused
row stays visible at 80×24.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widgets import Input, Static

from commands.history import timeline
from commands.promote import promote
from console.history.model import HistoryEvent
from console.promotion_model import PromotionRequest
from console.tui.app import build_app
from tests.promote.test_actions import Recorder
from tests.tui.support import plain, settle, showing, table_texts, wait_for
from widgets.history_screen import HistoryScreen, UndoRefusedModal
from widgets.promote_modal import PlanModal

SIZES = [(80, 24), (160, 48)]
PATIENT = 90.0  # the machine is shared by many agents: be generous


async def _promote(flow, name: str, version: str, alias: str) -> None:
    async with flow.client() as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version=version, alias=alias),
            Recorder(),
        )
    assert result.outcome == "succeeded", result.message


def _move_with_mlflow(url: str, name: str, alias: str, version: str) -> None:
    """Someone else moves the alias, with MLflow's own client (not the console)."""
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=url).set_registered_model_alias(name, alias, version)


async def _stored(flow, name: str) -> list[HistoryEvent]:
    """What the history store holds, without observing the model again."""
    async with flow.client() as client:
        return (await timeline(flow.settings(), client, name, observe_now=False)).events


async def _open_model(pilot, app, name: str) -> None:
    """``:model NAME`` and wait until its versions are listed in the registry pane."""
    registry = app.main.registry_pane
    await wait_for(pilot, lambda: app.client is not None, PATIENT)
    await settle(pilot)
    await pilot.press("colon")
    app.main.query_one("#prompt-input", Input).value = f"model {name}"
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            registry.model is not None and registry.model.name == name and bool(registry.versions)
        ),
        PATIENT,
    )


async def _history(pilot, app) -> HistoryScreen:
    await pilot.press("h")
    await wait_for(pilot, lambda: showing(app, HistoryScreen), PATIENT)
    screen = app.screen
    await wait_for(pilot, lambda: screen.timeline is not None, PATIENT)
    await pilot.pause()
    return screen


def _rows(screen: HistoryScreen) -> str:
    return " | ".join(table_texts(screen.table))


def _visible(screen: HistoryScreen) -> bool:
    """The cursor row lies inside the table's visible region."""
    table = screen.table
    region = table._get_row_region(table.cursor_row)
    top = table.scroll_y + table.header_height
    bottom = table.scroll_y + table.scrollable_content_region.height
    return region.y >= top and region.y + region.height <= bottom


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_history_lists_console_and_foreign_moves_and_answers_at(flow, seeder, size):
    name = seeder.model([{}, {}, {}])
    await _promote(flow, name, "1", "canary")
    _move_with_mlflow(flow.url, name, "canary", "2")
    app = build_app(flow.settings(), build_demo=False)
    async with app.run_test(size=size) as pilot:
        await _open_model(pilot, app, name)
        # the pane's read feeds the history in a worker: the foreign move gets observed
        deadline = time.monotonic() + PATIENT
        stored = await _stored(flow, name)
        while len(stored) < 5 and time.monotonic() < deadline:
            await pilot.pause(0.5)
            stored = await _stored(flow, name)
        assert [(e.from_, e.to, e.source) for e in stored if e.kind == "alias"] == [
            (None, "1", "console"),
            ("1", "2", "observed"),
        ]
        app.main.focus_pane(1, app.main.registry_pane.version_table)
        await pilot.pause()
        screen = await _history(pilot, app)
        rows = _rows(screen)
        assert rows.count("version") == 3
        assert "absent → v1" in rows and "console" in rows
        assert "v1 → v2" in rows and "observed" in rows and "window" in rows
        # the observed event takes two lines: its window, start and end
        observed = next(e for e in screen.timeline.events if e.source == "observed" and e.name)
        assert screen.table.rows[observed.id].height == 2
        assert f"{observed.time:%Y-%m-%d %H:%M:%S}" in rows and " …" in rows
        # newest at the bottom, highlighted, and shown in full below
        assert screen.current_event.id == observed.id
        detail = plain(screen.query_one("#history-detail", Static).content, width=300)
        assert "observed, not reported" in detail and "actor unknown" in detail
        # the focused row stays visible while moving through the whole list
        for key in ("up",) * len(screen.timeline.events) + ("down",) * 8:
            await pilot.press(key)
            assert _visible(screen), f"cursor row {screen.table.cursor_row} scrolled out"

        console_event = next(e for e in screen.timeline.events if e.source == "console")

        async def at(text: str) -> str:
            await pilot.press("t")
            field = screen.query_one("#history-prompt-input", Input)
            assert field.has_focus
            field.value = text
            await pilot.press("enter")
            await pilot.pause()
            return plain(screen.query_one("#history-state", Static).content, width=300)

        now = await at("now")
        assert "canary → v2" in now and "rests on recorded events" in now
        then = await at(console_event.time.isoformat())
        assert "canary → v1" in then
        before = await at((observed.observed_after - timedelta(seconds=1)).isoformat())
        assert "aliases: none" in before and "rests on recorded events" in before
        inside = observed.observed_after + (observed.time - observed.observed_after) / 2
        window = await at(inside.isoformat())
        assert "canary → v1" in window and "rests on observation" in window
        await pilot.press("t")
        screen.query_one("#history-prompt-input", Input).value = "last tuesday"
        await pilot.press("enter")
        await pilot.pause()
        assert "canary → v1" in plain(screen.query_one("#history-state", Static).content)

        # the alias filter: only canary's changes, then everything again
        await pilot.press("slash")
        screen.query_one("#history-prompt-input", Input).value = "canary"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.table.row_count == 2 and "version" not in _rows(screen)
        await pilot.press("slash")
        screen.query_one("#history-prompt-input", Input).value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert screen.table.row_count == 5
        # escape in the prompt closes only the prompt
        await pilot.press("at")
        assert screen.query_one("#history-prompt-input", Input).has_focus
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen) and screen.table.has_focus
        await pilot.press("escape")
        assert not isinstance(app.screen, HistoryScreen)


async def test_undo_from_the_tui_restores_the_previous_holder(flow, seeder):
    name = seeder.model([{}, {}])
    await _promote(flow, name, "1", "canary")
    await _promote(flow, name, "2", "canary")
    app = build_app(flow.settings(), build_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_model(pilot, app, name)
        await settle(pilot)
        await pilot.press("colon")
        app.main.query_one("#prompt-input", Input).value = f"history {name}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, HistoryScreen), PATIENT)
        screen = app.screen
        await wait_for(pilot, lambda: screen.timeline is not None, PATIENT)
        await pilot.pause()
        newest = screen.current_event
        assert (newest.kind, newest.from_, newest.to) == ("alias", "1", "2")
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Undo: alias canary: v1 → v2" in titles  # also offered in the palette
        await pilot.press("u")
        await wait_for(pilot, lambda: showing(app, PlanModal), PATIENT)
        # the safe choice has the focus, as for promotions
        await wait_for(pilot, lambda: getattr(app.focused, "id", None) == "plan-no")
        body = plain(app.screen.query_one("#plan-body", Static).content, width=300)
        assert "canary" in body and "v1" in body
        # not read-only: no toast may say it is (one did, beside this working plan)
        toasts = [str(n.message) for n in app._notifications]
        assert not any("read-only" in t for t in toasts), toasts
        await pilot.press("y")
        await wait_for(pilot, lambda: seeder.aliases(name) == {"canary": "1"}, PATIENT)
        # the screen reads the history again: the undo is the newest event, linked to the undone
        await wait_for(
            pilot,
            lambda: screen.timeline is not None and screen.timeline.events[-1].undoes is not None,
            PATIENT,
        )
        undone = screen.timeline.events[-1]
        assert (undone.from_, undone.to, undone.undoes) == ("2", "1", newest.id)
        assert "(undo)" in _rows(screen)
    records = [r for r in flow.audit.read().records if r.model == name]
    assert records[-1].details["undone_event"] == newest.id


async def test_undo_after_someone_moved_the_alias_shows_the_current_state(flow, seeder):
    name = seeder.model([{}, {}, {}])
    await _promote(flow, name, "1", "canary")
    await _promote(flow, name, "2", "canary")
    app = build_app(flow.settings(), build_demo=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open_model(pilot, app, name)
        screen = await _history(pilot, app)
        console_move = screen.current_event
        assert (console_move.from_, console_move.to) == ("1", "2")
        _move_with_mlflow(flow.url, name, "canary", "3")  # while the screen is open
        await pilot.press("u")
        await wait_for(pilot, lambda: showing(app, UndoRefusedModal), PATIENT)
        text = plain(app.screen.query_one("#undo-refused", Static).content, width=300)
        assert "REFUSED" in text and "changed since" in text
        assert "is v3 now" in text
        await pilot.press("escape")
        # the history shows the newer move now
        await wait_for(pilot, lambda: any(e.to == "3" for e in screen.timeline.events), PATIENT)
    assert seeder.aliases(name) == {"canary": "3"}


async def test_read_only_refuses_undo_and_says_why(flow, seeder):
    name = seeder.model([{}, {}])
    await _promote(flow, name, "1", "canary")
    await _promote(flow, name, "2", "canary")
    app = build_app(flow.settings(read_only=True), build_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_model(pilot, app, name)
        app.main.focus_pane(1, app.main.registry_pane.model_table)
        await pilot.pause()
        screen = await _history(pilot, app)
        assert screen.check_action("undo", ()) is None  # greyed in the footer
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        toasts = [n.message for n in app._notifications]
        assert any("read-only" in t for t in toasts), toasts
        commands = [c.title for c in app.get_system_commands(screen)]
        assert not any(t.startswith("Undo") for t in commands)
    assert seeder.aliases(name) == {"canary": "2"}


async def test_the_registry_load_resolves_an_unfinished_promotion(flow, seeder):
    """Issue 20 finding 5: an intent left pending (a verification the server did not answer)
    is resolved by the console's next registry load of the model: outcome record and tags."""
    from console.audit import AuditFilter, AuditRecord, os_actor

    name = seeder.model([{}, {}])
    seeder.alias(name, "paused", "2")  # the write landed; its verification got no answer
    request = PromotionRequest(model=name, version="2", alias="paused")
    intent = AuditRecord(
        action="promote.set_alias",
        outcome="pending",
        actor=os_actor(),
        server=flow.url,
        model=name,
        version="2",
        target=request.target,
        details={"request": request.model_dump(mode="json")},
    )
    flow.audit.append(intent)
    app = build_app(flow.settings(), build_demo=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_model(pilot, app, name)

        def resolved() -> list:
            where = AuditFilter(model=name, include_closed_intents=True)
            return [
                r for r in flow.audit.read(where).records if r.details.get("intent_id") == intent.id
            ]

        def tagged() -> bool:
            return "mlops.promotion_audit_id" in seeder.version(name, "2")["tags"]

        # the outcome record first, then the tags that name it
        await wait_for(pilot, lambda: bool(resolved()) and tagged(), PATIENT)
    [record] = resolved()
    assert record.outcome == "succeeded" and "took effect" in (record.message or "")
    assert seeder.version(name, "2")["tags"]["mlops.promotion_audit_id"] == record.id


async def test_the_history_view_marks_forged_tags_unverified(flow, seeder):
    """Issue 20 finding 9: promotion tags set with MLflow's own client show as UNVERIFIED."""
    from datetime import UTC, datetime

    from mlflow import MlflowClient

    name = seeder.model([{}, {}])
    client = MlflowClient(tracking_uri=flow.url)
    client.set_registered_model_alias(name, "champion", "2")
    tags = {
        "mlops.promoted_by": "mallory",
        "mlops.promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mlops.promotion": "alias champion",
        "mlops.promotion_audit_id": "0" * 32,
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, "2", key, value)
    app = build_app(flow.settings(), build_demo=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open_model(pilot, app, name)
        screen = await _history(pilot, app)
        table = screen.table
        rows = [
            [plain(cell).strip() for cell in table.get_row_at(index)]
            for index in range(table.row_count)
        ]
        [row] = [cells for cells in rows if "mallory" in cells]
        assert "tag UNVERIFIED" in row
        # the highlighted event's detail says what it means
        screen.table.move_cursor(row=rows.index(row))
        await pilot.pause()
        assert "UNVERIFIED" in plain(screen.query_one("#history-detail", Static).render())

"""Layout snapshots of the main screen and the detail screens at 80×24 and 160×48.

Fed fixed model objects through a fake client and a fixed clock, so nothing changes between runs
(update with ``pytest tests/tui --snapshot-update`` after an intended layout change).
"""

from __future__ import annotations

import pytest

from console.settings import Settings
from console.tui.app import build_app
from tests.tui.fake_client import NOW, FakeClient
from tests.tui.support import settle

SIZES = [(80, 24), (160, 48)]


def _app(tmp_path, read_only: bool = False):
    settings = Settings(home=tmp_path, tracking_uri="http://mlflow.test", read_only=read_only)
    return build_app(settings, client_factory=FakeClient, page_size=10, clock=lambda: NOW)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, tmp_path, size) -> None:
    async def ready(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")  # into the runs of the first experiment
        await settle(pilot)

    assert snap_compare(_app(tmp_path, read_only=True), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_detail(snap_compare, tmp_path, size) -> None:
    async def open_run(pilot) -> None:
        await settle(pilot)
        # keys are covered by the Pilot tests; here the selection is set directly so the
        # layout is all that is compared
        pane = pilot.app.main.runs_pane
        pilot.app.main.focus_pane(0, pane.runs_table)
        await settle(pilot)
        pane.highlight_run(f"{3:032x}")  # the run with the hostile name
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_version_detail(snap_compare, tmp_path, size) -> None:
    async def open_version(pilot) -> None:
        await settle(pilot)
        registry = pilot.app.main.registry_pane
        pilot.app.main.focus_pane(1, registry.version_table)
        await settle(pilot)
        registry.select_version("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_version)


def _history_timeline():
    """A fixed timeline: versions, a console promotion, an observed move, a stage, an undo."""
    from datetime import UTC, datetime, timedelta

    from console.history_model import HistoryEvent, Timeline

    start = datetime.fromtimestamp(NOW, UTC)

    def event(n: int, minutes: int, **kw) -> HistoryEvent:
        kw.setdefault("sources", [kw["source"]])
        return HistoryEvent(
            id=f"{n:04x}{'0' * 8}", time=start + timedelta(minutes=minutes), model="churn", **kw
        )

    events = [
        event(1, 0, kind="version", to="1", version="1", source="observed", actor="ci-bot"),
        event(2, 5, kind="version", to="2", version="2", source="webhook"),
        event(
            3,
            10,
            kind="alias",
            name="champion",
            to="1",
            version="1",
            source="console",
            sources=["console", "webhook", "tag"],
            actor="alice",
            audit_id="a1",
        ),
        event(
            4,
            90,
            kind="alias",
            name="champion",
            from_="1",
            to="2",
            version="2",
            source="observed",
            observed_after=start + timedelta(minutes=30),
        ),
        event(
            5,
            95,
            kind="stage",
            name="Staging",
            from_="None",
            to="Staging",
            version="2",
            source="tag",
            actor="bob",
        ),
        event(
            6,
            100,
            kind="alias",
            name="champion",
            from_="2",
            to="1",
            version="1",
            source="console",
            actor="alice",
            undoes=f"{4:04x}{'0' * 8}",
        ),
    ]
    return Timeline(model="churn", server="http://mlflow.test", events=events)


def test_history_screen(snap_compare) -> None:
    from datetime import UTC, datetime, timedelta

    from textual.app import App

    from console.history_model import state_at
    from widgets.history_screen import HistoryScreen

    timeline = _history_timeline()

    class Host(App):
        def on_mount(self) -> None:
            screen = HistoryScreen("churn")
            self.push_screen(screen)
            screen.show(timeline)
            at = datetime.fromtimestamp(NOW, UTC) + timedelta(minutes=60)
            screen.show_state(state_at(timeline.events, at))

    async def ready(pilot) -> None:
        await settle(pilot)
        await pilot.press("up", "up")  # onto the observed move
        await settle(pilot)

    assert snap_compare(Host(), terminal_size=(80, 24), run_before=ready)

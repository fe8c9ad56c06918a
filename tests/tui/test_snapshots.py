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

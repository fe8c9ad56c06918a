"""Layout snapshots of the main screen and the detail screens at 80×24 and 160×48.

Fed fixed model objects through a fake client and a fixed clock, so nothing changes between runs
(update with ``pytest tests/tui --snapshot-update`` after an intended layout change).
"""

from __future__ import annotations

import pytest

from console.app import build_app
from console.settings import Settings
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
        for key in ("enter", "j", "j", "enter"):  # the run with the hostile name
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_version_detail(snap_compare, tmp_path, size) -> None:
    async def open_version(pilot) -> None:
        await settle(pilot)
        for key in ("2", "enter", "j", "enter"):  # registry → versions → v2
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_version)

"""The console follows the embedded server: after ``embedded stop`` the header says it is
unreachable and how to start it; after ``embedded start`` (on a new port) it reconnects by
itself and loads again. Pilot at 80×24 against a real embedded server (two cold starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.embedded import lifecycle as embedded
from console.settings import Settings
from console.tui.app import build_app
from tests.tui.support import wait_for

pytestmark = pytest.mark.slow


async def test_reconnects_to_a_restarted_embedded_server(tmp_path: Path) -> None:
    import asyncio

    from mlflow import MlflowClient

    home = tmp_path / "home"
    first = await asyncio.to_thread(embedded.ensure_server, home, timeout=600)
    try:
        MlflowClient(first.tracking_uri).create_experiment("before-restart")
        app = build_app(Settings(home=home), build_demo=False)
        async with app.run_test(size=(80, 24)) as pilot:
            status = app.main.status
            await wait_for(pilot, lambda: status.connection == "connected", 120)
            assert app.tracking_uri == first.tracking_uri
            await asyncio.to_thread(embedded.stop, home)
            await wait_for(pilot, lambda: "unreachable since" in status.connection, 60)
            assert "r starts it" in status.connection  # the short hint fits 80 columns
            assert "embedded start" in app.main.banner.message  # the whole one
            second = await asyncio.to_thread(embedded.ensure_server, home, timeout=600)
            MlflowClient(second.tracking_uri).create_experiment("after-restart")
            await wait_for(pilot, lambda: app.tracking_uri == second.tracking_uri, 120)
            await wait_for(pilot, lambda: status.connection == "connected", 60)
            assert str(second.port) in status.target
            assert not app.main.banner.shown
            # and it loads again from the new server
            pane = app.main.runs_pane
            await wait_for(
                pilot,
                lambda: any(e.name == "after-restart" for e in pane.experiments.values()),
                60,
            )
    finally:
        await asyncio.to_thread(embedded.stop, home)

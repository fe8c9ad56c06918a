"""Failures the console must survive: a server that stops and comes back, and refused credentials.

The recovery test starts its own MLflow server (the shared one must stay up for other tests).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from console.mlflow.client import MlflowRestClient, RetryPolicy
from console.tui.app import build_app
from tests.support.servers import start_mlflow_server
from tests.tui.conftest import seed
from tests.tui.support import wait_for


@pytest.mark.slow
async def test_server_stops_and_comes_back(tmp_path: Path, settings_for) -> None:
    server = start_mlflow_server(tmp_path / "own-server")
    try:
        world = seed(server.url, "recover")
        app = build_app(settings_for(server.url), page_size=5, retry_delays=(0.5, 1.0, 2.0))
        async with app.run_test(size=(160, 48)) as pilot:
            pane = app.main.runs_pane
            await wait_for(pilot, lambda: world.main_experiment_id in pane.experiments)
            server.stop()
            await pilot.press("r")
            banner = app.main.banner
            status = app.main.status
            # the header stops saying connected; the banner says what and that it keeps trying
            await wait_for(pilot, lambda: "unreachable since" in status.connection, within=60)
            await wait_for(pilot, lambda: banner.shown, within=30)
            message = banner.message
            assert ("MLflow does not answer" in message and "checking every" in message) or (
                "loading experiments" in message and "retrying in" in message
            ), message
            # what was on screen stays on screen
            assert world.main_experiment_id in pane.experiments
            assert app.is_running
            server.start()
            await wait_for(pilot, lambda: status.connection == "connected", within=90)
            await wait_for(pilot, lambda: not banner.failures, within=60)
            assert world.main_experiment_id in pane.experiments
    finally:
        server.stop()


async def test_refused_credentials_say_so(settings_for) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="Unauthorized", headers={"content-type": "text/plain"})

    def factory(uri: str) -> MlflowRestClient:
        return MlflowRestClient(
            uri, transport=httpx.MockTransport(refuse), retry=RetryPolicy(attempts=1)
        )

    app = build_app(settings_for("http://127.0.0.1:9"), client_factory=factory)
    async with app.run_test(size=(80, 24)) as pilot:
        banner = app.main.banner
        await wait_for(pilot, lambda: "health" in banner.failures)
        message = banner.failures["health"].message
        assert "credentials refused" in app.main.status.connection
        assert "authentication failed" in message
        assert "MLFLOW_TRACKING_USERNAME" in message  # what to do
        assert "retrying in" not in message  # no point retrying bad credentials on a timer
        assert app.is_running

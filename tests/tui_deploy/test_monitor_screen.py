"""The monitoring screen of a real deployment (started through the CLI on a real MLflow server),
fed by the real ``mlops-console monitor`` command in its own process.

The deployment serves someone else's model (plain scikit-learn logged with MLflow's client, no
provenance contract): the monitor has no pinned training snapshot to test drift against, and the
screen must say so rather than look like a clean bill of health. A monitor that fails (the alias
is gone) is one line. The drift table, sparklines and retrain verdict on a model that does drift
are driven with the real command on the demo in ``tests/monitor/test_advance_monitor.py``.
"""

from __future__ import annotations

import pytest

from tests.serve.conftest import set_alias
from tests.tui.support import plain, table_texts, wait_for
from tests.tui_deploy.conftest import ALIAS
from tests.tui_deploy.test_deployments_view import WITHIN, _app, _open_view, _row_text, _shown
from widgets.deployments_screen import DeploymentsScreen
from widgets.monitor_screen import MonitorScreen

SIZES = [(80, 24), (160, 48)]


def _reported(app) -> bool:
    screen = app.screen
    return isinstance(screen, MonitorScreen) and bool(screen.state and screen.state.report)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_monitor_screen_says_what_it_could_not_check_on_someone_elses_model(
    deployment, mlflow_server, sklearn_model, size
) -> None:
    home, _ = deployment
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")
    app = _app(home, mlflow_server.url)
    async with app.run_test(size=size) as pilot:
        await _open_view(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: _shown(app, MonitorScreen, "#monitor-summary"), within=WITHIN)
        await wait_for(pilot, lambda: _reported(app), within=WITHIN)
        screen = app.screen
        report = screen.state.report
        assert report.model == sklearn_model and report.version == "1"
        assert report.drift == [] and report.gaps
        summary = plain(screen.query_one("#monitor-summary").content, width=300)
        assert f"{sklearn_model} v1" in summary
        assert "not checked: no pinned training snapshot" in summary
        assert table_texts(screen.table) == []
        verdict = plain(screen.query_one("#monitor-verdict").content, width=300)
        assert "no retrain suggested" in verdict
        assert "no labelled weeks yet" in plain(
            screen.query("#monitor-performance Static").last().content
        )
        # back: the list says "unchecked", not "ok 0/0"
        await pilot.press("escape")
        assert isinstance(app.screen, DeploymentsScreen)
        assert "unchecked" in _row_text(app) and "ok 0/0" not in _row_text(app)


async def test_a_failing_monitor_command_is_one_line(
    deployment, mlflow_server, sklearn_model
) -> None:
    """The real command fails (the deployment's alias was deleted): its last line, no traceback."""
    from mlflow import MlflowClient

    home, _ = deployment
    client = MlflowClient(mlflow_server.url)
    client.delete_registered_model_alias(sklearn_model, ALIAS)
    try:
        app = _app(home, mlflow_server.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await _open_view(pilot, app)
            await pilot.press("M")
            await wait_for(
                pilot, lambda: _shown(app, MonitorScreen, "#monitor-summary"), within=WITHIN
            )
            state = lambda: app.screen.state  # noqa: E731
            await wait_for(pilot, lambda: state() is not None and state().error, within=WITHIN)
            summary = plain(app.screen.query_one("#monitor-summary").content, width=300).strip()
            assert summary.startswith("monitor failed (exit "), summary
            assert ALIAS in summary and "alias" in summary
            assert "Traceback" not in summary and "\n" not in summary
            await pilot.press("escape")
            assert "ERROR" in _row_text(app)
    finally:
        set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")

"""The monitoring screen of a real deployment (started through the CLI on a real MLflow server).

FAKE MONITOR: `mlops-console monitor` (issue 14 item 4) is not on this branch yet, so the report
comes from ``tests/tui_deploy/fake_monitor.py``, run as a subprocess exactly like the real command
(same arguments, JSON on stdout). Coordinator: once ``console.cli.monitor`` is merged, switch
these tests to the real command (drop ``fake_monitor_argv``) on the demo after ``demo advance``.
``test_a_missing_monitor_command_is_said_in_one_line`` runs the real console and holds only while
the command is absent.
"""

from __future__ import annotations

import pytest

from console.tui.deployments import NOT_AVAILABLE
from tests.tui.support import plain, table_texts, wait_for
from tests.tui_deploy.conftest import REAL_MONITOR
from tests.tui_deploy.test_deployments_view import WITHIN, _app, _open_view, _row_text, _shown
from widgets.deployments_screen import DeploymentsScreen
from widgets.monitor_screen import MonitorScreen

SIZES = [(80, 24), (160, 48)]
ACCURACY = [0.82, 0.79, 0.76, 0.73, 0.7, 0.67, 0.64, 0.61]


def _reported(app) -> bool:
    screen = app.screen
    return isinstance(screen, MonitorScreen) and bool(screen.state and screen.state.report)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_monitor_screen_shows_drift_and_weekly_performance(
    deployment, mlflow_server, sklearn_model, size
) -> None:
    """FAKE MONITOR (see the module docstring)."""
    home, _ = deployment
    app = _app(home, mlflow_server.url)
    async with app.run_test(size=size) as pilot:
        await _open_view(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: _shown(app, MonitorScreen, "#monitor-summary"), within=WITHIN)
        await wait_for(pilot, lambda: _reported(app), within=WITHIN)
        screen = app.screen
        cells = table_texts(screen.table)
        assert cells[:6] == ["lag_1", "0.41", "DRIFT", "rolling_4", "0.33", "DRIFT"]
        assert cells[8] == "ok" and cells.count("DRIFT") == 2
        # a hostile feature name is shown literally: no escape sequence or bidi reaches the screen
        assert "\\x1b[31mevil\\u202e [b]x[/b]" in cells[9]
        summary = plain(screen.query_one("#monitor-summary").content)
        assert f"{sklearn_model} v1" in summary and "50% (2 of 4 features)" in summary
        from textual.widgets import Sparkline

        (spark,) = screen.query(Sparkline)
        assert list(spark.data) == ACCURACY
        weeks = plain(screen.query("#monitor-performance Static").last().content)
        assert "2025-W17 0.61" in weeks
        verdict = plain(screen.query_one("#monitor-verdict").content)
        assert "RETRAIN SUGGESTED" in verdict and "accuracy 0.61 under 0.70" in verdict
        # back: the list carries the drift marker of the same report
        await pilot.press("escape")
        assert isinstance(app.screen, DeploymentsScreen)
        assert "DRIFT 2/4 RETRAIN" in _row_text(app)


async def test_a_failing_monitor_command_is_one_line(
    deployment, mlflow_server, monkeypatch
) -> None:
    """FAKE MONITOR that fails like a broken command (exit 1, a traceback line on stderr)."""
    home, _ = deployment
    monkeypatch.setenv("MLOPS_CONSOLE_FAKE_MONITOR_FAIL", "1")
    app = _app(home, mlflow_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_view(pilot, app)
        await pilot.press("M")
        await wait_for(pilot, lambda: _shown(app, MonitorScreen, "#monitor-summary"), within=WITHIN)
        state = lambda: app.screen.state  # noqa: E731
        await wait_for(pilot, lambda: state() is not None and state().error, within=WITHIN)
        summary = plain(app.screen.query_one("#monitor-summary").content, width=300).strip()
        assert summary.startswith("monitor failed (exit 1): mlops-console: error: no inference")
        assert "Traceback" not in summary and "\n" not in summary
        await pilot.press("escape")
        assert "ERROR" in _row_text(app)


@pytest.mark.skipif(REAL_MONITOR, reason="the monitor command exists now: see the docstring")
async def test_a_missing_monitor_command_is_said_in_one_line(deployment, mlflow_server) -> None:
    home, _ = deployment
    app = _app(home, mlflow_server.url)
    from console.tui.deployments import monitor_argv

    app.deployments.monitor_argv = lambda m, a: monitor_argv(app.settings, m, a)  # the real one
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_view(pilot, app)
        await wait_for(pilot, lambda: "n/a" in _row_text(app), within=WITHIN)
        await pilot.press("enter")
        await wait_for(pilot, lambda: _shown(app, MonitorScreen, "#monitor-summary"), within=WITHIN)
        summary = plain(app.screen.query_one("#monitor-summary").content, width=300).strip()
        assert summary == NOT_AVAILABLE

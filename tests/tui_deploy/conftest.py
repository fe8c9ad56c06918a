"""Fixtures for the deployments view: a real deployment started through the CLI on the session's
MLflow server, serving the plain scikit-learn model of the serving tests (imported, not copied)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.serve.conftest import run_cli, set_alias, sklearn_model  # noqa: F401 (a fixture)

ALIAS = "tui"
NAME = "iris-tui"
FAKE_MONITOR_SCRIPT = Path(__file__).with_name("fake_monitor.py")
# issue 14 item 4 (`mlops-console monitor`) is built on another branch: until it is merged here,
# the monitoring tests feed the screen from tests/tui_deploy/fake_monitor.py (see
# FAKE_MONITOR). Coordinator: once console.cli.monitor exists, switch them to the real command.
REAL_MONITOR = importlib.util.find_spec("console.cli.monitor") is not None
FAKE_MONITOR = not REAL_MONITOR


def fake_monitor_argv(settings):
    """The real command's arguments, run by the fake script instead of the console."""
    from console.tui.deployments import monitor_argv

    def argv(model: str, alias: str) -> list[str]:
        return [sys.executable, str(FAKE_MONITOR_SCRIPT), *monitor_argv(settings, model, alias)[3:]]

    return argv


@pytest.fixture(scope="module")
def deployment(mlflow_server, sklearn_model, tmp_path_factory):  # noqa: F811
    """(home, info): ``iris-tui`` serving the model's v1 behind alias ``tui``."""
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")
    home = tmp_path_factory.mktemp("tui-deploy-home")
    result = run_cli(
        home, mlflow_server.url, "deploy", sklearn_model, "--alias", ALIAS, "--name", NAME, "--json"
    )
    assert result.returncode == 0, result.stderr
    yield home, json.loads(result.stdout)
    run_cli(home, mlflow_server.url, "deploy", "stop", NAME)

"""Shared fixtures: an isolated environment for every test and a real MLflow server per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import MlflowServer, start_mlflow_server

_SERVICE_VARS = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "DATAHUB_GMS_URL",
    "DATAHUB_GMS_TOKEN",
    "OPENLINEAGE_URL",
    "MLOPS_CONSOLE_HOME",
    "MLOPS_CONSOLE_PROFILE",
    "MLOPS_CONSOLE_READ_ONLY",
    "MLOPS_CONSOLE_CONFIG",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's config, home or service settings."""
    for var in _SERVICE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("NO_COLOR", "1")
    # a test home's model worker (commands.model_worker) outlives the test only briefly
    monkeypatch.setenv("MLOPS_CONSOLE_WORKER_IDLE_S", "45")
    return tmp_path


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """An empty real MLflow server (sqlite backend) shared by the session's tests."""
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server
    finally:
        server.stop()


def pytest_report_header(config: pytest.Config) -> str:
    return f"mlops-console tests; CI={os.environ.get('CI', '')}"

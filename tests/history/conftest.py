"""Fixtures for the history tests: the promotion tests' REST seeder and flow on a session server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.promote.conftest import Flow, Seeder
from tests.support.servers import MlflowServer, free_port


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """The session server, with a patient start: 7 agents share 2 cores and a first migration
    of a fresh database took over 90 s here."""
    workdir = tmp_path_factory.mktemp("history-mlflow")
    port = free_port()
    server = MlflowServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        workdir=workdir,
        backend_uri=f"sqlite:///{workdir / 'mlflow.db'}",
    )
    try:
        yield server.start(timeout=300)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seeder(mlflow_server) -> Seeder:
    return Seeder(mlflow_server.url)


@pytest.fixture
def flow(mlflow_server, tmp_path: Path) -> Flow:
    return Flow(mlflow_server.url, tmp_path / "home")

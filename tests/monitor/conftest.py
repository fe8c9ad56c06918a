"""Fixtures for the deploy → monitor → retrain tests: a demo world per test module.

Each module gets its own MLflow server and demo home (built once, about a minute), because the
tests advance the demo's time and move aliases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commands.demo.result import DemoPaths, DemoResult
from console.settings import CliOverrides, Settings, load_settings
from tests.support.demo import build_demo_home
from tests.support.servers import MlflowServer, free_port


@dataclass
class DemoWorld:
    server: MlflowServer
    paths: DemoPaths
    result: DemoResult

    @property
    def home(self) -> Path:
        return self.paths.home

    def settings(self, **env: str) -> Settings:
        env.setdefault("MLOPS_CONSOLE_CONFIG", str(self.home / "no-config.toml"))
        return load_settings(
            CliOverrides(tracking_uri=self.server.url, home=str(self.home)), env=env
        )

    def cli(self) -> list[str]:
        return ["--home", str(self.home), "--tracking-uri", self.server.url]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    workdir = tmp_path_factory.mktemp("monitor-mlflow")
    port = free_port()
    # a generous start timeout: these modules run on machines shared by many test processes
    server = MlflowServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        workdir=workdir,
        backend_uri=f"sqlite:///{workdir / 'mlflow.db'}",
    ).start(timeout=300)
    try:
        paths, result = build_demo_home(tmp_path_factory, server.url, "monitor-home")
        yield DemoWorld(server, paths, result)
    finally:
        server.stop()

"""The demo lifecycle built once for this package's tests, on a real MLflow server of its own.

Its own server (not the shared ``mlflow_server``) because the demo fills and resets the server,
and other tests expect an empty one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from commands.demo.result import DemoPaths, DemoResult
from commands.driver import QuietDriver
from tests.support.demo import build_demo_home
from tests.support.servers import MlflowServer, start_mlflow_server


@dataclass
class BuiltDemo:
    server: MlflowServer
    paths: DemoPaths
    result: DemoResult
    driver: QuietDriver
    seconds: float


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow_server(tmp_path_factory.mktemp("demo-mlflow"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory, demo_server: MlflowServer) -> BuiltDemo:
    driver = QuietDriver()
    started = time.monotonic()
    paths, result = build_demo_home(tmp_path_factory, demo_server.url, "demo-home", driver)
    return BuiltDemo(demo_server, paths, result, driver, time.monotonic() - started)


@pytest.fixture(scope="session")
def mlflow_client(built_demo: BuiltDemo):
    from mlflow import MlflowClient

    return MlflowClient(built_demo.server.url)

"""Fixtures for the wiring tests: the demo lifecycle on a real MLflow server, built once.

The demo holds what the wiring needs: a registered model with versions, their runs, an Iceberg
table with snapshots and a DataHub Lite store in the console home. Package-scoped (about 60 s).
``MLOPS_CONSOLE_WIRING_DEMO=<json file with url, home, result>`` reuses a running build while
iterating locally.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.demo import build_demo_home
from tests.support.servers import start_mlflow_server


@dataclass
class Demo:
    url: str
    home: Path
    result: object  # commands.demo.result.DemoResult

    def settings(self, **extra):
        from console.settings import Settings

        return Settings(home=self.home, tracking_uri=self.url, **extra)


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from commands.demo.result import DemoResult

    reuse = os.environ.get("MLOPS_CONSOLE_WIRING_DEMO")
    if reuse:
        doc = json.loads(Path(reuse).read_text())
        yield Demo(doc["url"], Path(doc["home"]), DemoResult.model_validate(doc["result"]))
        return
    server = start_mlflow_server(tmp_path_factory.mktemp("wiring-mlflow"))
    try:
        paths, result = build_demo_home(tmp_path_factory, server.url, "wiring-home")
        yield Demo(server.url, paths.home, result)
    finally:
        server.stop()

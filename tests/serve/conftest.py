"""Fixtures for the serving tests: a plain scikit-learn model on the session's MLflow server, the
CLI run as a subprocess (as an operator runs it), and helpers to talk to a deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.serve.models import register_sklearn_model

CLI_TIMEOUT = 400


@pytest.fixture(scope="session")
def sklearn_model(mlflow_server) -> str:
    """``iris-…`` with versions 1 and 2, alias ``live`` → v1."""
    name = register_sklearn_model(mlflow_server.url)
    httpx.post(
        f"{mlflow_server.url}/api/2.0/mlflow/registered-models/alias",
        json={"name": name, "alias": "live", "version": "1"},
    ).raise_for_status()
    return name


def set_alias(url: str, model: str, alias: str, version: str) -> None:
    httpx.post(
        f"{url}/api/2.0/mlflow/registered-models/alias",
        json={"name": model, "alias": alias, "version": version},
    ).raise_for_status()


def alias_of(url: str, model: str, alias: str) -> str:
    response = httpx.get(
        f"{url}/api/2.0/mlflow/registered-models/alias", params={"name": model, "alias": alias}
    )
    response.raise_for_status()
    return response.json()["model_version"]["version"]


def run_cli(
    home: Path, tracking_uri: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mlops-console ARGS`` in a fresh process with this home and server."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "--home",
            str(home),
            "--tracking-uri",
            tracking_uri,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )


def wait_for(check: Callable[[], bool], timeout: float = 120.0, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


def record(home: Path, name: str) -> dict:
    return json.loads((home / "deployments" / f"{name}.json").read_text())

"""Fixtures for the safety regressions of issue 16: the console CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.promote.conftest import Seeder

ROOT = Path(__file__).resolve().parents[2]


def console_cli(
    home: Path,
    *args: str | bytes,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m console --home HOME ARGS`` (bytes arguments are passed through raw)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        input=input,
    )


@pytest.fixture(scope="session")
def seeder(mlflow_server) -> Seeder:
    return Seeder(mlflow_server.url)

"""Fixtures for the MLflow client tests: seeding a real server once per module, fast retries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from console.mlflow.client import MlflowRestClient, RetryPolicy

ROOT = Path(__file__).resolve().parents[2]
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def seed(url: str, kind: str = "registry", env: dict[str, str] | None = None) -> dict:
    """Seed ``url`` in a subprocess (see ``tests/client/seed.py``); return ids and the prefix."""
    prefix = f"clt-{uuid.uuid4().hex[:8]}"
    out = subprocess.run(
        [sys.executable, "-m", "tests.client.seed", url, prefix, kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
    )
    if out.returncode != 0:
        raise RuntimeError(f"seeding failed: {out.stderr[-2000:]}")
    return {"prefix": prefix, **json.loads(out.stdout.strip().splitlines()[-1])}


@pytest.fixture
def make_client():
    """Build clients with fast retries; tests use them as ``async with make_client(url):``."""

    def build(url: str, **kwargs) -> MlflowRestClient:
        kwargs.setdefault("retry", FAST_RETRY)
        return MlflowRestClient(url, **kwargs)

    return build

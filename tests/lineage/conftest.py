"""Fixtures for the lineage tests: real DataHub Lite stores built once per module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.lineage.stores import RunSpec, build_store

RUN_A = "0123456789abcdef0123456789abcdef"
RUN_B = "fedcba9876543210fedcba9876543210"


@pytest.fixture(scope="module")
def make_store(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(specs: list[RunSpec], **kwargs) -> Path:
        home = tmp_path_factory.mktemp(f"lite{next(counter)}")
        return build_store(home / "datahub" / "lite.db", specs, **kwargs)

    return make


@pytest.fixture(scope="module")
def healthy_store(make_store) -> Path:
    return make_store([RunSpec(run_id=RUN_A, version="1"), RunSpec(run_id=RUN_B, version="2")])

"""The demo pipeline's fixed configuration and its content hash (the idempotency key).

Light on purpose (pydantic and hashlib only): the quick "already built" check of ``demo`` reads
this without importing mlflow, pandas or sklearn.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

MODEL_NAME = "next-week-commits"
EXPERIMENT_NAME = "next-week-commits"
TABLE_IDENT = ("git", "commits")
CATALOG_NAME = "lake"
TABLE_NAME = "lake.git.commits"
SCENARIO_TAG = "demo.scenario"
SCENARIO_VALUE = "identical-metrics"

# the code whose content is part of the build key: a change to any of these rebuilds the demo
_SOURCES = ("config.py", "data.py", "features.py", "trainer.py", "tracking.py", "pipeline.py")


class Hyperparams(BaseModel):
    """One random-forest configuration; every field is logged as a param."""

    model_config = ConfigDict(frozen=True)

    n_estimators: int
    max_depth: int | None
    min_samples_leaf: int
    max_features: str | float = "sqrt"
    seed: int = 7


class DemoConfig(BaseModel):
    """Everything that determines the demo's content."""

    model_config = ConfigDict(frozen=True)

    seed: int = 20240601
    repos: int = Field(default=24, ge=20)
    start: date = date(2024, 1, 1)  # a Monday: weeks run Monday..Sunday
    initial_weeks: int = 56
    appended_weeks: int = 12
    holdout_weeks: int = 8
    # weekly commits: < low_max -> low, < medium_max -> medium, else high
    low_max: int = 40
    medium_max: int = 110
    grid: tuple[Hyperparams, ...] = (
        Hyperparams(n_estimators=20, max_depth=3, min_samples_leaf=5),
        Hyperparams(n_estimators=40, max_depth=5, min_samples_leaf=3),
        Hyperparams(n_estimators=60, max_depth=8, min_samples_leaf=2),
        Hyperparams(n_estimators=80, max_depth=None, min_samples_leaf=1),
        Hyperparams(n_estimators=40, max_depth=6, min_samples_leaf=4, max_features=0.5),
    )
    # seeds tried, in order, when searching for the identical-metrics pair
    scenario_seeds: int = 40

    @property
    def total_weeks(self) -> int:
        return self.initial_weeks + self.appended_weeks


def config_hash(config: DemoConfig) -> str:
    """sha256 over the config and the pipeline's own source files."""
    digest = hashlib.sha256(json.dumps(config.model_dump(mode="json"), sort_keys=True).encode())
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    return digest.hexdigest()

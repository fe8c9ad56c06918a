"""Where the demo writes (paths under the console home) and what a build reports (pydantic)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel


@dataclass(frozen=True)
class DemoPaths:
    """The parts of the embedded home the demo owns."""

    home: Path
    catalog_db: Path
    warehouse: Path
    lite_db: Path
    events: Path
    git_repo: Path

    @classmethod
    def for_home(cls, home: Path) -> DemoPaths:
        from console.embedded.lifecycle import EmbeddedPaths

        paths = EmbeddedPaths.for_home(Path(home))
        return cls(
            home=Path(paths.home),
            catalog_db=Path(paths.iceberg_catalog_db),
            warehouse=Path(paths.iceberg_warehouse),
            lite_db=Path(paths.datahub_lite_db),
            events=Path(paths.openlineage_events),
            git_repo=Path(paths.git_repo),
        )


class RunSummary(BaseModel):
    run_id: str
    name: str
    role: Literal["grid", "scenario"]
    snapshot_id: str
    metrics: dict[str, float]
    params: dict[str, str]


class DemoResult(BaseModel):
    """What ``demo`` built (or found already built); the JSON document of ``demo --json``."""

    status: Literal["built", "unchanged"]
    home: str
    tracking_uri: str
    config_hash: str
    seconds: float
    table: str
    snapshots: dict[str, str]
    correction: dict[str, str]
    git_repo: str
    git_repo_url: str
    git_commits: list[str]
    experiment: str
    experiment_id: str
    model: str
    champion_version: str
    scenario_versions: list[str]
    scenario_differs: list[str]
    runs: list[RunSummary]
    openlineage_events: int
    lite_mcps: int
    datahub_mlflow_aspects: int

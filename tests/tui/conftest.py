"""Fixtures for the console's Pilot tests: a real MLflow server seeded through MLflow's client."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.servers import MlflowServer

HOSTILE = "[bold]x[/] [@click=app.quit]boom[/] \x1b[31mred \x1b]0;title\x07 \u202eevil\u200b עברית"
RUNS_IN_MAIN = 12


@dataclass
class World:
    """What was seeded: names and ids the tests look for."""

    url: str
    main_experiment: str
    main_experiment_id: str
    other_experiment: str
    other_experiment_id: str
    model: str
    runs: list[str] = field(default_factory=list)  # main experiment, oldest first
    hostile_run: str = ""
    version_runs: dict[str, str] = field(default_factory=dict)  # version -> run id


def seed(url: str, suffix: str) -> World:
    """Two experiments, a dozen runs, a hostile run and a model with three versions."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=url)
    main = f"tui-main-{suffix}"
    other = f"tui-other-{suffix}"
    main_id = client.create_experiment(main)
    other_id = client.create_experiment(other)
    world = World(url, main, main_id, other, other_id, f"tui-model-{suffix}")
    base = 1_750_000_000_000
    for i in range(RUNS_IN_MAIN):
        run = client.create_run(main_id, run_name=f"run-{i:02d}", start_time=base + i * 1000)
        rid = run.info.run_id
        client.log_batch(
            rid,
            metrics=[Metric("rmse", 1 + i / 100, base, 0), Metric("mae", 0.5, base, 0)]
            + [Metric("loss", 1 / (s + 1), base, s) for s in range(1, 4)],
            params=[Param("seed", str(i % 3)), Param("depth", "8")],
        )
        client.set_terminated(rid, end_time=base + i * 1000 + 500)
        world.runs.append(rid)
    run = client.create_run(other_id, run_name=HOSTILE, start_time=base)
    world.hostile_run = run.info.run_id
    client.log_batch(
        world.hostile_run,
        params=[Param("note", HOSTILE)],
        tags=[RunTag("hostile", HOSTILE), RunTag("long", "y" * 8000)],
        metrics=[Metric("rmse", 2.0, base, 0)],
    )
    client.set_terminated(world.hostile_run)
    client.create_registered_model(world.model, description=HOSTILE)
    for rid in (world.runs[3], world.runs[7], world.hostile_run):
        info = client.get_run(rid).info
        version = client.create_model_version(
            world.model, source=f"{info.artifact_uri}/model", run_id=rid, description=HOSTILE
        )
        world.version_runs[str(version.version)] = rid
    client.set_registered_model_alias(world.model, "champion", "2")
    client.set_model_version_tag(world.model, "3", "hostile", HOSTILE)
    return world


@pytest.fixture(scope="session")
def tui_world(request: pytest.FixtureRequest) -> World:
    # MLOPS_CONSOLE_TUI_WORLD=<json of a World> reuses a seeded server while iterating locally
    reuse = os.environ.get("MLOPS_CONSOLE_TUI_WORLD")
    if reuse:
        return World(**json.loads(Path(reuse).read_text()))
    server: MlflowServer = request.getfixturevalue("mlflow_server")
    return seed(server.url, uuid.uuid4().hex[:8])


@pytest.fixture
def settings_for(tmp_path: Path):
    from console.settings import Settings

    def make(url: str, **extra):
        return Settings(home=tmp_path / "home", tracking_uri=url, **extra)

    return make

"""``reproduce``: the demo's champion retrained from its record gives MATCH; a version whose
commit is gone, or whose snapshot was expired, is INCOMPLETE and names exactly what is missing
(nothing is trained then)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from commands.reproduce import reproduce
from console.mlflow.client import MlflowRestClient
from console.provenance.collect import ProvenanceSources
from tests.provenance.conftest import settings_for
from tests.provenance.world import TABLE, World, _git

ROOT = Path(__file__).resolve().parents[2]
# the entry point is known (a configured command), so only the commit or snapshot can be missing
COMMANDS = {"prov-snapshot": "python train.py", "prov-commit": "python train.py"}


def run_reproduce(settings, tracking_uri: str, model: str, version: str):
    async def go():
        sources = ProvenanceSources.from_settings(settings, lineage=False)
        async with MlflowRestClient(tracking_uri) as client:
            return await reproduce(
                client, model, version, sources,
                tracking_uri=tracking_uri, train_commands=COMMANDS,
            )  # fmt: skip

    return asyncio.run(go())


def test_a_commit_that_is_gone_is_named(world: World, tmp_path: Path) -> None:
    other = tmp_path / "rewritten"
    other.mkdir()
    _git(other, "init", "-q", "-b", "main")
    (other / "train.py").write_text("print('history rewritten')\n")
    _git(other, "add", "train.py")
    _git(other, "commit", "-q", "-m", "force-pushed history")
    settings = settings_for(world.home, world.tracking_uri, git_repos={world.repo.as_uri(): other})
    case = world.cases["commit"]
    result = run_reproduce(settings, world.tracking_uri, case.model, case.right)
    assert result.verdict == "INCOMPLETE"
    assert result.missing == [
        f"commit {world.commits[1]}: it is not in the clone at {other} (gone)"
    ]
    assert result.run_id is None and result.predictions is None


def test_an_expired_snapshot_is_named(world: World, tmp_path: Path) -> None:
    """Expire the first snapshot in a copy of the catalog (the world's own stays intact)."""
    from pyiceberg.catalog.sql import SqlCatalog

    home = tmp_path / "home"
    (home / "iceberg").mkdir(parents=True)
    shutil.copy(world.home / "iceberg" / "catalog.db", home / "iceberg" / "catalog.db")
    catalog = SqlCatalog(
        "lake",
        uri=f"sqlite:///{home / 'iceberg' / 'catalog.db'}",
        warehouse=(world.home / "iceberg" / "warehouse").as_uri(),
    )
    table = catalog.load_table(("ml", "points"))
    first = world.snapshots[0]
    table.maintenance.expire_snapshots().by_id(int(first)).commit()
    settings = settings_for(home, world.tracking_uri)
    case = world.cases["snapshot"]  # left trained on the first snapshot
    result = run_reproduce(settings, world.tracking_uri, case.model, case.left)
    assert result.verdict == "INCOMPLETE"
    assert len(result.missing) == 1, result.missing
    assert result.missing[0].startswith(
        f"snapshot {first} of {TABLE}: it no longer exists (expired?)"
    )
    # the right version's snapshot is still there: nothing is missing for it
    assert check(settings, world.tracking_uri, case.model, case.right) == []


def check(settings, tracking_uri: str, model: str, version: str) -> list[str]:
    """What ``reproduce`` would find missing, without training."""
    from commands.reproduce import check_record
    from console.provenance.collect import collect

    async def go():
        sources = ProvenanceSources.from_settings(settings, lineage=False)
        async with MlflowRestClient(tracking_uri) as client:
            record = await collect(client, model, version, sources)
        return (await check_record(record, sources, COMMANDS))[0]

    return asyncio.run(go())


def test_no_entry_point_is_named(world: World) -> None:
    settings = settings_for(world.home, world.tracking_uri)
    case = world.cases["seed"]

    async def go():
        sources = ProvenanceSources.from_settings(settings, lineage=False)
        async with MlflowRestClient(world.tracking_uri) as client:
            return await reproduce(
                client, case.model, case.left, sources, tracking_uri=world.tracking_uri
            )

    result = asyncio.run(go())
    assert result.verdict == "INCOMPLETE"
    assert len(result.missing) == 1
    assert result.missing[0].startswith("a training entry point: not the demo, no MLproject at")
    assert 'reproduce.models."prov-seed"' in result.missing[0]


@pytest.mark.slow
def test_demo_champion_reproduces(demo_home, prov_server) -> None:
    home, demo = demo_home
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["XDG_CONFIG_HOME"] = str(home / "config")
    out = subprocess.run(
        [sys.executable, "-m", "console", "reproduce", demo.model, demo.champion_version,
         "--json", "--home", str(home), "--tracking-uri", prov_server.url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr + out.stdout
    doc = json.loads(out.stdout)
    assert doc["verdict"] == "MATCH"
    assert doc["missing"] == []
    assert doc["predictions"]["disagreements"] == 0
    assert doc["predictions"]["conclusive"]
    assert "held-out rows" in doc["predictions"]["source"]
    assert "demo pipeline" in doc["entry_point"]
    assert "reproduce: [" in out.stderr  # progress
    # the warehouse URI was read as a URI: no `file:` tree grew in the working directory
    assert not (ROOT / f"file:{home.resolve()}").exists()
    # the new run is tagged and not registered
    from mlflow import MlflowClient

    client = MlflowClient(prov_server.url)
    run = client.get_run(doc["run_id"])
    assert run.data.tags["mlops-console.reproduce"] == f"{demo.model}/{demo.champion_version}"
    versions = client.search_model_versions(f"name='{demo.model}'")
    assert doc["run_id"] not in {v.run_id for v in versions}
    # --read-only refuses, exit 3
    refused = subprocess.run(
        [sys.executable, "-m", "console", "reproduce", demo.model, demo.champion_version,
         "--read-only", "--home", str(home), "--tracking-uri", prov_server.url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 3 and "read-only" in refused.stderr


MLPROJECT = """name: tiny
entry_points:
  main:
    parameters:
      data_path: path
      seed: {type: int, default: 1}
    command: "python train.py {data_path} {seed}"
"""
TRAIN = """import sys, warnings
import mlflow, pandas as pd
from mlflow.models import infer_signature
from sklearn.tree import DecisionTreeClassifier

warnings.simplefilter("ignore")
data = pd.read_csv(sys.argv[1])
features = data[["x1", "x2"]]
tree = DecisionTreeClassifier(max_features=1, random_state=int(sys.argv[2]))
tree.fit(features, data["y"])
with mlflow.start_run():
    mlflow.log_params({"data_path": sys.argv[1], "seed": sys.argv[2]})
    mlflow.sklearn.log_model(
        tree, name="model", input_example=features.head(5),
        signature=infer_signature(features.head(5), tree.predict(features.head(5))),
        pip_requirements=["scikit-learn"], serialization_format="cloudpickle",
    )
"""


def test_an_mlproject_at_the_commit_reproduces(prov_server, tmp_path: Path, monkeypatch) -> None:
    """Someone else's project: an MLproject whose main command trains and logs; the original run
    was made by it, reproduce runs it again from the commit and the predictions match."""
    import mlflow
    import numpy as np
    import pandas as pd

    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "MLproject").write_text(MLPROJECT)
    (repo / "train.py").write_text(TRAIN)
    _git(repo, "add", "MLproject", "train.py")
    _git(repo, "commit", "-q", "-m", "tiny project")
    commit = _git(repo, "rev-parse", "HEAD")
    rng = np.random.default_rng(11)
    data = pd.DataFrame({"x1": rng.normal(size=200), "x2": rng.normal(size=200)})
    data["y"] = (data.x1 > data.x2).astype(int)
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    mlflow.set_tracking_uri(prov_server.url)
    experiment = mlflow.set_experiment("tiny-project")
    tags = {"mlflow.source.git.commit": commit, "mlflow.source.git.repoURL": repo.as_uri()}
    with mlflow.start_run(experiment_id=experiment.experiment_id, tags=tags) as run:
        pass
    env = {**os.environ, "MLFLOW_TRACKING_URI": prov_server.url, "MLFLOW_RUN_ID": run.info.run_id}
    subprocess.run(
        [sys.executable, "train.py", str(csv), "3"], cwd=repo, env=env, check=True, timeout=300
    )
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "tiny-project").version
    settings = settings_for(tmp_path / "home", prov_server.url)

    async def go():
        sources = ProvenanceSources.from_settings(settings, lineage=False)
        async with MlflowRestClient(prov_server.url) as client:
            return await reproduce(
                client, "tiny-project", str(version), sources, tracking_uri=prov_server.url
            )

    result = asyncio.run(go())
    assert result.verdict == "MATCH", (result.missing, result.predictions)
    assert result.entry_point == f"the MLproject at {commit[:12]}"
    assert result.predictions.synthetic and result.predictions.rows >= 4000
    assert not any("random seed" in item for item in result.cannot_pin)
    new = mlflow.get_run(result.run_id)
    assert new.data.tags["mlops-console.reproduce"] == f"tiny-project/{version}"
    assert new.data.params["seed"] == "3"


def test_a_warehouse_uri_is_a_local_path_not_a_relative_file_colon_dir(tmp_path: Path) -> None:
    from commands.reproduce_train import warehouse_path

    where = tmp_path / "a dir" / "warehouse"
    assert warehouse_path(where.as_uri()) == where  # file:///…/a%20dir/warehouse
    assert warehouse_path(str(where)) == where
    assert warehouse_path(None) == Path(".")
    with pytest.raises(ValueError, match="local Iceberg warehouses only"):
        warehouse_path("s3://bucket/warehouse")

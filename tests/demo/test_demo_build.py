"""The built demo, checked against the real MLflow server, Iceberg catalog, git repo and Lite store.

Everything here reads what the pipeline left behind; nothing is taken from its own report alone.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from commands.demo import coderepo, features, lake
from commands.demo.config import EXPERIMENT_NAME, MODEL_NAME, TABLE_NAME, DemoConfig
from commands.lineage_emit import EDGE_SNAPSHOT_KEY, open_lite, read_events
from tests.demo.conftest import BuiltDemo

pytestmark = pytest.mark.slow

ICEBERG_URN = "urn:li:dataset:(urn:li:dataPlatform:iceberg,lake.git.commits,PROD)"
FLOW_URN = "urn:li:dataFlow:(mlflow,next-week-commits,ml-training)"
JOB_URN = f"urn:li:dataJob:({FLOW_URN},next-week-commits.train)"


def _runs(client, built: BuiltDemo):
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    return client.search_runs([experiment.experiment_id], max_results=100)


def _holdout(built: BuiltDemo):
    config = DemoConfig()
    catalog = lake.open_catalog(built.paths.catalog_db, built.paths.warehouse)
    raw = lake.read_snapshot(catalog, built.result.snapshots["corrected"])
    rows = features.feature_rows(
        features.weekly_commits(raw, config.start), config.low_max, config.medium_max
    )
    return features.split_holdout(rows, config.total_weeks, config.holdout_weeks)[1]


def test_build_is_well_under_two_minutes_and_reports_every_stage(built_demo: BuiltDemo) -> None:
    assert built_demo.result.status == "built"
    assert built_demo.seconds < 110
    joined = "\n".join(built_demo.driver.messages)
    for stage in ("Iceberg", "git repository", "training run 5/5", "OpenLineage", "DataHub Lite"):
        assert stage in joined


def test_five_grid_runs_with_full_provenance(built_demo: BuiltDemo, mlflow_client) -> None:
    runs = _runs(mlflow_client, built_demo)
    grid = [r for r in runs if r.data.tags.get("demo.role") == "grid"]
    assert len(grid) == 5
    assert len({tuple(sorted(r.data.params.items())) for r in grid}) == 5
    assert len(runs) == 7  # plus the two runs of the identical-metrics scenario
    repo = Path(built_demo.result.git_repo)
    for run in runs:
        tags, params = run.data.tags, run.data.params
        assert tags["mlflow.source.git.repoURL"] == repo.resolve().as_uri()
        assert tags["mlflow.source.git.branch"] == "main"
        assert coderepo.commit_exists(repo, tags["mlflow.source.git.commit"])
        assert params["data.iceberg.table"] == TABLE_NAME
        assert params["data.iceberg.snapshot_id"] in built_demo.result.snapshots.values()
        for name in ("n_estimators", "max_depth", "min_samples_leaf", "max_features", "seed"):
            assert name in params
        full = mlflow_client.get_run(run.info.run_id)
        inputs = full.inputs.dataset_inputs
        assert [i.dataset.name for i in inputs] == [TABLE_NAME]
        assert inputs[0].dataset.digest == params["data.iceberg.snapshot_id"]
        assert inputs[0].dataset.source_type == "iceberg"
        assert set(run.data.metrics) >= {"holdout_accuracy", "holdout_f1_macro"}


def test_models_carry_signature_input_example_and_pinned_requirements(
    built_demo: BuiltDemo, mlflow_client
) -> None:
    import importlib.metadata

    import mlflow
    import yaml

    mlflow.set_tracking_uri(built_demo.server.url)
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/1"))
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert [c["name"] for c in inputs] == list(features.FEATURE_COLUMNS)
    assert mlmodel["saved_input_example_info"]
    requirements = (local / "requirements.txt").read_text().split()
    sklearn = importlib.metadata.version("scikit-learn")
    assert f"scikit-learn=={sklearn}" in requirements
    assert all("==" in line for line in requirements)
    assert (local / "python_env.yaml").exists()
    assert not (local / "uv.lock").exists()


def test_registered_versions_alias_and_stage(built_demo: BuiltDemo, mlflow_client) -> None:
    model = mlflow_client.get_registered_model(MODEL_NAME)
    assert model.aliases == {"champion": "1"}
    versions = {v.version: v for v in mlflow_client.search_model_versions(f"name='{MODEL_NAME}'")}
    assert set(versions) == {"1", "2", "3"}
    assert versions["1"].current_stage == "Staging"
    champion_run = mlflow_client.get_run(versions["1"].run_id)
    grid = [r for r in _runs(mlflow_client, built_demo) if r.data.tags["demo.role"] == "grid"]
    best = max(r.data.metrics["holdout_f1_macro"] for r in grid)
    assert champion_run.data.metrics["holdout_f1_macro"] == best
    assert champion_run.data.tags["demo.role"] == "grid"


def test_iceberg_snapshots_are_tagged_for_every_run(built_demo: BuiltDemo, mlflow_client) -> None:
    catalog = lake.open_catalog(built_demo.paths.catalog_db, built_demo.paths.warehouse)
    table = catalog.load_table(("git", "commits"))
    operations = [s.summary.operation.value for s in table.snapshots()]
    assert len(operations) >= 3 and operations[:2] == ["append", "append"]
    assert "overwrite" in operations
    tags = lake.snapshot_tags(catalog)
    for run in _runs(mlflow_client, built_demo):
        assert tags[f"mlflow-{run.info.run_id}"] == run.data.params["data.iceberg.snapshot_id"]


def test_git_repo_holds_the_training_code_in_two_commits(built_demo: BuiltDemo) -> None:
    repo = Path(built_demo.result.git_repo)
    assert len(built_demo.result.git_commits) >= 2
    for commit in built_demo.result.git_commits:
        assert coderepo.commit_exists(repo, commit)
    assert not coderepo.commit_exists(repo, "0" * 40)
    package = Path(features.__file__).parent
    for name in ("features.py", "trainer.py"):
        assert (repo / name).read_text() == (package / name).read_text()


def test_openlineage_events_start_and_complete_per_run(
    built_demo: BuiltDemo, mlflow_client
) -> None:
    events = list(read_events(built_demo.paths.events))
    runs = _runs(mlflow_client, built_demo)
    assert len(events) == 2 * len(runs)
    by_run: dict[str, list[str]] = {}
    for event in events:
        assert event["job"] == {**event["job"], "namespace": "ml-training"}
        assert event["job"]["name"] == "next-week-commits.train"
        assert event["job"]["facets"]["jobType"]["jobType"] == "TRAINING"
        assert [(i["namespace"], i["name"]) for i in event["inputs"]] == [("iceberg", TABLE_NAME)]
        assert event["outputs"] == []
        by_run.setdefault(event["run"]["runId"], []).append(event["eventType"])
    for run in runs:
        assert by_run[str(uuid.UUID(run.info.run_id))] == ["START", "COMPLETE"]


def test_lite_links_version_to_run_to_dataset_with_snapshot(
    built_demo: BuiltDemo, mlflow_client
) -> None:
    lite = open_lite(built_demo.paths.lite_db, read_only=True)
    try:
        for version in ("1", "2", "3"):
            mv = mlflow_client.get_model_version(MODEL_NAME, version)
            snapshot = mlflow_client.get_run(mv.run_id).data.params["data.iceberg.snapshot_id"]
            model_urn = f"urn:li:mlModel:(urn:li:dataPlatform:mlflow,{MODEL_NAME}_{version},PROD)"
            props = lite.get(model_urn, aspects=["mlModelProperties"], typed=False)
            jobs = props["mlModelProperties"]["trainingJobs"]
            assert props["mlModelProperties"]["groups"] == [
                f"urn:li:mlModelGroup:(urn:li:dataPlatform:mlflow,{MODEL_NAME},PROD)"
            ]
            # DataHub's MLflow source names the run by a guid of its id ...
            run_props = lite.get(jobs[0], aspects=["mlTrainingRunProperties"], typed=False)
            assert run_props["mlTrainingRunProperties"]["id"] == mv.run_id
            # ... OpenLineage by the run id as a UUID: both derive from the MLflow run id
            ol_urn = f"urn:li:dataProcessInstance:{uuid.UUID(mv.run_id)}"
            dpi = lite.get(
                ol_urn,
                aspects=[
                    "dataProcessInstanceInput",
                    "dataProcessInstanceOutput",
                    "dataProcessInstanceRelationships",
                ],
                typed=False,
            )
            edges = dpi["dataProcessInstanceInput"]["inputEdges"]
            assert [e["destinationUrn"] for e in edges] == [ICEBERG_URN]
            assert edges[0]["properties"][EDGE_SNAPSHOT_KEY] == snapshot
            outputs = dpi["dataProcessInstanceOutput"]["outputEdges"]
            assert [e["destinationUrn"] for e in outputs] == [model_urn]
            assert dpi["dataProcessInstanceRelationships"]["parentTemplate"] == JOB_URN
        assert lite.get(JOB_URN, aspects=["dataJobInfo"], typed=False)["dataJobInfo"]
        assert lite.get(ICEBERG_URN, aspects=["datasetProperties"], typed=False)
    finally:
        lite.close()


def test_lineage_replay_is_idempotent(built_demo: BuiltDemo, tmp_path: Path) -> None:
    import shutil

    from commands.lineage_emit import replay_events

    copy = tmp_path / "lite.db"
    shutil.copy(built_demo.paths.lite_db, copy)
    for suffix in ("-wal", "-shm"):
        side = built_demo.paths.lite_db.with_name(built_demo.paths.lite_db.name + suffix)
        if side.exists():
            shutil.copy(side, copy.with_name(copy.name + suffix))

    def state() -> tuple[int, list]:
        # every aspect write adds a row; an idempotent replay adds none
        with sqlite3.connect(copy) as db:
            rows = db.execute(
                "SELECT urn, aspect_name, metadata FROM metadata_aspect_v2 WHERE version = 0"
            ).fetchall()
            count = db.execute("SELECT count(*) FROM metadata_aspect_v2").fetchone()[0]
        return count, sorted(rows)

    before = state()
    assert replay_events(built_demo.paths.events, copy) > 0
    assert state() == before


def test_identical_metrics_versions_predict_differently(
    built_demo: BuiltDemo, mlflow_client
) -> None:
    import mlflow

    mlflow.set_tracking_uri(built_demo.server.url)
    twins = [mlflow_client.get_model_version(MODEL_NAME, v) for v in ("2", "3")]
    assert all(v.tags["demo.scenario"] == "identical-metrics" for v in twins)
    assert all(v.tags["demo.scenario.differs"] == "data.iceberg.snapshot_id" for v in twins)
    runs = [mlflow_client.get_run(v.run_id) for v in twins]
    assert runs[0].data.metrics == runs[1].data.metrics
    snapshots = {r.data.params["data.iceberg.snapshot_id"] for r in runs}
    assert snapshots == {
        built_demo.result.snapshots["appended"],
        built_demo.result.snapshots["corrected"],
    }
    other = {k: v for k, v in runs[0].data.params.items() if k != "data.iceberg.snapshot_id"}
    assert other == {
        k: v for k, v in runs[1].data.params.items() if k != "data.iceberg.snapshot_id"
    }
    holdout = _holdout(built_demo)[list(features.FEATURE_COLUMNS)]
    left, right = (mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{v.version}") for v in twins)
    disagree = (left.predict(holdout) != right.predict(holdout)).sum()
    assert 0 < disagree < len(holdout)


def test_second_build_is_a_quick_no_op(built_demo: BuiltDemo, mlflow_client) -> None:
    import time

    from commands.demo.pipeline import build_demo
    from commands.driver import QuietDriver

    before = sorted(r.info.run_id for r in _runs(mlflow_client, built_demo))
    marker = (built_demo.paths.home / "demo-build.json").read_text()
    started = time.monotonic()
    again = build_demo(built_demo.paths, built_demo.server.url, QuietDriver())
    assert time.monotonic() - started < 5
    assert again.status == "unchanged"
    assert again.runs == built_demo.result.runs
    assert sorted(r.info.run_id for r in _runs(mlflow_client, built_demo)) == before
    assert (built_demo.paths.home / "demo-build.json").read_text() == marker

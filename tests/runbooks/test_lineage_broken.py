"""``lineage-broken-from-mlflow-side`` on a small real stack: MLflow, event log, DataHub Lite.

Four registered versions, each run logging the provenance params: v1 healthy; v2's event names
another table than its ``data.iceberg.table`` param; v3's run never sent events; v4 registered
after the last sync, so DataHub does not know it. The store is written by ``lineage sync``'s own
code (DataHub's real MLflow source and Lite writer).
"""

from __future__ import annotations

import json

import pytest

from commands.driver import QuietDriver
from commands.runbooks.catalog import load_runbook
from commands.runbooks.engine import run_runbook
from console.embedded.lifecycle import EmbeddedPaths
from tests.lineage.stores import MODEL, TABLE, RunSpec, ol_event
from tests.runbooks.conftest import ScriptedDriver, settings_for
from tests.support.servers import start_mlflow_server

pytestmark = pytest.mark.slow


def _log_run(client, experiment: str, snapshot: str, *, tags: bool = True) -> str:
    run = client.create_run(experiment)
    run_id = run.info.run_id
    client.log_param(run_id, "data.iceberg.table", TABLE)
    client.log_param(run_id, "data.iceberg.snapshot_id", snapshot)
    if tags:
        client.set_tag(run_id, "mlflow.source.git.commit", "0" * 40)
        client.set_tag(run_id, "mlflow.source.git.repoURL", "https://git.example/ml/training")
        client.set_tag(run_id, "mlflow.source.git.branch", "main")
    client.set_terminated(run_id)
    client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run_id)
    return run_id


def _append_event(path, spec: RunSpec) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(ol_event(spec)) + "\n")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-lineage"))
    try:
        from mlflow import MlflowClient

        from commands.lineage_sync import sync_lineage

        client = MlflowClient(server.url)
        experiment = client.create_experiment("rb-lineage")
        client.create_registered_model(MODEL)
        home = tmp_path_factory.mktemp("rb-lineage-home")
        settings = settings_for(home, server.url)
        log = EmbeddedPaths.for_home(home).openlineage_events
        runs = {}
        runs["1"] = _log_run(client, experiment, "101")
        _append_event(log, RunSpec(run_id=runs["1"], version="1", snapshot="101"))
        runs["2"] = _log_run(client, experiment, "102", tags=False)
        _append_event(
            log,
            RunSpec(run_id=runs["2"], version="2", snapshot="102", ol_table="lake.git.commits_v0"),
        )
        runs["3"] = _log_run(client, experiment, "103")
        sync_lineage(settings, QuietDriver(), tracking_uri=server.url)
        runs["4"] = _log_run(client, experiment, "104")
        _append_event(log, RunSpec(run_id=runs["4"], version="4", snapshot="104"))
        yield {"server": server, "settings": settings, "runs": runs, "log": log}
    finally:
        server.stop()


async def test_dry_run_reports_and_changes_nothing(stack):
    before = stack["log"].read_text()
    transcript, _, _ = await run_runbook(
        load_runbook("lineage-broken-from-mlflow-side"),
        stack["settings"],
        ScriptedDriver(),
        dry_run=True,
        overrides={"model": MODEL},
    )
    assert transcript.status == "dry-run"
    find = transcript.step("find").data
    kinds = {(i["version"], i["kind"]) for i in find["issues"]}
    assert ("2", "dataset_name_mismatch") in kinds
    assert ("3", "events_missing") in kinds
    assert ("4", "version_not_in_datahub") in kinds
    assert not any(v == "1" for v, _ in kinds)
    assert find["reemit_runs"] == sorted([stack["runs"]["2"], stack["runs"]["3"]])
    assert any("mlflow.source.git.commit" in g for g in find["contract_gaps"])  # v2's run
    assert transcript.step("reemit").state == "planned"
    assert transcript.step("resync").state == "planned"
    assert stack["log"].read_text() == before


async def test_repair_then_second_run_finds_nothing(stack):
    runbook = load_runbook("lineage-broken-from-mlflow-side")
    transcript, _, _ = await run_runbook(
        runbook, stack["settings"], ScriptedDriver(True, True), overrides={"model": MODEL}
    )
    assert transcript.status == "completed", [(s.id, s.state, s.error) for s in transcript.steps]
    assert transcript.step("reemit").data["events"] == 4
    assert transcript.step("resync").data["changes"] > 0
    assert transcript.step("verify").data["count"] == 0

    again, _, _ = await run_runbook(
        runbook, stack["settings"], ScriptedDriver(), overrides={"model": MODEL}
    )
    assert again.status == "completed"
    assert again.step("find").data["count"] == 0
    assert again.step("reemit").state == "skipped" and again.step("resync").state == "skipped"

"""``model-registry-promotion-stuck`` against a real MLflow server with a really broken registry.

Broken for real: an alias left on a version that was then archived (REST), a version whose model
files were deleted from the artifact store (on disk), and a version stuck in
PENDING_REGISTRATION. MLflow's open-source stores create every version READY and no REST call
changes a status, so the stuck status is written into the server's sqlite database directly —
the only way to produce it outside Databricks' asynchronous registration.
"""

from __future__ import annotations

import sqlite3

import pytest

from commands.runbooks.catalog import load_runbook
from commands.runbooks.engine import run_runbook
from console.audit import AuditFilter, AuditLog
from tests.runbooks.conftest import ScriptedDriver, settings_for
from tests.support.servers import start_mlflow_server

MODEL = "rb-stuck"
PARAMS = {"model": MODEL, "alias_stages": "prod=Staging"}
MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: none\n"


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-registry"))
    try:
        from mlflow import MlflowClient

        client = MlflowClient(server.url)
        experiment = client.create_experiment("rb-registry")
        client.create_registered_model(MODEL)
        work = tmp_path_factory.mktemp("mlmodel")
        (work / "MLmodel").write_text(MLMODEL)
        run_dirs = {}
        for number in range(1, 6):
            run = client.create_run(experiment)
            client.log_artifact(run.info.run_id, str(work / "MLmodel"), "model")
            client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run.info.run_id)
            run_dirs[str(number)] = (
                server.workdir / "artifacts" / experiment / run.info.run_id / "artifacts"
            )
        client.transition_model_version_stage(MODEL, "1", "Staging")
        client.set_registered_model_alias(MODEL, "prod", "3")
        client.transition_model_version_stage(MODEL, "3", "Archived")
        client.transition_model_version_stage(MODEL, "5", "Staging")
        model_file = run_dirs["5"] / "model" / "MLmodel"
        assert model_file.exists()
        model_file.unlink()
        with sqlite3.connect(server.workdir / "mlflow.db") as db:
            db.execute(
                "UPDATE model_versions SET status = 'PENDING_REGISTRATION' "
                "WHERE name = ? AND version = 4",
                (MODEL,),
            )
        home = tmp_path_factory.mktemp("rb-registry-home")
        yield {"server": server, "client": client, "settings": settings_for(home, server.url)}
    finally:
        server.stop()


def _registry(client) -> tuple[dict, dict]:
    model = client.get_registered_model(MODEL)
    versions = client.search_model_versions(f"name = '{MODEL}'")
    return model.aliases, {v.version: v.current_stage for v in versions}


async def test_dry_run_finds_everything_and_changes_nothing(broken):
    before = _registry(broken["client"])
    transcript, _, _ = await run_runbook(
        load_runbook("model-registry-promotion-stuck"),
        broken["settings"],
        ScriptedDriver(),
        dry_run=True,
        overrides=PARAMS,
    )
    assert transcript.status == "dry-run", [(s.id, s.state, s.error) for s in transcript.steps]
    kinds = sorted(p["kind"] for p in transcript.step("find").data["problems"])
    assert kinds == [
        "alias_on_unusable",
        "files_missing",
        "stage_alias_disagree",
        "stuck_version",
    ], transcript.step("find").findings
    alias = next(
        p for p in transcript.step("find").data["problems"] if p["kind"] == "alias_on_unusable"
    )
    assert alias["version"] == "3" and alias["fix_version"] == "2"
    repair = transcript.step("repair")
    assert repair.state == "planned" and any("alias prod → v2" in c for c in repair.changes)
    assert _registry(broken["client"]) == before


async def test_repair_then_second_run_finds_nothing(broken):
    runbook = load_runbook("model-registry-promotion-stuck")
    driver = ScriptedDriver(True)
    transcript, _, md_path = await run_runbook(
        runbook, broken["settings"], driver, overrides=PARAMS
    )
    assert transcript.status == "completed", [(s.id, s.state, s.error) for s in transcript.steps]
    aliases, stages = _registry(broken["client"])
    assert aliases == {"prod": "2"}
    assert stages == {
        "1": "Archived",
        "2": "Staging",
        "3": "Archived",
        "4": "Archived",
        "5": "Archived",
    }
    assert len(driver.prompts) == 1  # the runbook's confirmation; promotions were not re-asked

    records = AuditLog.for_settings(broken["settings"]).read(AuditFilter(model=MODEL)).records
    promotions = [(r.action, r.version, r.outcome) for r in records]
    assert ("promote.set_alias", "2", "succeeded") in promotions
    assert ("promote.transition_stage", "4", "succeeded") in promotions
    assert all("runbook model-registry-promotion-stuck" in (r.reason or "") for r in records)
    runbook_records = AuditLog.for_settings(broken["settings"]).read(
        AuditFilter(action_prefix="runbook.registry")
    )
    assert [r.outcome for r in runbook_records.records] == ["succeeded"]
    assert "alias prod" in md_path.read_text()

    again, _, _ = await run_runbook(runbook, broken["settings"], ScriptedDriver(), overrides=PARAMS)
    assert again.status == "completed"
    assert again.step("find").data["count"] == 0
    assert again.step("repair").state == "skipped"
    assert again.step("verify").state == "ok"

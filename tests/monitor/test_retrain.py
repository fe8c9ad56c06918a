"""The model-retrain runbook end to end on the demo after time has passed, and its rollout step
against a deployment that follows the contract."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from commands.demo.config import MODEL_NAME
from commands.driver import QuietDriver
from tests.monitor.conftest import DemoWorld
from tests.runbooks.conftest import ScriptedDriver, settings_for


def _run(world: DemoWorld, driver, **overrides):
    from commands.runbooks.catalog import load_runbook
    from commands.runbooks.engine import run_runbook

    runbook = load_runbook("model-retrain")
    return asyncio.run(run_runbook(runbook, world.settings(), driver, overrides=overrides, env={}))


@pytest.fixture(scope="module")
def advanced(world: DemoWorld) -> DemoWorld:
    from commands.demo.advance import advance_demo

    result = advance_demo(world.paths, QuietDriver(), weeks=6, send=False)
    assert result.status == "advanced"
    return world


def test_retrain_runbook_end_to_end(advanced: DemoWorld) -> None:
    from mlflow import MlflowClient

    from console.provenance.collect import ProvenanceSources, collect

    world = advanced
    champion = world.result.champion_version
    driver = ScriptedDriver(default=True)
    transcript, json_path, md_path = _run(world, driver)
    states = {s.id: s.state for s in transcript.steps}
    assert transcript.status == "completed", [(s.id, s.state, s.error) for s in transcript.steps]
    assert states == {
        "snapshot": "ok",
        "train": "ok",
        "challenger": "ok",
        "probe": "ok",
        "gates": "ok",
        "promote": "ok",
        "deployments": "ok",
        "rollout": "skipped",
    }
    steps = {s.id: s for s in transcript.steps}
    new = steps["train"].data["version"]
    newest = steps["snapshot"].data["newest_snapshot"]
    assert steps["snapshot"].data["champion_version"] == champion
    assert steps["snapshot"].data["newer"] is True
    # the new version: the newest snapshot, the champion's recipe, full provenance
    client = MlflowClient(world.server.url)
    version = client.get_model_version(MODEL_NAME, new)
    run = client.get_run(version.run_id)
    old = client.get_run(client.get_model_version(MODEL_NAME, champion).run_id)
    assert run.data.params["data.iceberg.snapshot_id"] == newest
    for key in ("n_estimators", "max_depth", "min_samples_leaf", "max_features", "seed"):
        assert run.data.params[key] == old.data.params[key]
    assert version.tags["mlops.retrained_from"] == champion

    async def gaps():
        async with _client(world) as rest:
            sources = ProvenanceSources.from_settings(world.settings(), lineage=False)
            try:
                record = await collect(rest, MODEL_NAME, new, sources)
            finally:
                await sources.aclose()
            return record.gaps_in("data", "code", "params", "environment", "signature")

    assert asyncio.run(gaps()) == []
    # challenger, then champion, through the promotion flow; the probe and the gates reported
    model = client.get_registered_model(MODEL_NAME)
    assert model.aliases["challenger"] == new and model.aliases["champion"] == new
    assert steps["probe"].data["rows"] > 0 and "disagreements" in steps["probe"].data
    assert steps["gates"].data["passed"] is True
    assert "no embedded deployment" in steps["deployments"].summary
    # transcript and audit
    saved = json.loads(json_path.read_text())
    assert saved["status"] == "completed" and md_path.read_text().count("## ") >= 8
    audit = (world.home / "audit" / "audit.jsonl").read_text().splitlines()
    actions = [json.loads(line)["action"] for line in audit]
    assert "runbook.retrain.train" in actions and "runbook.retrain.promote" in actions
    assert any(a.startswith("promote.") for a in actions)
    # a second run finds the champion already trained on the newest snapshot
    again, _, _ = _run(world, ScriptedDriver(default=True))
    assert again.status == "completed"
    assert [s.state for s in again.steps][1:] == ["skipped"] * 5 + ["ok", "skipped"]
    assert "nothing to retrain on" in again.steps[0].summary


def _client(world: DemoWorld):
    from console.mlflow.client import MlflowRestClient

    return MlflowRestClient.from_settings(world.settings(), tracking_uri=world.server.url)


class _Deployment(BaseHTTPRequestHandler):
    """A stand-in speaking the deployment contract's /version and /reload (the predict service
    is built elsewhere); it records what it was asked."""

    served = "1"
    reloads: list[str] = []

    def log_message(self, *args) -> None:
        return None

    def _answer(self, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/version":
            self._answer(200, {"model": MODEL_NAME, "version": type(self).served, "alias": "x"})
        else:
            self._answer(404, {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        doc = json.loads(self.rfile.read(length) or b"{}")
        type(self).reloads.append(str(doc.get("version")))
        type(self).served = str(doc.get("version"))
        self._answer(200, {"version": type(self).served})


def test_rollout_reloads_and_verifies_each_deployment(tmp_path) -> None:
    from commands.runbooks.context import StepContext
    from commands.runbooks.secrets import Masker
    from commands.runbooks.steps_retrain import RolloutArgs, _rollout, _rollout_plan
    from tests.support.inference import write_deployment_record

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Deployment)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        home = tmp_path / "home"
        write_deployment_record(home, "stand-in", url, MODEL_NAME, "1")
        settings = settings_for(home, "http://127.0.0.1:9", MLOPS_CONSOLE_CONFIG=str(home / "x"))
        ctx = StepContext(settings, QuietDriver(), Masker([]), "model-retrain", "r1")
        args = RolloutArgs(model=MODEL_NAME, version="7")
        plan = asyncio.run(_rollout_plan(ctx, args))
        assert plan.changes == [f"deployment stand-in at {url}: serves v1 → reload v7"]
        result = asyncio.run(_rollout(ctx, args))
        assert _Deployment.reloads == ["7"]
        assert result.changes == ["stand-in: v1 → v7 (verified by /version)"]
        assert asyncio.run(_rollout_plan(ctx, args)).changes == []  # in sync now
    finally:
        server.shutdown()

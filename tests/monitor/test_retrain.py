"""The model-retrain runbook end to end on the demo after time has passed, and its rollout step
against a deployment that follows the contract.

The loop as an operator runs it: the dry run shows every step, with what the steps after the
training would do with the version it registers; the real run holds out the newest labelled weeks,
scores the champion and the challenger on those same rows and ends in a decision (promoted, or the
champion kept) with exit 0; the retrained version's lineage is in DataHub Lite; a promotion's
metric gate is answered on those rows and the deployment is rolled out; a model that is not the
demo's is refused in one line saying what it needs.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from commands.demo.config import MODEL_NAME
from commands.driver import QuietDriver
from tests.monitor.conftest import DemoWorld
from tests.runbooks.conftest import ScriptedDriver, settings_for

STEPS = ["snapshot", "train", "challenger", "probe", "compare", "promote", "deployments", "rollout"]


def _run(world: DemoWorld, driver, *, dry_run: bool = False, **overrides):
    from commands.runbooks.catalog import load_runbook
    from commands.runbooks.engine import run_runbook

    runbook = load_runbook("model-retrain")
    return asyncio.run(
        run_runbook(runbook, world.settings(), driver, dry_run=dry_run, overrides=overrides, env={})
    )


@pytest.fixture(scope="module")
def advanced(world: DemoWorld) -> DemoWorld:
    from commands.demo.advance import advance_demo

    result = advance_demo(world.paths, QuietDriver(), weeks=6, send=False)
    assert result.status == "advanced"
    return world


@pytest.fixture(scope="module")
def stand_in(advanced: DemoWorld) -> Iterator[str]:
    """A deployment of the champion (a stand-in speaking the contract) recorded in the home."""
    from tests.support.inference import write_deployment_record

    _Deployment.served = advanced.result.champion_version
    _Deployment.reloads = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Deployment)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    record = write_deployment_record(
        advanced.home, "stand-in", url, MODEL_NAME, advanced.result.champion_version
    )
    try:
        yield url
    finally:
        record.unlink(missing_ok=True)
        server.shutdown()


def test_dry_run_describes_every_step_and_exits_0(stand_in, advanced, capsys) -> None:
    from console.cli import main

    world = advanced
    champion = world.result.champion_version
    transcript, _, _ = _run(world, ScriptedDriver(default=False), dry_run=True)
    steps = {s.id: s for s in transcript.steps}
    assert transcript.status == "dry-run", [(s.id, s.state, s.error) for s in transcript.steps]
    assert [s.id for s in transcript.steps] == STEPS
    assert steps["snapshot"].state == "ok"
    assert all(steps[i].state == "planned" for i in STEPS[1:]), {
        i: (steps[i].state, steps[i].error) for i in STEPS
    }
    assert all(s.error is None and s.advice is None for s in transcript.steps)
    # the plan names the rows: the newest labelled weeks, held out, scored by both versions
    window = steps["train"].data["window"]
    assert window["rows"] > 0 and window["first_target_week"] <= window["last_target_week"]
    assert window["text"] in steps["train"].changes[0]
    assert f"score it and v{champion} on those same rows" in steps["train"].changes[0]
    # later steps in terms of what the train step would register
    new = "the version the train step registers"
    assert steps["challenger"].summary == f"would alias {new} as challenger of {MODEL_NAME}"
    assert new in steps["probe"].summary
    assert steps["compare"].summary.startswith(f"would compare {new} with v{champion}")
    assert window["text"] in steps["compare"].summary
    assert steps["promote"].summary.endswith(", if the compare step chooses to promote")
    assert "metric gate answered on the rows" in steps["promote"].changes[0]
    assert "(now: stand-in)" in steps["deployments"].summary
    assert steps["rollout"].changes == [
        f"deployment stand-in at {stand_in}: serves v{champion} → reload {new}, verified by "
        "GET /version"
    ]
    # nothing changed
    assert _Deployment.reloads == []
    # the CLI: exit 0, no failed step
    capsys.readouterr()
    assert main([*world.cli(), "runbook", "run", "model-retrain", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "FAILED" not in out and "has no value" not in out
    assert f"[planned] challenger — Alias it challenger: would alias {new}" in out


def _scores(world: DemoWorld, version: str):
    from mlflow import MlflowClient

    client = MlflowClient(world.server.url)
    run = client.get_run(client.get_model_version(MODEL_NAME, version).run_id)
    return run


def test_real_run_ends_in_a_decision_on_the_same_rows(stand_in, advanced) -> None:
    from mlflow import MlflowClient

    from console.provenance.collect import ProvenanceSources, collect

    world = advanced
    champion = world.result.champion_version
    driver = ScriptedDriver(default=True)
    transcript, json_path, md_path = _run(world, driver)
    states = {s.id: s.state for s in transcript.steps}
    assert transcript.status == "completed", [(s.id, s.state, s.error) for s in transcript.steps]
    steps = {s.id: s for s in transcript.steps}
    new = steps["train"].data["version"]
    newest = steps["snapshot"].data["newest_snapshot"]
    assert steps["snapshot"].data["champion_version"] == champion
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
    # both scores on the challenger's run, on the rows named there
    window = run.data.params["holdout.window"]
    assert f"@{newest}: target weeks" in window
    assert run.data.params["holdout.compared_with_version"] == champion
    assert run.data.params["holdout.rows_in_champion_training"] == "0"
    ours = run.data.metrics["holdout_f1_macro"]
    theirs = run.data.metrics[f"holdout_f1_macro.v{champion}"]
    compare = steps["compare"]
    print(f"decision: {compare.summary}")  # shown with -rP: which way the demo data went
    assert compare.state == "ok"
    assert compare.data["challenger_score"] == ours and compare.data["champion_score"] == theirs
    assert compare.data["window"] == window and window in compare.summary
    model = client.get_registered_model(MODEL_NAME)
    assert model.aliases["challenger"] == new
    if ours >= theirs:
        assert compare.data["decision"] == "promote"
        assert compare.summary.startswith(f"promote v{new}: it scores at least as well")
        assert states["promote"] == "ok" and model.aliases["champion"] == new
        assert states["rollout"] == "ok" and _Deployment.served == new
    else:
        assert compare.data["decision"] == "keep"
        assert compare.summary.startswith(
            f"keep champion v{champion}: it scores better on the same rows"
        )
        assert [states[i] for i in ("promote", "deployments", "rollout")] == ["skipped"] * 3
        assert model.aliases["champion"] == champion and _Deployment.served == champion
    assert steps["probe"].data["rows"] > 0 and "disagreements" in steps["probe"].data
    # transcript and audit
    saved = json.loads(json_path.read_text())
    assert saved["status"] == "completed" and md_path.read_text().count("## ") >= 8
    audit = (world.home / "audit" / "audit.jsonl").read_text().splitlines()
    actions = [json.loads(line)["action"] for line in audit]
    assert "runbook.retrain.train" in actions and "runbook.retrain.promote" in actions


def test_retrained_version_is_in_the_lineage_store(advanced, capsys) -> None:
    from mlflow import MlflowClient

    from console.cli import main

    world = advanced
    client = MlflowClient(world.server.url)
    retrained = [
        v
        for v in client.search_model_versions(f"name='{MODEL_NAME}'")
        if v.tags.get("mlops.retrained_from")
    ]
    assert retrained
    version = max(retrained, key=lambda v: int(v.version))
    capsys.readouterr()
    code = main([*world.cli(), "lineage", MODEL_NAME, version.version, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc["problems"]
    assert [p["kind"] for p in doc["problems"]] == []
    code = main([*world.cli(), "lineage", "--run", version.run_id, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and "version_not_in_datahub" not in json.dumps(doc["problems"])


def test_promotion_on_the_same_rows_rolls_out(stand_in, advanced, tmp_path, monkeypatch) -> None:
    """With a tolerance the challenger is promoted even when it scores a little lower; the metric
    gate of the promotion is the comparison on the same rows, and the deployment is rolled out."""
    from mlflow import MlflowClient

    world = advanced
    champion = world.result.champion_version
    client = MlflowClient(world.server.url)
    if client.get_registered_model(MODEL_NAME).aliases["champion"] == champion:
        config = tmp_path / "config.toml"
        config.write_text(f'[gates.models."{MODEL_NAME}".alias.champion]\ntolerance = 1.0\n')
        monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(config))
        transcript, _, _ = _run(world, ScriptedDriver(default=True))
        states = {s.id: s.state for s in transcript.steps}
        assert transcript.status == "completed", [
            (s.id, s.state, s.error) for s in transcript.steps
        ]
        steps = {s.id: s for s in transcript.steps}
        # the version trained by the previous run is reused
        assert states["train"] == "skipped" and "reused" in steps["train"].summary
        assert steps["compare"].data["decision"] == "promote"
        assert states["promote"] == "ok" and states["rollout"] == "ok"
    new = client.get_registered_model(MODEL_NAME).aliases["champion"]
    assert new != champion and _Deployment.served == new and new in _Deployment.reloads
    # the promotion's metric gate: the same rows, not the metrics logged at two trainings
    audit = [
        json.loads(line) for line in (world.home / "audit" / "audit.jsonl").read_text().splitlines()
    ]
    promoted = [
        r
        for r in audit
        if r["action"] == "promote.set_alias"
        and r["outcome"] == "succeeded"
        and r["target"] == "alias:champion"
    ]
    assert promoted, [r["action"] for r in audit]
    assert promoted[-1]["forced"] is False
    gates = {g["name"]: g for g in promoted[-1]["gates"]}
    assert gates["metric"]["status"] == "passed"
    assert "on the same rows (the newest 8 labelled weeks" in gates["metric"]["detail"]
    assert {g["status"] for g in gates.values()} == {"passed"}


def test_second_run_finds_nothing_to_retrain(advanced) -> None:
    again, _, _ = _run(advanced, ScriptedDriver(default=True))
    assert again.status == "completed"
    assert [s.state for s in again.steps][1:] == ["skipped"] * 7
    assert "nothing to retrain on" in again.steps[0].summary


def test_a_model_that_is_not_the_demos_is_refused_in_one_line(advanced, capsys) -> None:
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    from commands.runbooks.context import StepContext, StepFailed
    from commands.runbooks.secrets import Masker
    from commands.runbooks.steps_retrain import compare_on_same_rows
    from console.cli import main

    world = advanced
    mlflow.set_tracking_uri(world.server.url)
    client = MlflowClient(world.server.url)
    x = np.arange(40, dtype=float).reshape(20, 2)
    y = (x[:, 0] > 20).astype(int)
    # an experiment of its own on this server: mlflow's fluent state may still name another
    # server's experiment set by an earlier test in this process
    experiment = client.create_experiment(f"churn-foreign-{uuid.uuid4().hex[:6]}")
    with mlflow.start_run(experiment_id=experiment):
        mlflow.log_params(
            {"data.iceberg.table": "lake.git.commits", "data.iceberg.snapshot_id": "1"}
        )
        info = mlflow.sklearn.log_model(LogisticRegression().fit(x, y), name="model")
    version = mlflow.register_model(info.model_uri, "churn-foreign").version
    client.set_registered_model_alias("churn-foreign", "champion", version)
    capsys.readouterr()
    code = main(
        [*world.cli(), "runbook", "run", "model-retrain", "--yes", "--set", "model=churn-foreign"]
    )
    out = capsys.readouterr()
    assert code == 1
    errors = [line for line in out.out.splitlines() if line.strip().startswith("error:")]
    assert errors == [
        "    error: churn-foreign has no training entry point: the retrain needs "
        "training_commands.churn-foreign in the profile (see docs/guide/runbooks.md)"
    ]
    assert "Traceback" not in out.err and "Traceback" not in out.out
    # a version without the champion's score on its held-out rows cannot be compared
    ctx = StepContext(world.settings(), QuietDriver(), Masker([]), "model-retrain", "r1")

    async def compare():
        try:
            return await compare_on_same_rows(ctx, "churn-foreign", version, "1", "champion")
        finally:
            await ctx.aclose()

    with pytest.raises(StepFailed, match="has no score of v1 on its held-out rows"):
        asyncio.run(compare())


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

    _Deployment.served, _Deployment.reloads = "1", []
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

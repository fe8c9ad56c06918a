"""``mlflow-postgres-bloat`` against a real PostgreSQL-backed MLflow server bloated by deletions.

The server is seeded with runs carrying thousands of metric points; some are deleted "40 days
ago" (``deleted_time`` set in the database, the only way to age a deletion), some recently, and
one whole experiment is deleted. The runbook must purge exactly the old deletions in live
experiments, leave the deleted experiment restorable, VACUUM, and report before/after figures.
"""

from __future__ import annotations

import json
import time

import pytest

from commands.runbooks.catalog import load_runbook
from commands.runbooks.engine import run_runbook
from console.audit import AuditFilter, AuditLog
from tests.runbooks.conftest import ScriptedDriver, settings_for
from tests.support.servers import PG_DSN, postgres_available, postgres_mlflow_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not on 127.0.0.1:5432"),
]

DAY_MS = 86_400_000
PASSWORD = "s3cret-pw-4711"  # trust auth ignores it; it must never reach a transcript


def _seed(url: str, dsn: str) -> dict:
    import psycopg
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(url)
    live = client.create_experiment("bloat-live")
    retired = client.create_experiment("bloat-retired")
    now = int(time.time() * 1000)

    def run_with_metrics(experiment: str) -> str:
        run = client.create_run(experiment)
        run_id = run.info.run_id
        for key in ("loss", "acc"):
            points = [Metric(key, i / 7, now + i, i) for i in range(1000)]
            client.log_batch(run_id, metrics=points)
        client.set_tag(run_id, "purpose", "bloat")
        return run_id

    runs = [run_with_metrics(live) for _ in range(14)]
    retired_runs = [run_with_metrics(retired) for _ in range(2)]
    old, recent, kept = runs[:8], runs[8:11], runs[11:]
    for run_id in old + recent:
        client.delete_run(run_id)
    client.delete_experiment(retired)
    long_ago = now - 40 * DAY_MS
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE runs SET deleted_time = %s WHERE run_uuid = ANY(%s)", (long_ago, old))
        conn.execute(
            "UPDATE runs SET deleted_time = %s WHERE run_uuid = ANY(%s)", (long_ago, retired_runs)
        )
        conn.execute(
            "UPDATE experiments SET last_update_time = %s WHERE experiment_id = %s",
            (long_ago, int(retired)),
        )
    return {"old": old, "recent": recent, "kept": kept, "retired": retired_runs, "exp": retired}


@pytest.fixture(scope="module")
def bloated(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("mlflow-pg-bloat")
    with postgres_mlflow_server(workdir, "mlc_rb_bloat") as (server, name):
        dsn = PG_DSN.rsplit("/", 1)[0] + f"/{name}"
        seeded = _seed(server.url, dsn)
        secret_dsn = dsn.replace("postgres@", f"postgres:{PASSWORD}@")
        home = tmp_path_factory.mktemp("rb-home")
        yield {
            "server": server,
            "dsn": dsn,
            "uri": f"postgresql+psycopg://postgres:{PASSWORD}@" + dsn.split("@", 1)[1],
            "secret_dsn": secret_dsn,
            "name": name,
            "home": home,
            "settings": settings_for(home, server.url),
            **seeded,
        }


def _run_state(dsn: str) -> dict[str, set[str]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT run_uuid, lifecycle_stage FROM runs").fetchall()
        exps = conn.execute("SELECT experiment_id, lifecycle_stage FROM experiments").fetchall()
    return {
        "runs": {r for r, _ in rows},
        "deleted": {r for r, stage in rows if stage == "deleted"},
        "deleted_experiments": {str(e) for e, stage in exps if stage == "deleted"},
    }


def _step(transcript, step_id):
    return transcript.step(step_id)


async def test_dry_run_changes_nothing(bloated):
    before = _run_state(bloated["dsn"])
    driver = ScriptedDriver()
    transcript, json_path, md_path = await run_runbook(
        load_runbook("mlflow-postgres-bloat"),
        bloated["settings"],
        driver,
        dry_run=True,
        overrides={"backend_dsn": bloated["uri"]},
    )
    assert transcript.status == "dry-run"
    assert driver.prompts == []
    gc = _step(transcript, "gc")
    assert gc.state == "planned" and "permanently delete 8 runs" in gc.changes[0]
    assert _step(transcript, "deleted-runs").data["in_deleted_experiments"] == 2
    assert _step(transcript, "vacuum-full").state == "skipped"
    assert _run_state(bloated["dsn"]) == before
    assert PASSWORD not in json_path.read_text() + md_path.read_text()


async def test_interrupted_run_resumes_and_purges_only_old_deletions(bloated):
    runbook = load_runbook("mlflow-postgres-bloat")
    overrides = {"backend_dsn": bloated["uri"], "vacuum_full": "true"}
    interrupted = ScriptedDriver("interrupt")
    with pytest.raises(KeyboardInterrupt):
        await run_runbook(runbook, bloated["settings"], interrupted, overrides=overrides)
    assert _run_state(bloated["dsn"])["runs"] >= set(bloated["old"])  # nothing purged yet

    # resumed without re-typing the DSN (it had a password, so it comes from the environment)
    driver = ScriptedDriver(True, True, bloated["name"])
    transcript, json_path, md_path = await run_runbook(
        runbook,
        bloated["settings"],
        driver,
        resume=True,
        env={"MLFLOW_BACKEND_STORE_URI": bloated["uri"]},
    )
    assert transcript.status == "completed", [(s.id, s.state, s.error) for s in transcript.steps]
    assert len(transcript.resumed_at) == 1
    assert _step(transcript, "sizes-before").attempts == 1  # done before the interruption
    assert _step(transcript, "gc").attempts == 2
    assert driver.prompts[2][1] == bloated["name"]  # VACUUM FULL wanted the database name typed

    state = _run_state(bloated["dsn"])
    assert not set(bloated["old"]) & state["runs"]
    assert set(bloated["recent"]) <= state["deleted"]
    assert set(bloated["retired"]) <= state["deleted"]
    assert bloated["exp"] in state["deleted_experiments"]
    assert set(bloated["kept"]) <= state["runs"] - state["deleted"]

    after_gc = _step(transcript, "sizes-after-gc").data["tables"]
    before = _step(transcript, "sizes-before").data["tables"]
    assert after_gc["metrics"]["live_tuples"] < before["metrics"]["live_tuples"]
    vacuum = _step(transcript, "vacuum")
    assert vacuum.state == "ok"
    full = _step(transcript, "vacuum-full").data
    assert (
        full["after"]["tables"]["metrics"]["total_bytes"]
        < full["before"]["tables"]["metrics"]["total_bytes"]
    )
    assert _step(transcript, "compare").data["reclaimed_bytes"] > 0
    text = json_path.read_text() + md_path.read_text()
    assert PASSWORD not in text and "********" in text
    assert "## 3. Purge runs deleted long ago — ✔ ok" in md_path.read_text()

    records = AuditLog.for_settings(bloated["settings"]).read(AuditFilter(action_prefix="runbook."))
    actions = [(r.action, r.outcome) for r in records.records]
    assert ("runbook.mlflow.gc_runs", "succeeded") in actions
    assert ("runbook.postgres.vacuum_full", "succeeded") in actions
    assert all(r.details["run_id"] == transcript.run_id for r in records.records)
    assert PASSWORD not in records.model_dump_json()


def test_second_run_headless_finds_nothing(bloated, capsys, monkeypatch):
    from console import cli

    monkeypatch.setenv("MLFLOW_BACKEND_STORE_URI", bloated["uri"])
    code = cli.main(
        [
            "runbook",
            "run",
            "mlflow-postgres-bloat",
            "--yes",
            "--json",
            "--home",
            str(bloated["home"]),
            "--tracking-uri",
            bloated["server"].url,
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)
    states = {s["id"]: s["state"] for s in doc["steps"]}
    assert states["gc"] == "skipped" and states["vacuum-full"] == "skipped"
    assert states["vacuum"] == "skipped"
    assert PASSWORD not in out.out + out.err

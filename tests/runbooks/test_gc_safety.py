"""Why the bloat runbook does not run plain ``mlflow gc``: measured on two copies of one store.

One live experiment with a run deleted long ago, and one deleted experiment. ``mlflow gc
--run-ids <that run>`` purges the deleted experiment as well; ``commands.runbooks.gc_runs``
(MLflow's gc routine with the experiment purge off) purges the run and nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import MLFLOW_BIN

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("gc-store")
    uri = f"sqlite:///{work / 'mlflow.db'}"
    code = (
        "import json, sys\n"
        "from mlflow import MlflowClient\n"
        "c = MlflowClient(sys.argv[1])\n"
        "live = c.create_experiment('live', artifact_location=sys.argv[2] + '/live')\n"
        "gone = c.create_experiment('gone', artifact_location=sys.argv[2] + '/gone')\n"
        "run = c.create_run(live).info.run_id\n"
        "c.create_run(gone)\n"
        "c.delete_run(run)\n"
        "c.delete_experiment(gone)\n"
        "print(json.dumps({'run': run, 'gone': gone}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, uri, str(work / "artifacts")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    with sqlite3.connect(work / "mlflow.db") as db:
        db.execute("UPDATE runs SET deleted_time = 1000")  # deleted long ago
        db.execute("UPDATE experiments SET last_update_time = 1000")
    return {"work": work, **ids}


def _copy(store: dict, name: str) -> tuple[str, Path]:
    target = store["work"] / f"{name}.db"
    shutil.copy(store["work"] / "mlflow.db", target)
    return f"sqlite:///{target}", target


def _state(db: Path) -> tuple[set[str], set[str]]:
    with sqlite3.connect(db) as conn:
        runs = {r for (r,) in conn.execute("SELECT run_uuid FROM runs")}
        experiments = {str(e) for (e,) in conn.execute("SELECT experiment_id FROM experiments")}
    return runs, experiments


def test_plain_mlflow_gc_with_run_ids_purges_deleted_experiments(store):
    uri, db = _copy(store, "plain")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    subprocess.run(
        [MLFLOW_BIN, "gc", "--backend-store-uri", uri, "--run-ids", store["run"]],
        env=env,
        capture_output=True,
        check=True,
        timeout=180,
    )
    runs, experiments = _state(db)
    assert store["run"] not in runs
    assert store["gone"] not in experiments  # the hazard: a deleted experiment, purged


def test_runbook_gc_purges_only_the_given_runs(store):
    uri, db = _copy(store, "safe")
    request = {
        "backend_store_uri": uri,
        "tracking_uri": uri,
        "run_ids": [store["run"]],
        "older_than_days": 30,
    }
    out = subprocess.run(
        [sys.executable, "-m", "commands.runbooks.gc_runs"],
        input=json.dumps(request),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"ok": True, "purged": 1}
    runs, experiments = _state(db)
    assert store["run"] not in runs
    assert store["gone"] in experiments and len(runs) == 1  # the deleted experiment's run stays

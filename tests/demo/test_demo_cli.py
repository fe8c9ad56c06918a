"""``mlops-console demo`` and ``python -m commands.demo`` on the built home; then ``--reset``.

The reset test rebuilds everything and so runs last in this package (pytest keeps file order).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands.demo.config import EXPERIMENT_NAME, MODEL_NAME
from tests.demo.conftest import BuiltDemo

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = {**os.environ}
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_CONSOLE_HOME"):
        env.pop(var, None)
    return env


def test_cli_demo_with_explicit_uri_is_a_no_op_and_says_its_target(built_demo: BuiltDemo) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "demo",
            "--json",
            "--home",
            str(built_demo.paths.home),
            "--tracking-uri",
            built_demo.server.url,
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "unchanged"
    assert doc["target"]["embedded"] is False
    assert built_demo.server.url in doc["target"]["description"]
    assert doc["champion_version"] == "1"


def test_cli_demo_refuses_when_read_only(built_demo: BuiltDemo) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "demo",
            "--read-only",
            "--home",
            str(built_demo.paths.home),
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 3
    assert "read-only" in out.stderr and "Traceback" not in out.stderr


def test_module_streams_progress_as_json_lines(built_demo: BuiltDemo) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "commands.demo",
            "--home",
            str(built_demo.paths.home),
            "--tracking-uri",
            built_demo.server.url,
            "--progress-jsonl",
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert {r["type"] for r in records[:-1]} == {"progress"}
    assert records[-1]["type"] == "result"
    assert records[-1]["result"]["status"] == "unchanged"


@pytest.mark.slow
def test_reset_rebuilds_from_scratch(built_demo: BuiltDemo, mlflow_client) -> None:
    from commands.demo import lake
    from commands.demo.pipeline import build_demo
    from commands.driver import QuietDriver

    old_runs = {r.run_id for r in built_demo.result.runs}
    driver = QuietDriver()
    rebuilt = build_demo(built_demo.paths, built_demo.server.url, driver, reset=True)
    assert rebuilt.status == "built"
    assert any(m.startswith("reset: removed") for m in driver.messages)
    new_runs = {r.run_id for r in rebuilt.runs}
    assert len(new_runs) == 7 and not new_runs & old_runs
    experiment = mlflow_client.get_experiment_by_name(EXPERIMENT_NAME)
    assert experiment.lifecycle_stage == "active"
    active = mlflow_client.search_runs([experiment.experiment_id], max_results=100)
    assert {r.info.run_id for r in active} == new_runs
    versions = mlflow_client.search_model_versions(f"name='{MODEL_NAME}'")
    assert sorted(v.version for v in versions) == ["1", "2", "3"]
    assert {v.run_id for v in versions} <= new_runs
    assert mlflow_client.get_registered_model(MODEL_NAME).aliases == {"champion": "1"}
    catalog = lake.open_catalog(built_demo.paths.catalog_db, built_demo.paths.warehouse)
    assert set(lake.snapshot_tags(catalog)) == {f"mlflow-{r}" for r in new_runs}
    events = built_demo.paths.events.read_text().splitlines()
    assert len(events) == 14  # the log was recreated, not appended to
    # the same code gives the same commits: git hashes are deterministic
    assert rebuilt.git_commits == built_demo.result.git_commits

"""The demo's identical-metrics pair diagnosed end to end in the CLI, with the probe: metrics
exactly equal, only the snapshot differs, predictions disagree, the data snapshot ranks first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_pair_diagnosed_in_the_cli(demo_home, prov_server) -> None:
    home, result = demo_home
    left, right = result.scenario_versions
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    out = subprocess.run(
        [sys.executable, "-m", "console", "diagnose", result.model, left, right, "--json",
         "--home", str(home), "--tracking-uri", prov_server.url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "probe: [100%]" in out.stderr
    doc = json.loads(out.stdout)
    assert doc["metrics"]["equal"] is True
    kinds = {d["kind"] for d in doc["differences"]} - {"artifact"}
    assert kinds == {"data"}
    assert doc["predictions"]["rows"] > 0
    assert doc["predictions"]["disagreements"] > 0
    top = doc["causes"][0]
    assert top["kind"] == "data"
    assert "different snapshots of lake.git.commits" in top["summary"]
    assert "rows changed" in top["summary"]
    assert "changed: commits" in top["summary"] and "rows: repo=acme/" in top["summary"]
    assert doc["gaps"] == []


@pytest.mark.slow
def test_demo_provenance_is_complete(demo_home, prov_server) -> None:
    home, result = demo_home
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    out = subprocess.run(
        [sys.executable, "-m", "console", "provenance", result.model, result.champion_version,
         "--json", "--home", str(home), "--tracking-uri", prov_server.url],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["gaps"] == []
    assert doc["data"]["snapshot"]["refs"]
    assert doc["lineage"]["pinned_snapshots"]["lake.git.commits"] == doc["data"]["snapshot_id"]

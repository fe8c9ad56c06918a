"""``mlops-console provenance`` and ``diagnose`` as an operator runs them: new processes, human
text within 80 columns, ``--json`` documents, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.provenance.world import World

ROOT = Path(__file__).resolve().parents[2]


def cli(world: World, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    return subprocess.run(
        [sys.executable, "-m", "console", *args, "--home", str(world.home),
         "--tracking-uri", world.tracking_uri],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_provenance_text_fits_80_columns(world: World) -> None:
    case = world.cases["commit"]
    out = cli(world, "provenance", case.model, case.right, "--no-lineage")
    assert out.returncode == 0, out.stderr
    assert "training code step 2" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    assert "Gaps: none" in out.stdout


def test_provenance_json_and_gaps_exit_code(world: World) -> None:
    case = world.cases["missing"]
    out = cli(world, "provenance", case.model, case.left, "--json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["model"] == case.model and doc["version"] == case.left
    assert {g["area"] for g in doc["gaps"]} >= {"data", "code", "params", "lineage"}


def test_diagnose_json_without_probe(world: World) -> None:
    case = world.cases["seed"]
    out = cli(world, "diagnose", case.model, case.left, case.right, "--no-probe", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {
        "model", "left", "right", "metrics", "differences", "predictions", "causes", "gaps",
    }  # fmt: skip
    assert doc["predictions"] is None
    assert doc["causes"][0]["kind"] == "params"
    assert doc["causes"][0]["keys"] == ["seed"]


def test_diagnose_text_and_errors(world: World) -> None:
    case = world.cases["library"]
    out = cli(world, "diagnose", case.model, case.left, case.right, "--no-probe")
    assert out.returncode == 0, out.stderr
    assert "1. [environment] library versions differ" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    missing = cli(world, "diagnose", case.model, case.left, "99", "--no-probe")
    assert missing.returncode != 0
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr

"""``mlops-console lineage``: text tree, JSON with problems, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from console.cli import main
from tests.lineage.conftest import RUN_A
from tests.lineage.stores import MODEL


@pytest.fixture
def home(tmp_path: Path, healthy_store: Path) -> Path:
    target = tmp_path / "home" / "datahub" / "lite.db"
    target.parent.mkdir(parents=True)
    shutil.copy(healthy_store, target)
    return tmp_path / "home"


def test_text_tree(home: Path, capsys) -> None:
    assert main(["--home", str(home), "lineage", MODEL, "1", "--no-mlflow"]) == 0
    out = capsys.readouterr().out
    assert "[group] next-week-commits" in out
    assert f"[run] train-1  (run {RUN_A}, via mlflow+openlineage)" in out
    assert "[data] lake.git.commits  (iceberg) @ snapshot 5123456789012345678" in out
    assert "[data] gh.public.commits" in out and "problems: none" in out


def test_json_graph_and_problem_exit_code(home: Path, capsys) -> None:
    assert main(["--home", str(home), "lineage", MODEL, "7", "--json", "--depth", "2"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["depth"] == 2 and doc["backend"] == "lite"
    assert [p["kind"] for p in doc["problems"]] == ["version_not_in_datahub"]


def test_run_and_direction(home: Path, capsys) -> None:
    code = main(["--home", str(home), "lineage", "--run", RUN_A, "--direction", "up", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["direction"] == "upstream"
    assert {e["direction"] for e in doc["edges"]} == {"upstream"}


def test_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["--home", str(tmp_path), "lineage", MODEL]) == 1
    assert "expected MODEL VERSION" in capsys.readouterr().err
    assert main(["--home", str(tmp_path), "lineage", MODEL, "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no DataHub Lite store" in err
    assert main(["--home", str(tmp_path), "--read-only", "lineage", "sync", "--skip-mlflow"]) == 3


def test_sync_json_reports_zero_changes_the_second_time(tmp_path: Path, capsys) -> None:
    args = ["--home", str(tmp_path), "lineage", "sync", "--skip-mlflow", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["changes"] == 0 and first["mlflow_skipped"] is True
    assert any("no OpenLineage event log" in w for w in first["warnings"])

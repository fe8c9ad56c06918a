"""The invariance checks: the demo's champion passes all three; broken models fail theirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from commands.demo.config import MODEL_NAME
from commands.demo.features import FEATURE_COLUMNS
from commands.demo.schema import FeatureRow
from commands.invariance import (
    as_frame,
    check_column_order,
    check_repo_name,
    run_checks,
)
from tests.demo.broken_models import ReadsColumnsByPosition, ReadsRepoName, save_and_load
from tests.demo.conftest import BuiltDemo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def champion(built_demo: BuiltDemo):
    import mlflow

    mlflow.set_tracking_uri(built_demo.server.url)
    return mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/1")


def test_champion_passes_every_check(champion) -> None:
    rows = as_frame(champion.input_example)
    report = run_checks(champion, rows)
    assert report.rows == len(rows) >= 10
    assert [c.name for c in report.checks] == ["column_order", "extra_column", "repo_name"]
    assert report.passed, report.checks


def test_rows_can_be_pydantic_feature_rows(champion) -> None:
    rows = [FeatureRow(**r) for r in as_frame(champion.input_example).to_dict("records")]
    assert run_checks(champion, rows).passed
    with pytest.raises(ValueError):
        as_frame([{**rows[0].model_dump(), "repo": "acme/billing"}])  # not a feature


def test_a_model_reading_the_repo_name_fails_that_check(champion, tmp_path: Path) -> None:
    broken = save_and_load(ReadsRepoName(), tmp_path / "reads-repo")
    rows = as_frame(champion.input_example)
    result = check_repo_name(broken, rows)
    assert not result.passed
    assert "predictions changed" in result.detail
    report = run_checks(broken, rows)
    assert [c.passed for c in report.checks] == [True, True, False]
    assert not report.passed


def test_a_model_reading_columns_by_position_fails_column_order(champion, tmp_path: Path) -> None:
    broken = save_and_load(ReadsColumnsByPosition(), tmp_path / "positional")
    rows = as_frame(champion.input_example)[list(FEATURE_COLUMNS)]
    assert not check_column_order(broken, rows).passed


@pytest.mark.slow
def test_command_line_runs_the_checks_in_its_own_process(built_demo: BuiltDemo) -> None:
    cmd = [sys.executable, "-m", "commands.invariance", "--tracking-uri", built_demo.server.url]
    ok = subprocess.run(
        [*cmd, "--model-uri", f"models:/{MODEL_NAME}/1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["passed"] and len(report["checks"]) == 3
    missing = subprocess.run(
        [*cmd, "--model-uri", f"models:/{MODEL_NAME}/99"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr

"""The signature-derived invariance checks: each custom pyfunc that breaks one invariance fails
exactly that check; a well-behaved one and a plain scikit-learn version pass all five; the
invariance gate runs them by default; ``mlops-console invariance`` prints each result."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands.invariance_signature import CHECK_NAMES, check_rows, run_checks
from tests.provenance import invariance_models as im
from tests.provenance.foreign import Foreign

ROOT = Path(__file__).resolve().parents[2]


def report_for(model_class, tmp_path: Path):
    import mlflow

    path = im.save(model_class(), tmp_path / model_class.__name__)
    model = mlflow.pyfunc.load_model(path)
    rows, ints = check_rows(model)
    return run_checks(model, lambda: mlflow.pyfunc.load_model(path), rows, ints)


@pytest.mark.parametrize(
    ("model_class", "broken"),
    [
        (im.ReadsByPosition, "column_order"),
        (im.SumsEveryColumn, "extra_column"),
        (im.BatchRelative, "row_alone"),
        (im.TypeSensitive, "int_as_float"),
        (im.SaltedAtLoad, "load_twice"),
    ],
)
def test_each_broken_model_fails_its_check(model_class, broken, tmp_path) -> None:
    report = report_for(model_class, tmp_path)
    failed = [c.name for c in report.checks if not c.passed]
    assert failed == [broken], report.checks
    assert not report.passed
    assert report.rows > 200  # the example and the synthetic rows


def test_a_well_behaved_model_passes_every_check(tmp_path) -> None:
    report = report_for(im.Fine, tmp_path)
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    assert report.passed, report.checks


def cli(foreign: Foreign, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "console", *args, "--home", str(foreign.home),
         "--tracking-uri", foreign.tracking_uri],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_cli_on_a_plain_sklearn_version(foreign) -> None:
    pair = foreign.cases["identical"]
    out = cli(foreign, "invariance", pair.model, pair.left, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["passed"] and [c["name"] for c in doc["checks"]] == list(CHECK_NAMES)
    # MLflow's schema refuses floats for the long column n: an error, never another answer
    int_check = next(c for c in doc["checks"] if c["name"] == "int_as_float")
    assert "refused" in int_check["detail"]
    assert "invariance: loading" in out.stderr
    text = cli(foreign, "invariance", pair.model, pair.left)
    assert text.returncode == 0 and text.stdout.count("PASS") == 5


def test_cli_unknown_version_is_one_line(foreign) -> None:
    out = cli(foreign, "invariance", foreign.cases["identical"].model, "99")
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "error" in out.stderr


def test_the_gate_runs_the_signature_checks_by_default(foreign) -> None:
    from commands.gates import effective_gates
    from commands.promote_gates import GateInputs, gate_invariance
    from console.promotion_model import PromotionRequest

    pair = foreign.cases["identical"]
    request = PromotionRequest(model=pair.model, version=pair.left, alias="champion")
    gates = effective_gates(request)
    assert gates.invariance_modules == ["commands.invariance_signature"]
    inputs = GateInputs(
        client=None, request=request, candidate=None, holder=None,
        tracking_uri=foreign.tracking_uri,
    )  # fmt: skip
    result = asyncio.run(gate_invariance(inputs, gates))
    assert result.status == "passed", result.detail
    assert "row_alone" in result.detail and "load_twice" in result.detail

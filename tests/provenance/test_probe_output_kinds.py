"""The probe and the causes on models that return more than one label per row, built as other
teams build them (``outputs.py``): probabilities are compared as K outputs per row, a frame and a
dict column by column, regression values within the operator's tolerance; a pipeline's seed is a
seed; MLflow dataset inputs are data provenance; a version whose files are gone gets the loader's
reason as its gap and no cause built from what only the other side recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.provenance.conftest import diagnose_pair
from tests.provenance.outputs import EVAL_ROWS, Outputs

ROOT = Path(__file__).resolve().parents[2]


def run_diagnosis(world: Outputs, case: str, **options):
    rows = str(world.eval_csv)
    return diagnose_pair(
        world.home, world.tracking_uri, world.cases[case], rows_file=rows, **options
    )


def outputs_of(result) -> dict[str, tuple[str, int]]:
    return {c.name: (c.kind, c.rows_differing) for c in result.predictions.outputs}


def test_probabilities_count_rows_not_cells_and_the_pipeline_seed_is_the_cause(
    outputs_world,
) -> None:
    result = run_diagnosis(outputs_world, "proba")
    p = result.predictions
    assert result.probe_error is None and p is not None
    assert p.rows == EVAL_ROWS and 0 < p.disagreements <= EVAL_ROWS and p.rate <= 1
    kinds = outputs_of(result)
    assert set(kinds) == {"0", "1", "2"} and {k for k, _ in kinds.values()} == {"numeric"}
    assert all(c.max_abs_diff and c.max_abs_diff > 1e-6 for c in p.outputs)
    assert "300.0%" not in p.verdict and "differs: 0, 1, 2" in p.verdict
    assert p.confusion == []  # no labels: the per-output table instead
    assert p.examples and "=" in p.examples[0].left and p.examples[0].outputs
    seed = result.causes[0]
    assert seed.kind == "params" and seed.keys == ["gbc__random_state"], result.causes
    assert "random seed differs" in seed.summary
    assert not [g for g in result.gaps if "no random seed" in g.message], result.gaps
    # both runs logged the same dataset: data is recorded, and it is the same
    assert not [g for g in result.gaps if g.area == "data"], result.gaps
    assert not [
        c for c in result.causes if c.kind in ("data", "incomplete") and "data" in c.summary
    ]


def test_a_frame_whose_scores_all_moved_disagrees_on_every_row(outputs_world) -> None:
    result = run_diagnosis(outputs_world, "frame")
    p = result.predictions
    assert p.disagreements == EVAL_ROWS and p.conclusive  # was: 0, "below 0.60%"
    assert outputs_of(result) == {"label": ("label", 0), "score": ("numeric", EVAL_ROWS)}
    assert "differs: score" in p.verdict and "the same: label" in p.verdict
    assert p.examples[0].outputs == ["score"] and p.examples[0].left.startswith("score=")
    assert result.causes[0].kind == "params" and result.causes[0].keys == ["temperature"]


def test_a_dict_is_compared_key_by_key_with_its_labels_tabled(outputs_world) -> None:
    result = run_diagnosis(outputs_world, "dict")
    p = result.predictions
    kinds = outputs_of(result)
    assert kinds["size"] == ("numeric", 0) and kinds["kind"][0] == "label"
    assert 0 < kinds["kind"][1] == p.disagreements < EVAL_ROWS
    off = [c for c in p.confusion if c.left != c.right]
    assert [(c.left, c.right) for c in off] == [("big", "small")]
    assert off[0].rows == p.disagreements


def test_dataset_api_provenance_is_data_and_the_tolerance_is_the_operators(outputs_world) -> None:
    result = run_diagnosis(outputs_world, "regression")
    p = result.predictions
    assert outputs_of(result) == {"prediction": ("numeric", EVAL_ROWS)}
    assert 0 < p.outputs[0].max_abs_diff < 1.0
    assert result.causes[0].kind == "data"
    assert "dataset.training.sales" in result.causes[0].keys
    assert not [g for g in result.gaps if g.area == "data"], result.gaps  # no Iceberg-param gap
    assert not [c for c in result.causes if c.kind == "incomplete" and "data" in c.summary]
    loose = run_diagnosis(outputs_world, "regression", tolerance=1.0)
    q = loose.predictions
    assert q.disagreements == 0 and q.tolerance == 1.0
    assert q.outputs[0].max_abs_diff == p.outputs[0].max_abs_diff  # still measured


def test_lost_model_files_are_a_gap_with_the_loaders_reason_never_a_cause(outputs_world) -> None:
    result = run_diagnosis(outputs_world, "missing")
    assert result.predictions is None and "MLmodel" in (result.probe_error or "")
    loader = [g for g in result.gaps if g.message.startswith("the model cannot be loaded")]
    assert [g.side for g in loader] == ["right"] and "MLmodel" in loader[0].message
    # what only the left side recorded (its schema, its size) is not a difference in the causes
    assert [c.kind for c in result.causes] == ["incomplete"], result.causes
    assert not [c for c in result.causes if "None" in c.summary]


def test_the_cli_reports_outputs_and_takes_a_tolerance(outputs_world) -> None:
    pair = outputs_world.cases["frame"]
    env = {**os.environ, "MLOPS_CONSOLE_HOME": str(outputs_world.home)}
    proc = subprocess.run(
        [
            sys.executable, "-m", "console", "--tracking-uri", outputs_world.tracking_uri,
            "diagnose", pair.model, pair.left, pair.right, "--no-lineage", "--json",
            "--rows", str(outputs_world.eval_csv), "--tolerance", "0.5",
        ],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    predictions = doc["predictions"]
    assert predictions["tolerance"] == 0.5 and predictions["disagreements"] == 0
    assert [o["name"] for o in predictions["outputs"]] == ["label", "score"]
    assert predictions["outputs"][1]["max_abs_diff"] > 0
    bad = subprocess.run(
        [sys.executable, "-m", "console", "diagnose", "m", "1", "2", "--tolerance", "-1"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "not a tolerance" in bad.stderr
    assert "Traceback" not in bad.stderr

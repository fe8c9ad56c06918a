"""The probe and the causes on someone else's models (``foreign.py``): equal metrics, different
predictions, no row builder. The disagreement is found from the logged evaluation dataset and from
synthetic rows; the top cause is the one thing the pair differs in; an identical pair gives no
cause and no disagreement on enough rows; rows given with ``--rows`` are scored and identified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands.probe_result import MIN_CONCLUSIVE_ROWS
from commands.probe_synthetic import DEFAULT_ROWS
from tests.provenance.conftest import diagnose_pair
from tests.provenance.foreign import Foreign

ROOT = Path(__file__).resolve().parents[2]


def run_diagnosis(foreign: Foreign, case: str, **options):
    return diagnose_pair(foreign.home, foreign.tracking_uri, foreign.cases[case], **options)


def by_origin(predictions) -> tuple[object, object]:
    dataset = next(s for s in predictions.sources if not s.synthetic)
    synthetic = next(s for s in predictions.sources if s.synthetic)
    return dataset, synthetic


@pytest.mark.parametrize(
    ("case", "kind", "key"),
    [("data", "data", "dataset.training.train"), ("code", "code", None), ("seed", "params", None)],
)
def test_each_pair_disagrees_on_dataset_and_synthetic_rows(foreign, case, kind, key) -> None:
    result = run_diagnosis(foreign, case, all_sources=True)
    assert result.probe_error is None
    assert result.metrics.equal
    p = result.predictions
    assert p is not None and p.disagreements > 0
    dataset, synthetic = by_origin(p)
    assert dataset.rows == 600 and dataset.disagreements > 0
    assert "eval" in dataset.origin
    assert synthetic.rows == DEFAULT_ROWS and synthetic.disagreements > 0
    assert p.synthetic  # synthetic rows are among the scored ones, and said so
    top = result.causes[0]
    assert top.kind == kind, result.causes
    if key:
        assert key in top.keys
    if case == "seed":
        assert top.keys == ["random_state"]
        assert "random_state 1 vs 2" in top.summary
    # the class-by-class table adds up, and the examples carry the file's identifying column
    assert sum(c.rows for c in p.confusion) == p.rows
    assert sum(c.rows for c in p.confusion if c.left != c.right) == p.disagreements
    assert p.examples and "id" in p.examples[0].key
    assert set(p.examples[0].features) == {"x1", "x2", "n", "color"}


def test_the_first_readable_source_wins(foreign) -> None:
    """A run artifact is read and no synthetic rows are added when it yields rows."""
    p = run_diagnosis(foreign, "seed").predictions
    assert p is not None
    assert [s.synthetic for s in p.sources] == [False]
    assert "run artifact holdout.csv" in p.source and "600 rows" in p.source
    assert not p.synthetic and p.disagreements > 0


def test_without_any_dataset_the_rows_are_synthetic(foreign) -> None:
    result = run_diagnosis(foreign, "bare")
    p = result.predictions
    assert p is not None and p.synthetic
    assert p.rows == DEFAULT_ROWS and p.disagreements > 0
    assert "synthetic" in p.verdict and "generated from the signature" in p.source
    assert "synthetic" in p.examples[0].key
    # int columns stay ints and categorical columns keep the observed values
    assert isinstance(p.examples[0].features["n"], int)
    assert p.examples[0].features["color"] in {"red", "green", "blue"}
    assert result.causes[0].kind == "params"


def test_identical_pair_has_no_cause_and_no_disagreement(foreign) -> None:
    result = run_diagnosis(foreign, "identical", all_sources=True)
    p = result.predictions
    assert p is not None
    assert p.rows >= MIN_CONCLUSIVE_ROWS and p.disagreements == 0
    assert p.conclusive and p.agree
    assert "below" in p.verdict
    assert result.differences == []
    assert result.causes == []


def cli(foreign: Foreign, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "console", *args, "--home", str(foreign.home),
         "--tracking-uri", foreign.tracking_uri],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_rows_file_in_the_cli(foreign, tmp_path) -> None:
    import pandas as pd

    rows = pd.read_csv(foreign.eval_csv).head(40)
    path = tmp_path / "mine.jsonl"
    rows.to_json(path, orient="records", lines=True)
    pair = foreign.cases["data"]
    out = cli(foreign, "diagnose", pair.model, pair.left, pair.right, "--rows", str(path),
              "--json", "--no-lineage")  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    p = doc["predictions"]
    assert {"rows", "disagreements", "rate", "source", "synthetic", "confusion", "examples"} <= set(
        p
    )
    assert p["rows"] == 40 and "mine.jsonl" in p["source"] and p["synthetic"] is False
    if p["disagreements"]:
        assert p["examples"][0]["key"]["id"].startswith("row-7-")
    text = cli(foreign, "diagnose", pair.model, pair.left, pair.right, "--rows", str(path),
               "--no-lineage")  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "mine.jsonl" in text.stdout
    assert max(len(line) for line in text.stdout.splitlines()) <= 80


def test_bad_rows_file_is_one_line(foreign, tmp_path) -> None:
    pair = foreign.cases["data"]
    out = cli(foreign, "diagnose", pair.model, pair.left, pair.right, "--rows",
              str(tmp_path / "absent.csv"))  # fmt: skip
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "no such file" in out.stderr

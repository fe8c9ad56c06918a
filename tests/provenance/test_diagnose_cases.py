"""Diagnose each one-difference pair of the test world without the probe: the differences by kind,
the metrics verdict and the top cause; identical provenance gives no cause; a side without
provenance gives gaps and no false certainty."""

from __future__ import annotations

import pytest

from tests.provenance.conftest import diagnose_pair
from tests.provenance.world import TABLE, World


def run_diagnosis(world: World, case: str, *, probe: bool = False):
    return diagnose_pair(world.home, world.tracking_uri, world.cases[case], probe=probe)


def kinds(result) -> set[str]:
    """Kinds of difference besides the artifact (a model trained differently is another file)."""
    return {d.kind for d in result.differences} - {"artifact"}


def test_only_the_data_snapshot_differs(world: World) -> None:
    result = run_diagnosis(world, "snapshot")
    assert kinds(result) == {"data"}
    keys = {d.key for d in result.differences}
    assert "data.iceberg.snapshot_id" in keys
    top = result.causes[0]
    assert top.kind == "data"
    assert f"different snapshots of {TABLE}" in top.summary
    # the chain between the snapshots: pyiceberg's overwrite is a delete and an append
    assert "commit(s) between them" in top.summary
    assert result.snapshot_change is not None and result.snapshot_change.related
    assert [c.kind for c in result.causes if c.kind not in ("artifact",)] == ["data"]
    assert not result.gaps


def test_only_the_commit_differs(world: World) -> None:
    result = run_diagnosis(world, "commit")
    assert kinds(result) == {"code"}
    top = result.causes[0]
    assert top.kind == "code"
    c1, c2 = world.commits
    assert c1[:12] in top.summary and c2[:12] in top.summary
    assert "1 commit(s), 1 file(s) changed (+2 −1)" in top.summary
    assert result.commit_range is not None and result.commit_range.related
    assert result.metrics.equal


def test_only_the_seed_differs(world: World) -> None:
    result = run_diagnosis(world, "seed")
    diffs = [(d.kind, d.key, d.left, d.right) for d in result.differences if d.kind != "artifact"]
    assert diffs == [("params", "seed", "1", "2")]
    assert result.causes[0].kind == "params"
    assert result.causes[0].keys == ["seed"]
    assert "seed 1 vs 2" in result.causes[0].summary


def test_only_a_library_version_differs(world: World) -> None:
    result = run_diagnosis(world, "library")
    assert kinds(result) == {"environment"}
    [diff] = [d for d in result.differences if d.kind != "artifact"]
    assert (diff.key, diff.left, diff.right) == ("requirements:scikit-learn", "==1.9.1", "==1.5.2")
    assert result.causes[0].kind == "environment"
    assert "scikit-learn ==1.9.1 vs ==1.5.2" in result.causes[0].summary
    assert result.metrics.equal


def test_only_the_input_schema_differs(world: World) -> None:
    result = run_diagnosis(world, "schema")
    assert kinds(result) == {"signature"}
    keys = {d.key: (d.left, d.right) for d in result.differences}
    assert keys["signature.input.x1"] == ("double", "long")
    assert result.causes[0].kind == "signature"
    assert "input schema differs" in result.causes[0].summary


def test_identical_provenance_gives_no_cause(world: World) -> None:
    result = run_diagnosis(world, "identical")
    assert result.differences == []
    assert result.causes == []
    assert result.metrics.equal
    assert result.gaps == []


def test_missing_provenance_on_one_side_reports_gaps_not_causes(world: World) -> None:
    result = run_diagnosis(world, "missing")
    areas = {(g.side, g.area) for g in result.gaps}
    assert {("left", "data"), ("left", "code"), ("left", "params")} <= areas
    assert not [g for g in result.gaps if g.side == "right"]
    assert result.causes[0].kind == "incomplete"
    assert "left data" in result.causes[0].summary
    # the snapshot recorded only on the right is not claimed as the cause
    assert not [c for c in result.causes if c.kind in ("data", "code", "seed")]


def test_json_document_has_exactly_the_design_keys(world: World) -> None:
    doc = run_diagnosis(world, "snapshot").model_dump(mode="json")
    assert list(doc) == [
        "model", "left", "right", "metrics", "differences", "predictions", "causes", "gaps",
    ]  # fmt: skip
    assert doc["predictions"] is None
    assert "equal" in doc["metrics"]
    for diff in doc["differences"]:
        assert set(diff) == {"kind", "key", "left", "right"}
        assert diff["kind"] in {"data", "code", "params", "environment", "signature", "artifact"}
    for cause in doc["causes"]:
        assert {"kind", "summary"} <= set(cause)


@pytest.mark.slow
def test_probe_on_identical_versions_finds_no_disagreement(world: World) -> None:
    """The negative control with the probe, no row builder: the training input logged as a dataset
    named like the pinned table is read from Iceberg at the snapshot; 60 agreeing rows are too few
    to call agreement, and no cause is invented."""
    result = run_diagnosis(world, "identical", probe=True)
    assert result.probe_error is None
    p = result.predictions
    assert p is not None
    assert p.rows == 60 and p.disagreements == 0
    assert f"Iceberg {TABLE}@{world.snapshots[1]}" in p.source
    assert p.verdict == "0 of 60 rows: too few to tell" and not p.conclusive and not p.agree
    assert result.causes == []

"""A value recorded on one side only is a gap, never a cause
(docs/guide/provenance-and-diagnosis.md): pure tests of ``one_sided_gaps``/``rank_causes`` and of
the loader's reason replacing what the server said about unreadable model files."""

from __future__ import annotations

from commands.diagnose import loader_gap
from commands.diagnose_causes import one_sided_gaps, rank_causes
from console.diagnosis_model import Difference, SideGap


def d(kind: str, key: str, left: str | None, right: str | None) -> Difference:
    return Difference(kind=kind, key=key, left=left, right=right)  # type: ignore[arg-type]


def test_a_schema_and_a_size_only_one_side_read_are_gaps_not_causes() -> None:
    """The issue's case: the right model's files could not be read."""
    diffs = [
        d("signature", "signature.input.age", "long", None),
        d("artifact", "model_size_bytes", "28797", None),
    ]
    gaps = [SideGap(side="right", area="artifact", message="model files unreadable: HTTP 500")]
    causes = rank_causes(diffs, gaps=gaps, compared=diffs)
    assert [c.kind for c in causes] == ["incomplete"], causes
    assert one_sided_gaps(diffs, diffs, gaps) == []  # the files' gap already says it


def test_a_param_only_one_run_logged_is_a_gap_with_the_other_value() -> None:
    diffs = [d("params", "max_depth", "5", None)]
    extra = one_sided_gaps(diffs, diffs, [])
    assert [(g.side, g.area) for g in extra] == [("right", "params")]
    assert "max_depth not recorded (the other version: 5)" in extra[0].message
    assert not [c for c in rank_causes(diffs, gaps=extra, compared=diffs) if c.kind == "params"]


def test_a_member_missing_from_a_list_both_sides_recorded_is_a_difference() -> None:
    compared = [
        d("environment", "requirements:numpy", "==2.0", "==2.0"),
        d("environment", "requirements:xgboost", "==2.1", None),
        d("signature", "signature.input.x", "double", "double"),
        d("signature", "signature.input.age", "long", None),
    ]
    diffs = [c for c in compared if c.left != c.right]
    assert one_sided_gaps(diffs, compared, []) == []
    kinds = [c.kind for c in rank_causes(diffs, compared=compared)]
    assert "environment" in kinds and "signature" in kinds


def test_a_list_the_other_side_never_recorded_is_a_gap() -> None:
    diffs = [d("environment", "requirements:xgboost", "==2.1", None)]
    assert [g.side for g in one_sided_gaps(diffs, diffs, [])] == ["right"]


def test_the_loaders_reason_replaces_the_servers_text() -> None:
    gaps = [
        SideGap(side="right", area="artifact", message="model files unreadable: HTTP 500 sqlite"),
        SideGap(side="left", area="artifact", message="model files unreadable: HTTP 500 sqlite"),
        SideGap(side="right", area="code", message="tag not logged"),
    ]
    out = loader_gap(gaps, "right", 'MlflowException: Could not find an "MLmodel" file')
    assert [(g.side, g.message[:22]) for g in out] == [
        ("left", "model files unreadable"),
        ("right", "tag not logged"),
        ("right", "the model cannot be lo"),
    ]

"""What a model returns, compared as what it is (``commands.probe_outputs``): labels exactly,
numbers within a tolerance, N×K arrays as K outputs per row, frames and dicts column by column,
a row disagreeing when any of its outputs does. Pure: the answers are the shapes ``pyfunc.predict``
gives for each flavour (checked against real models in ``test_probe_output_kinds.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commands.probe_outputs import OutputShapeError, compare, concat, outputs, summary

ROWS = 4


def test_labels_are_one_output_compared_exactly() -> None:
    left = outputs(np.asarray(["a", "b", "c", "a"]), ROWS)
    right = outputs(pd.Series(["a", "b", "a", "a"]), ROWS)
    result = compare(left, right)
    assert list(left) == ["prediction"]
    assert result.differing_rows() == [2]
    assert [c.as_json() for c in result.columns] == [
        {"name": "prediction", "kind": "label", "rows_differing": 1, "share": 0.25}
    ]
    assert result.answer("left", 2) == "c" and result.answer("right", 2) == "a"
    assert summary(result) == ""  # one label output: the verdict and the table say it all


def test_integer_classes_are_labels_not_measured() -> None:
    result = compare(outputs(np.asarray([0, 1, 2, 1]), ROWS), outputs([0, 1, 1, 1], ROWS))
    assert result.columns[0].kind == "label" and result.differing_rows() == [2]
    assert result.confusion()[0] == {"left": "2", "right": "1", "rows": 1}


def test_probabilities_are_k_outputs_per_row_not_k_rows() -> None:
    """A predict_proba model: N×3. The issue's run counted 12,000 of 4,000 rows."""
    a = np.asarray([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0], [0.3, 0.3, 0.4], [1.0, 0.0, 0.0]])
    b = a.copy()
    b[1] = [0.4, 0.6, 0.0]  # two of the row's outputs move
    b[3, 2] = 1e-9  # below the tolerance: the same answer
    left, right = outputs(a, ROWS), outputs(b, ROWS)
    assert list(left) == ["0", "1", "2"]
    result = compare(left, right)
    assert result.rows == ROWS and result.differing_rows() == [1]  # rows, not cells
    by_name = {c.name: c for c in result.columns}
    assert by_name["0"].kind == "numeric" and by_name["0"].rows_differing == 1
    assert by_name["0"].max_abs_diff == pytest.approx(0.1)
    assert by_name["2"].rows_differing == 0 and by_name["2"].max_abs_diff == pytest.approx(1e-9)
    assert result.differing_outputs(1) == ["0", "1"]
    assert result.answer("left", 1, ["0", "1"]) == "0=0.5, 1=0.5"
    assert result.confusion() == []  # no labels: the per-output summary instead
    assert summary(result) == "differs: 0, 1 (largest difference 0.1); the same: 2"


def test_the_tolerance_is_the_operators() -> None:
    left = outputs(np.asarray([1.0, 2.0, 3.0, 4.0]), ROWS)
    right = outputs(np.asarray([1.001, 2.0, 3.0, 4.002]), ROWS)
    assert compare(left, right).differing_rows() == [0, 3]
    assert compare(left, right, tolerance=0.01).differing_rows() == []
    measured = compare(left, right, tolerance=0.01).columns[0]
    assert measured.max_abs_diff == pytest.approx(0.002) and measured.share == 0


def test_a_frame_is_compared_column_by_column() -> None:
    """The temperature case: every score differs, no label; the probe said 0 disagreements."""
    left = pd.DataFrame({"label": ["up", "down", "up", "up"], "score": [0.9, 0.2, 0.6, 0.7]})
    right = left.assign(score=[0.7, 0.4, 0.55, 0.6])
    result = compare(outputs(left, ROWS), outputs(right, ROWS))
    assert result.differing_rows() == [0, 1, 2, 3]
    kinds = {c.name: (c.kind, c.rows_differing) for c in result.columns}
    assert kinds == {"label": ("label", 0), "score": ("numeric", 4)}
    assert result.differing_outputs(0) == ["score"]
    assert result.answer("left", 0, ["score"]) == "score=0.9"
    assert summary(result) == "differs: score (largest difference 0.2); the same: label"
    assert result.confusion()[0] == {"left": "up", "right": "up", "rows": 3}


def test_dicts_lists_of_dicts_and_list_cells() -> None:
    as_dict = {"kind": np.asarray(["big", "small", "big", "big"]), "size": np.arange(4.0)}
    assert list(outputs(as_dict, ROWS)) == ["kind", "size"]
    records = [{"kind": "big", "size": 1.0}] * ROWS
    assert list(outputs(records, ROWS)) == ["kind", "size"]
    cells = pd.DataFrame({"proba": [[0.1, 0.9]] * ROWS, "label": ["a"] * ROWS})
    assert list(outputs(cells, ROWS)) == ["proba[0]", "proba[1]", "label"]
    nested = {"scores": np.ones((ROWS, 2))}
    assert list(outputs(nested, ROWS)) == ["scores[0]", "scores[1]"]


def test_an_output_one_model_lacks_differs_on_every_row() -> None:
    left = outputs(pd.DataFrame({"label": list("aabb"), "score": [0.1] * 4}), ROWS)
    right = outputs(pd.DataFrame({"label": list("aabb")}), ROWS)
    result = compare(left, right)
    assert result.differing_rows() == [0, 1, 2, 3]
    assert {c.name: c.kind for c in result.columns} == {"label": "label", "score": "only left"}
    assert summary(result) == "score returned by the left model only; the same: label"


def test_nan_equals_nan_and_not_a_number() -> None:
    left = outputs(np.asarray([np.nan, 1.0, np.nan, 2.0]), ROWS)
    right = outputs(np.asarray([np.nan, 1.0, 3.0, 2.0]), ROWS)
    assert compare(left, right).differing_rows() == [2]


def test_chunks_join_and_wrong_shapes_are_one_clear_error() -> None:
    parts = [outputs(np.asarray([1.0, 2.0]), 2), outputs(np.asarray([3.0, 4.0]), 2)]
    assert list(concat(parts)["prediction"]) == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(OutputShapeError, match="3 values for 4 rows"):
        outputs(np.asarray([1, 2, 3]), ROWS)
    with pytest.raises(OutputShapeError, match="one value for 4 rows"):
        outputs(np.float64(1.0), ROWS)

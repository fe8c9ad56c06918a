"""Pure parts of the probe and of reproduce, without a server: synthetic rows (deterministic,
within and around the examples' ranges, categorical values kept, one-column sweeps), the verdict
that never calls too few rows agreement, the class-by-class table, and reproduce's environment
differences and what the record cannot pin."""

from __future__ import annotations

import pandas as pd

from commands.probe_result import MIN_CONCLUSIVE_ROWS, verdict
from commands.probe_synthetic import MARGIN, Column, synthetic_rows
from commands.reproduce import ALWAYS_UNPINNED, cannot_pin, environment_differences
from console.model import PythonEnv
from console.provenance.model import EnvironmentProvenance, ProvenanceRecord, RunFacts

COLUMNS = [Column("x", "double"), Column("n", "long"), Column("color", "string")]
EXAMPLES = pd.DataFrame({"x": [0.0, 10.0, 5.0], "n": [1, 3, 2], "color": ["red", "blue", "red"]})


def test_synthetic_rows_are_deterministic_and_stay_near_the_examples() -> None:
    a = synthetic_rows(COLUMNS, EXAMPLES, n=1000)
    b = synthetic_rows(COLUMNS, EXAMPLES, n=1000)
    assert a.synthetic and len(a.rows) == 1000
    pd.testing.assert_frame_equal(a.rows, b.rows)
    assert list(a.rows.columns) == ["x", "n", "color"]
    span = 10.0 * MARGIN
    assert a.rows.x.min() >= -span and a.rows.x.max() <= 10 + span
    assert a.rows.x.min() < 0 and a.rows.x.max() > 10  # a little around the observed range
    assert str(a.rows.n.dtype) == "int64"
    assert set(a.rows.color) == {"red", "blue"}
    other = synthetic_rows(COLUMNS, EXAMPLES, n=1000, seed=1)
    assert not other.rows.equals(a.rows)


def test_sweeps_move_one_column_from_an_example_row() -> None:
    rows = synthetic_rows(COLUMNS, EXAMPLES, n=400)
    swept = [i for i, note in enumerate(rows.notes) if note.startswith("example 1, x varied")]
    assert len(swept) >= 2
    frame = rows.rows.iloc[swept]
    assert (frame.n == 3).all() and (frame.color == "blue").all()
    assert frame.x.nunique() == len(swept)


def test_the_verdict_never_calls_a_few_agreeing_rows_agreement() -> None:
    assert verdict(5, 0, "input-example") == ("0 of 5 input-example rows: too few to tell", False)
    text, conclusive = verdict(MIN_CONCLUSIVE_ROWS, 0, "")
    assert conclusive and "below 1.00%" in text
    text, conclusive = verdict(4000, 0, "synthetic")
    assert conclusive and "synthetic rows" in text and "not the real distribution" in text
    assert verdict(10, 2, "") == ("2 of 10 rows predicted differently (20.0%)", True)
    assert verdict(0, 0, "")[1] is False


def test_confusion_counts_every_pair_disagreements_first() -> None:
    import numpy as np

    from commands.probe_outputs import compare

    cells = compare(
        {"prediction": np.asarray(["a", "a", "b", "b", "b"])},
        {"prediction": np.asarray(["a", "b", "b", "a", "a"])},
    ).confusion()
    assert cells[0] == {"left": "b", "right": "a", "rows": 2}
    assert {(c["left"], c["right"]): c["rows"] for c in cells} == {
        ("b", "a"): 2, ("a", "b"): 1, ("a", "a"): 1, ("b", "b"): 1,
    }  # fmt: skip


def test_environment_differences_and_what_cannot_be_pinned() -> None:
    record = ProvenanceRecord(
        model="m",
        version="1",
        run=RunFacts(run_id="r", params={"alpha": "1"}),
        environment=EnvironmentProvenance(
            requirements=["scikit-learn==1.5.2", "numpy==2.4.6", "pandas"],
            python_env=PythonEnv(python="3.10.4"),
        ),
    )
    here = {"python": "3.11.7", "packages": {"scikit-learn": "1.5.2", "numpy": "2.3.0"}}
    assert environment_differences(record, here) == [
        "python 3.10.4 recorded, 3.11.7 here",
        "numpy 2.4.6 recorded, 2.3.0 here",
    ]
    unpinned = cannot_pin(record, "command")
    assert unpinned[0] == ALWAYS_UNPINNED
    assert any("random seed" in item for item in unpinned)
    assert any("no Iceberg snapshot pinned" in item for item in unpinned)

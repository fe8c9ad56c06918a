"""The monitoring worker's column-wise pieces against what they replaced: realized-performance
metrics against scikit-learn's own functions, and the served rows (each distinct ``inputs`` text
parsed once) against parsing every row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import metrics

from commands.monitor_worker import metric_function, served_rows

SKLEARN = {
    "f1_macro": lambda t, p: metrics.f1_score(t, p, average="macro", zero_division=0),
    "f1_weighted": lambda t, p: metrics.f1_score(t, p, average="weighted", zero_division=0),
    "precision_macro": lambda t, p: metrics.precision_score(t, p, average="macro", zero_division=0),
    "recall_macro": lambda t, p: metrics.recall_score(t, p, average="macro", zero_division=0),
    "accuracy": metrics.accuracy_score,
}


def _cases():
    rng = np.random.default_rng(22)
    buckets = np.array(["low", "medium", "high"])
    for size in (1, 2, 5, 24, 24, 24, 300):
        for _ in range(20):
            target = rng.choice(buckets, size)
            # predictions: some right, some wrong, some with a label the targets never have
            predicted = np.where(rng.random(size) < 0.6, target, rng.choice(buckets, size))
            yield target, predicted
            yield target, np.where(rng.random(size) < 0.2, "other", predicted)
    yield np.array(["low"] * 5), np.array(["low"] * 5)  # one class, all right
    yield np.array(["low"] * 5), np.array(["high"] * 5)  # one class each, all wrong
    yield np.array(["b", "a", "c"]), np.array(["c", "b", "a"])  # no hit at all


@pytest.mark.parametrize("name", list(SKLEARN))
def test_metrics_are_scikit_learns(name: str) -> None:
    label, function = metric_function(f"holdout_{name}")
    assert label == name
    for target, predicted in _cases():
        expected = SKLEARN[name](target, predicted)
        got = function(pd.Series(target), pd.Series(predicted))
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-15), (name, target, predicted)


def test_an_unknown_metric_is_accuracy() -> None:
    label, function = metric_function("holdout_log_loss")
    assert label == "accuracy"
    assert function(np.array(["a", "b"]), np.array(["a", "a"])) == 0.5


def _every_row(texts: list[str | None]) -> pd.DataFrame:
    """What monitoring did before: every row's text parsed, ``{}`` for a broken one."""
    parsed = []
    for text in texts:
        try:
            value = json.loads(str(text))
        except ValueError:
            value = {}
        parsed.append(value if isinstance(value, dict) else {})
    return pd.DataFrame.from_records(parsed, index=pd.RangeIndex(len(texts)))


def test_served_rows_are_every_rows_features() -> None:
    a = json.dumps({"lag_1": 1.5, "lag_2": 2.0})
    b = json.dumps({"lag_1": 3.25, "lag_2": 4.0})
    c = json.dumps({"lag_2": 7.0, "extra": "x"})  # a missing feature, another column
    texts = [a, b, a, "{broken", c, b, None, "[1, 2]", a, "{broken"]
    # two chunks, as a scan over several data files gives
    column = pa.chunked_array([pa.array(texts[:4]), pa.array(texts[4:])], type=pa.string())
    served = served_rows(column)
    assert len(served) == len(texts)
    pd.testing.assert_frame_equal(served.rows(), _every_row(texts))
    # distinct texts in the order the log first shows them, each with its first row
    assert served.first.tolist() == [0, 1, 3, 4, 6, 7]
    assert served.distinct["lag_1"].tolist()[:2] == [1.5, 3.25]
    assert served.codes.tolist() == [0, 1, 0, 2, 3, 1, 4, 5, 0, 2]


def test_served_rows_of_clean_text_keep_their_dtypes() -> None:
    texts = [json.dumps({"n": i % 3, "f": (i % 6) / 4, "s": f"r{i % 2}"}) for i in range(50)]
    served = served_rows(pa.chunked_array([pa.array(texts)]))
    expected = _every_row(texts)
    pd.testing.assert_frame_equal(served.rows(), expected)
    assert list(served.distinct.dtypes) == list(expected.dtypes)
    assert len(served.distinct) == 6

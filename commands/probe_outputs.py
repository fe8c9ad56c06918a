"""What a model returns, as named output columns, and how two models' outputs compare row by row.

``outputs(answer, rows)`` turns whatever ``pyfunc.predict`` answered — a list, a 1-D or N×K
array, a Series, a DataFrame (cells may themselves be lists: probabilities per row), a dict of
columns, a list of dicts — into ``{name: 1-D array of len rows}``. An N×K array is K outputs
(``0`` … ``K-1``); a frame's columns keep their names; a dict's keys name its outputs.

``compare(left, right, tolerance)`` says, per row, whether any output differs, and per output
column how: labels (text, booleans, integers) exactly, with a left → right table; numbers
(floats: probabilities, scores, regression values) within an absolute ``tolerance``, with the
largest and mean absolute difference and the share of rows beyond it. An output only one model
returns differs on every row. Pure numpy/pandas: no mlflow here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_TOLERANCE = 1e-6  # absolute; below it two floats are the same answer (rounding noise)
SINGLE = "prediction"  # the name of a model's only output
MAX_LABELS_SHOWN = 50


class OutputShapeError(ValueError):
    """The model answered something that is not one answer per row."""


def _column(values: Any, rows: int, name: str) -> dict[str, np.ndarray]:
    """One output (or, for cells holding sequences, one per position) of ``rows`` values."""
    array = np.asarray(values, dtype=object) if _ragged(values) else np.asarray(values)
    if array.ndim == 0:
        raise OutputShapeError(f"output {name} is one value for {rows:,} rows")
    if len(array) != rows:
        raise OutputShapeError(f"output {name} has {len(array):,} values for {rows:,} rows")
    if array.ndim == 1 and array.dtype == object and rows and _sequence(array[0]):
        try:
            array = np.stack([np.asarray(v) for v in array])
        except ValueError:
            return {name: np.asarray([str(v) for v in array], dtype=object)}
    if array.ndim == 1:
        return {name: array}
    flat = array.reshape(rows, -1)
    if flat.shape[1] == 1:
        return {name: flat[:, 0]}
    prefix = "" if name == SINGLE else f"{name}"
    return {(f"{prefix}[{i}]" if prefix else str(i)): flat[:, i] for i in range(flat.shape[1])}


def _sequence(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _ragged(values: Any) -> bool:
    if not isinstance(values, list | tuple) or not values:
        return False
    lengths = {len(v) if _sequence(v) else -1 for v in values}
    return len(lengths) > 1


def outputs(answer: Any, rows: int) -> dict[str, np.ndarray]:
    """``{output name: values}``, each of length ``rows``; ``OutputShapeError`` otherwise."""
    import pandas as pd

    if isinstance(answer, pd.DataFrame):
        out: dict[str, np.ndarray] = {}
        for column in answer.columns:
            out.update(_column(answer[column].to_numpy(), rows, str(column)))
        return out
    if isinstance(answer, pd.Series):
        return _column(answer.to_numpy(), rows, str(answer.name) if answer.name else SINGLE)
    if isinstance(answer, dict):
        out = {}
        for key, values in answer.items():
            out.update(_column(values, rows, str(key)))
        return out
    if isinstance(answer, list) and answer and all(isinstance(v, dict) for v in answer):
        return outputs(pd.DataFrame(answer), rows)
    return _column(answer, rows, SINGLE)


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The outputs of consecutive chunks of rows as one (an output missing from a chunk is
    absent there: its rows hold None)."""
    names = list(dict.fromkeys(name for part in parts for name in part))
    joined = {}
    for name in names:
        pieces = []
        for part in parts:
            size = len(next(iter(part.values()))) if part else 0
            pieces.append(part.get(name, np.full(size, None, dtype=object)))
        joined[name] = np.concatenate(pieces) if pieces else np.asarray([])
    return joined


def row_answers(answer: Any, rows: int) -> list[str]:
    """Each row's whole answer as one string (every output; numbers to six significant
    digits), for checks that ask "the same answer?" of one model (invariance)."""
    columns = outputs(answer, rows)
    if len(columns) == 1:
        return [text(v) for v in next(iter(columns.values()))]
    return [
        ", ".join(f"{name}={text(values[i])}" for name, values in columns.items())
        for i in range(rows)
    ]


def is_numeric(values: np.ndarray) -> bool:
    """Floats are measured; integers, booleans and text are labels (compared exactly)."""
    return values.dtype.kind == "f"


def text(value: Any) -> str:
    """One answer as the reports show it."""
    if isinstance(value, float | np.floating):
        return "NaN" if value != value else f"{float(value):.6g}"
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


@dataclass
class OutputDiff:
    """How one output column differs between the two models."""

    name: str
    kind: str  # "label" or "numeric"; "only left" / "only right" when one model lacks it
    rows_differing: int
    share: float
    max_abs_diff: float | None = None
    mean_abs_diff: float | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "rows_differing": self.rows_differing,
            "share": round(self.share, 6),
        }
        if self.kind == "numeric":
            out["max_abs_diff"] = self.max_abs_diff
            out["mean_abs_diff"] = self.mean_abs_diff
        return out


@dataclass
class Comparison:
    rows: int
    differing: np.ndarray  # bool per row: any output differs
    columns: list[OutputDiff] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the label outputs (for the table)
    left: dict[str, np.ndarray] = field(default_factory=dict)
    right: dict[str, np.ndarray] = field(default_factory=dict)
    per_column: dict[str, np.ndarray] = field(default_factory=dict)  # bool per row, per output

    def differing_rows(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.differing)]

    def answer(self, side: str, row: int, names: list[str] | None = None) -> str:
        """The row's answer on one side: the value of a single output, else ``name=value`` of
        the outputs named (those that differ on that row, for an example)."""
        values = self.left if side == "left" else self.right
        if len(values) == 1 and names is None:
            return text(next(iter(values.values()))[row])
        shown = names if names is not None else list(values)
        return ", ".join(f"{n}={text(values[n][row]) if n in values else '(none)'}" for n in shown)

    def differing_outputs(self, row: int) -> list[str]:
        return [name for name, mask in self.per_column.items() if mask[row]]

    def confusion(self, limit: int = MAX_LABELS_SHOWN) -> list[dict[str, Any]]:
        """Every (left label, right label) pair with its row count, disagreements first; labels
        of several outputs are joined with `` | ``."""
        if not self.labels:
            return []

        def label(values: dict[str, np.ndarray], i: int) -> str:
            return " | ".join(text(values[n][i]) if n in values else "(none)" for n in self.labels)

        counts = Counter((label(self.left, i), label(self.right, i)) for i in range(self.rows))
        cells = sorted(counts.items(), key=lambda kv: (kv[0][0] == kv[0][1], -kv[1], kv[0]))
        return [{"left": a, "right": b, "rows": n} for (a, b), n in cells[:limit]]


def _numbers(values: np.ndarray) -> np.ndarray:
    try:
        return values.astype(float)
    except (TypeError, ValueError):
        return np.asarray([_float(v) for v in values], dtype=float)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _labels(values: np.ndarray) -> np.ndarray:
    return np.asarray([text(v) for v in values], dtype=object)


def compare(
    left: dict[str, np.ndarray], right: dict[str, np.ndarray], tolerance: float = DEFAULT_TOLERANCE
) -> Comparison:
    """Row by row and output by output (see the module docstring)."""
    rows = len(next(iter(left.values()))) if left else len(next(iter(right.values()), []))
    differing = np.zeros(rows, dtype=bool)
    result = Comparison(rows=rows, differing=differing, left=left, right=right)
    for name in list(dict.fromkeys([*left, *right])):
        if name not in left or name not in right:
            mask = np.ones(rows, dtype=bool)
            kind = "only left" if name in left else "only right"
            result.columns.append(OutputDiff(name, kind, rows, 1.0 if rows else 0.0))
        elif is_numeric(left[name]) or is_numeric(right[name]):
            a, b = _numbers(left[name]), _numbers(right[name])
            nan_a, nan_b = np.isnan(a), np.isnan(b)
            gap = np.abs(a - b)
            gap[nan_a | nan_b] = 0.0
            mask = (gap > tolerance) | (nan_a != nan_b)
            measured = gap[~(nan_a | nan_b)]
            result.columns.append(
                OutputDiff(
                    name,
                    "numeric",
                    int(mask.sum()),
                    float(mask.mean()) if rows else 0.0,
                    max_abs_diff=float(measured.max()) if measured.size else 0.0,
                    mean_abs_diff=float(measured.mean()) if measured.size else 0.0,
                )
            )
        else:
            mask = _labels(left[name]) != _labels(right[name])
            result.columns.append(
                OutputDiff(name, "label", int(mask.sum()), float(mask.mean()) if rows else 0.0)
            )
            result.labels.append(name)
        result.per_column[name] = mask
        differing |= mask
    return result


def summary(comparison: Comparison) -> str:
    """Which outputs differ, in one clause for the verdict (the per-output table has the sizes;
    empty for a model with one label output)."""
    columns = comparison.columns
    if len(columns) == 1 and columns[0].kind == "label":
        return ""
    differ = [c for c in columns if c.rows_differing]
    if not differ:
        return ""
    only = [c for c in differ if c.kind.startswith("only ")]
    both = [c for c in differ if c not in only]
    parts = []
    if both:
        names = ", ".join(c.name for c in both[:8]) + (" …" if len(both) > 8 else "")
        parts.append(f"differs: {names}")
        largest = [c.max_abs_diff for c in both if c.kind == "numeric" and c.max_abs_diff]
        if largest:
            parts[-1] += f" (largest difference {text(max(largest))})"
    parts += [f"{c.name} returned by the {c.kind[5:]} model only" for c in only]
    text_ = "; ".join(parts)
    same = [c.name for c in columns if not c.rows_differing]
    if same:
        text_ += f"; the same: {', '.join(same[:6])}" + (" …" if len(same) > 6 else "")
    return text_

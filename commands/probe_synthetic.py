"""Synthetic rows for the prediction probe, from a model's signature and its input examples.

Deterministic (seeded): the same signature and examples give the same rows. Most rows sample
every column independently — numeric columns within and a little around the range the examples
show, categorical ones among the values they show; the rest start from an example row and move
one column at a time along its range, so a model that reacts to one column alone is caught too.
Always labelled synthetic: they show where two models disagree, not how often real inputs do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commands.probe_sources import RowSet

DEFAULT_ROWS = 4000
SEED = 20240601
# numeric columns are sampled this far beyond the observed range, as a share of the range
MARGIN = 0.1
# share of the rows that move one column at a time from an example row
SWEEP_SHARE = 0.25
NUMERIC = {"double", "float", "long", "integer", "int", "int32", "int64", "float32", "float64"}
INTEGER = {"long", "integer", "int", "int32", "int64"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # an MLflow DataType name: double, long, string, boolean, datetime, …


def signature_columns(model) -> list[Column] | None:
    """The named columns of the model's input signature with their types, or None."""
    signature = getattr(getattr(model, "metadata", None), "signature", None)
    inputs = getattr(signature, "inputs", None)
    specs = getattr(inputs, "inputs", None)
    if not specs:
        return None
    columns = []
    for spec in specs:
        name = getattr(spec, "name", None)
        kind = getattr(getattr(spec, "type", None), "name", None)
        if not isinstance(name, str) or not isinstance(kind, str):
            return None  # tensors, arrays, objects: not generated here
        columns.append(Column(name, kind.lower()))
    return columns


def frame_columns(frame) -> list[Column]:
    """Columns and kinds of an example frame when the model has no signature."""
    out = []
    for name, dtype in frame.dtypes.items():
        text = str(dtype)
        if text.startswith("int"):
            kind = "long"
        elif text.startswith("float"):
            kind = "double"
        elif text == "bool":
            kind = "boolean"
        elif text.startswith("datetime"):
            kind = "datetime"
        else:
            kind = "string"
        out.append(Column(str(name), kind))
    return out


def _numeric_range(values) -> tuple[float, float]:
    import numpy as np

    finite = values[np.isfinite(values)] if len(values) else values
    if len(finite) == 0:
        return -1.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    span = high - low or max(abs(low), 1.0)
    return low - MARGIN * span, high + MARGIN * span


def _choices(column: Column, examples) -> list[Any]:
    if examples is not None and column.name in examples.columns:
        seen = [v for v in examples[column.name].dropna().unique().tolist()]
        if seen:
            return seen
    if column.kind == "boolean":
        return [False, True]
    return ["a", "b"]


def synthetic_rows(
    columns: Sequence[Column], examples=None, n: int = DEFAULT_ROWS, seed: int = SEED
) -> RowSet:
    """``n`` rows for ``columns``; ``examples`` (a DataFrame or None) anchors ranges and values."""
    import numpy as np
    import pandas as pd

    if not columns:
        raise LookupError("no named input columns to generate rows for")
    rng = np.random.default_rng(seed)
    n = max(1, int(n))
    sweep_n = int(n * SWEEP_SHARE) if examples is not None and len(examples) else 0
    free_n = n - sweep_n
    ranges: dict[str, tuple[float, float]] = {}
    data: dict[str, Any] = {}
    for column in columns:
        if column.kind in NUMERIC:
            observed = (
                pd.to_numeric(examples[column.name], errors="coerce").to_numpy(dtype=float)
                if examples is not None and column.name in examples.columns
                else np.array([])
            )
            ranges[column.name] = _numeric_range(observed)
            values = rng.uniform(*ranges[column.name], size=free_n)
            data[column.name] = values
        elif column.kind == "datetime" and examples is not None and column.name in examples:
            stamps = pd.to_datetime(examples[column.name]).astype("int64").to_numpy(dtype=float)
            low, high = _numeric_range(stamps)
            data[column.name] = pd.to_datetime(rng.uniform(low, high, size=free_n).astype("int64"))
        else:
            choices = _choices(column, examples)
            data[column.name] = [choices[i] for i in rng.integers(0, len(choices), size=free_n)]
    frame = pd.DataFrame(data, columns=[c.name for c in columns])
    notes = [f"random #{i}" for i in range(free_n)]
    if sweep_n:
        swept, sweep_notes = _sweeps(columns, examples, ranges, sweep_n)
        frame = pd.concat([frame, swept], ignore_index=True)
        notes += sweep_notes
    for column in columns:
        if column.kind in INTEGER:
            frame[column.name] = np.round(frame[column.name].astype(float)).astype("int64")
        elif column.kind in ("float", "float32"):
            frame[column.name] = frame[column.name].astype("float32")
        elif column.kind in NUMERIC:
            frame[column.name] = frame[column.name].astype("float64")
    what = "the signature and input examples" if examples is not None else "the signature"
    return RowSet(
        frame.reset_index(drop=True),
        f"generated from {what} (seed {seed})",
        synthetic=True,
        keys=["synthetic"],
        notes=notes,
    )


def _sweeps(columns, examples, ranges, count: int):
    """Rows that start from an example and move one numeric column along its range."""
    import numpy as np
    import pandas as pd

    numeric = [c for c in columns if c.name in ranges]
    base = examples[[c.name for c in columns if c.name in examples.columns]].reset_index(drop=True)
    if not numeric or base.empty or len(base.columns) != len(columns):
        return pd.DataFrame(columns=[c.name for c in columns]), []
    steps = max(2, -(-count // max(1, len(numeric) * len(base))))
    rows, notes = [], []
    for e in range(len(base)):
        for column in numeric:
            low, high = ranges[column.name]
            for value in np.linspace(low, high, steps):
                row = base.iloc[e].to_dict()
                row[column.name] = value
                rows.append(row)
                notes.append(f"example {e}, {column.name} varied")
                if len(rows) >= count:
                    return pd.DataFrame(rows, columns=[c.name for c in columns]), notes
    return pd.DataFrame(rows, columns=[c.name for c in columns]), notes


def synthetic_for(model, examples, n: int = DEFAULT_ROWS, seed: int = SEED) -> RowSet:
    """Synthetic rows for a loaded pyfunc model (its signature, else its example's columns)."""
    columns = signature_columns(model)
    if columns is None and examples is not None:
        columns = frame_columns(examples)
    if columns is None:
        raise LookupError("the model has no column signature and no input example")
    return synthetic_rows(columns, examples, n, seed)

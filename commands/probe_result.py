"""What the prediction probe reports: the verdict and the disagreeing rows as examples.

Pure functions over the compared outputs (``commands.probe_outputs``) and the scored rows. The
verdict never calls a handful of agreeing rows agreement: with no disagreement on fewer than
``MIN_CONCLUSIVE_ROWS`` rows it says "too few to tell".
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

# with 0 disagreements on n rows, the rate is below 3/n at 95% confidence (rule of three):
# 300 rows bound it at 1%
MIN_CONCLUSIVE_ROWS = 300
MAX_EXAMPLES = 5


def plain(value: Any) -> Any:
    """numpy scalars and timestamps as plain JSON values."""
    with contextlib.suppress(AttributeError, ValueError):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def verdict(rows: int, disagreements: int, what: str) -> tuple[str, bool]:
    """(one sentence saying what the numbers show, whether they show it conclusively)."""
    if rows == 0:
        return "no rows were scored: nothing can be told", False
    noun = f"{what} rows" if what else "rows"
    if disagreements:
        rate = disagreements / rows
        return f"{disagreements:,} of {rows:,} {noun} predicted differently ({rate:.1%})", True
    if rows < MIN_CONCLUSIVE_ROWS:
        return f"0 of {rows:,} {noun}: too few to tell", False
    bound = 3 / rows
    text = (
        f"0 of {rows:,} {noun} disagree: the disagreement rate is below {bound:.2%} "
        "at 95% confidence"
    )
    if what.startswith("synthetic"):
        text += " on these synthetic rows (not the real distribution)"
    return text, True


def examples(
    frame,
    scored_columns: Sequence[str],
    keys: Sequence[str],
    notes: Sequence[str],
    compared: Any,
    differing: Sequence[int],
) -> list[dict[str, Any]]:
    """The first disagreeing rows: their identifying columns, both answers (of the outputs that
    differ on the row, when the model returns several), the outputs named, the inputs."""
    out = []
    single = len(compared.columns) == 1
    for i in differing[:MAX_EXAMPLES]:
        row = frame.iloc[i]
        key: dict[str, Any] = {str(k): plain(row[k]) for k in keys if k in frame.columns}
        if notes and i < len(notes) and notes[i]:
            key["synthetic"] = notes[i]
        names = None if single else compared.differing_outputs(i)
        out.append(
            {
                "row": i,
                "key": key or {"row": i},
                "left": compared.answer("left", i, names),
                "right": compared.answer("right", i, names),
                "outputs": compared.differing_outputs(i),
                "features": {str(c): plain(row[c]) for c in scored_columns if c in frame.columns},
            }
        )
    return out

"""Which rows the prediction probe scores: a small registry from a model to its row builder.

A builder turns the pinned Iceberg snapshot into the model's input rows (the held-out rows, or all
feature rows), identifying columns included (the probe scores only the signature's columns and
shows the others with each disagreeing row); a model without a builder falls back to the other
sources of ``commands.probe``. Runs inside the probe's own process (pandas, pyiceberg and the
demo's feature code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Scope = Literal["holdout", "all"]


@dataclass
class RowContext:
    model: str
    table: str | None
    snapshot_id: str | None
    scope: Scope
    open_catalog: Callable[[], Any]
    params: dict[str, str] = field(default_factory=dict)


# builder: context -> (rows as a DataFrame, where they came from)
RowBuilder = Callable[[RowContext], tuple[Any, str]]


def demo_rows(ctx: RowContext) -> tuple[Any, str]:
    """next-week-commits: the demo's weekly features from the snapshot; holdout or all rows."""
    from commands.demo import features, lake
    from commands.demo.config import TABLE_NAME, DemoConfig

    if ctx.snapshot_id is None or (ctx.table or TABLE_NAME) != TABLE_NAME:
        raise LookupError(f"no snapshot of {TABLE_NAME} pinned")
    config = DemoConfig()

    def number(key: str, default: int) -> int:
        try:
            return int(ctx.params.get(key, default))
        except ValueError:
            return default

    raw = lake.read_snapshot(ctx.open_catalog(), ctx.snapshot_id)
    weekly = features.weekly_commits(raw, config.start)
    rows = features.feature_rows(
        weekly,
        number("bucket.low_max", config.low_max),
        number("bucket.medium_max", config.medium_max),
    )
    # repo and week identify a row; the probe scores only the signature's columns
    columns = ["repo", "week", *features.FEATURE_COLUMNS]
    if ctx.scope == "all":
        return rows[columns].reset_index(
            drop=True
        ), f"all feature rows of {TABLE_NAME}@{ctx.snapshot_id}"
    _, holdout = features.split_holdout(
        rows, config.total_weeks, number("holdout_weeks", config.holdout_weeks)
    )
    return holdout[columns].reset_index(
        drop=True
    ), f"held-out rows of {TABLE_NAME}@{ctx.snapshot_id}"


BUILDERS: dict[str, RowBuilder] = {"next-week-commits": demo_rows}


def register(model: str, builder: RowBuilder) -> None:
    """Teach the probe how to build rows for another model."""
    BUILDERS[model] = builder


def example_rows(models: list[Any]) -> tuple[Any, str]:
    """The input examples logged with the versions, de-duplicated, as one DataFrame."""
    import pandas as pd

    frames = []
    for model in models:
        example = getattr(model, "input_example", None)
        if example is None:
            continue
        frames.append(example if isinstance(example, pd.DataFrame) else pd.DataFrame(example))
    if not frames:
        raise LookupError("neither version has an input example, and no row builder applies")
    rows = pd.concat(frames, ignore_index=True).drop_duplicates().reset_index(drop=True)
    return rows, "the versions' input examples"

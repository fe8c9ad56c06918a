"""Feature builder of the next-week-commits model: weekly history -> lagged and rolling features.

This file is also committed to the demo's training-code git repository; the model sees only
``FEATURE_COLUMNS`` (never the repository name) and predicts the bucket of the following week.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURE_COLUMNS = (
    "lag_1",
    "lag_2",
    "lag_3",
    "lag_4",
    "mean_4",
    "std_4",
    "mean_12",
    "ratio_4_12",
)
BUCKETS = ("low", "medium", "high")
HISTORY_WEEKS = 12  # weeks of history a feature row needs


def weekly_commits(daily: pd.DataFrame, start) -> pd.DataFrame:
    """Daily rows (repo, day, commits) -> weekly totals (repo, week, commits) from ``start``."""
    week = (pd.to_datetime(daily["day"]) - pd.Timestamp(start)).dt.days // 7
    weekly = daily.assign(week=week).groupby(["repo", "week"], as_index=False)[["commits"]].sum()
    return weekly.sort_values(["repo", "week"]).reset_index(drop=True)


def bucket_of(commits: np.ndarray, low_max: int, medium_max: int) -> np.ndarray:
    """Weekly commits -> activity bucket with fixed thresholds."""
    return np.where(commits < low_max, "low", np.where(commits < medium_max, "medium", "high"))


def _window(values: np.ndarray, size: int, reduce) -> np.ndarray:
    """Trailing-window statistic, NaN until the window is full."""
    out = np.full(len(values), np.nan)
    if len(values) >= size:
        windows = np.lib.stride_tricks.sliding_window_view(values, size)
        out[size - 1 :] = reduce(windows, axis=1)
    return out


def feature_rows(weekly: pd.DataFrame, low_max: int, medium_max: int) -> pd.DataFrame:
    """One row per (repo, week) with a full history and a known next week.

    Columns: repo, week (the last week seen), the features, and target (next week's bucket).
    """
    parts = []
    for repo, group in weekly.groupby("repo", sort=True):
        c = group.set_index("week")["commits"].astype(float)
        c = c.reindex(range(int(c.index.min()), int(c.index.max()) + 1), fill_value=0.0)
        frame = pd.DataFrame({"repo": repo, "week": c.index})
        for lag in range(1, 5):
            frame[f"lag_{lag}"] = c.shift(lag - 1).to_numpy()
        # each window computed on its own (not pandas' running sums) so a row's features do not
        # depend on unrelated earlier weeks down to the last bit
        frame["mean_4"] = _window(c.to_numpy(), 4, np.mean)
        frame["std_4"] = _window(c.to_numpy(), 4, np.std)
        frame["mean_12"] = _window(c.to_numpy(), HISTORY_WEEKS, np.mean)
        frame["ratio_4_12"] = (frame["mean_4"] / (frame["mean_12"] + 1.0)).round(6)
        next_week = c.shift(-1).to_numpy()
        frame["target"] = bucket_of(next_week, low_max, medium_max)
        frame = frame[~np.isnan(next_week) & frame["mean_12"].notna().to_numpy()]
        parts.append(frame)
    rows = pd.concat(parts, ignore_index=True)
    rows[list(FEATURE_COLUMNS)] = rows[list(FEATURE_COLUMNS)].astype("float64")
    return rows


def split_holdout(rows: pd.DataFrame, total_weeks: int, holdout_weeks: int):
    """(train, holdout): the holdout predicts the last ``holdout_weeks`` weeks."""
    first_holdout_target = total_weeks - holdout_weeks
    is_holdout = rows["week"] + 1 >= first_holdout_target
    return rows[~is_holdout].reset_index(drop=True), rows[is_holdout].reset_index(drop=True)

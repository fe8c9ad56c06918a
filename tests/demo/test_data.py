"""The demo's data generator: deterministic from its seed, and shaped like real commit activity."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from commands.demo import data, features
from commands.demo.config import DemoConfig


def test_same_seed_same_data_and_other_seed_other_data() -> None:
    config = DemoConfig()
    first = data.generate_commits(config)
    again = data.generate_commits(config)
    pd.testing.assert_frame_equal(first, again)
    other = data.generate_commits(config.model_copy(update={"seed": config.seed + 1}))
    assert not first["commits"].equals(other["commits"])


def test_shape_twenty_repos_over_a_year_with_weekly_seasonality() -> None:
    config = DemoConfig()
    frame = data.generate_commits(config)
    assert frame["repo"].nunique() >= 20
    assert (frame["day"].max() - frame["day"].min()).days >= 365
    weekday = pd.to_datetime(frame["day"]).dt.weekday
    assert frame[weekday >= 5]["commits"].mean() < 0.6 * frame[weekday < 5]["commits"].mean()
    weekly = features.weekly_commits(frame, config.start)
    # trends and bursts: weekly activity of a repository moves a lot over the year
    spread = weekly.groupby("repo")["commits"].agg(lambda s: s.max() / max(s.min(), 1))
    assert spread.median() > 2


def test_table_states_hold_a_mis_counted_burst_that_the_correction_fixes() -> None:
    config = DemoConfig()
    initial, appended, corrected = data.table_states(config)
    truth = data.generate_commits(config)
    fix = data.correction_for(config)
    assert len(initial) + len(appended) == len(truth)
    assert appended["day"].min() == config.start + timedelta(weeks=config.initial_weeks)
    in_fix = (initial["repo"] == fix.repo) & initial["day"].between(fix.first_day, fix.last_day)
    true_rows = truth.set_index(["repo", "day"]).loc[corrected.set_index(["repo", "day"]).index]
    assert (
        initial[in_fix]["commits"].to_numpy() == true_rows["commits"].to_numpy() * fix.factor
    ).all()
    assert (corrected["commits"].to_numpy() == true_rows["commits"].to_numpy()).all()
    assert len(corrected) == 7


def test_features_never_see_the_repository_and_holdout_is_the_last_weeks() -> None:
    config = DemoConfig()
    weekly = features.weekly_commits(data.generate_commits(config), config.start)
    rows = features.feature_rows(weekly, config.low_max, config.medium_max)
    train, holdout = features.split_holdout(rows, config.total_weeks, config.holdout_weeks)
    assert "repo" not in features.FEATURE_COLUMNS
    assert set(holdout["target"]) == set(features.BUCKETS)
    assert train["week"].max() < holdout["week"].min()
    # a row at week w predicts week w + 1: the holdout predicts exactly the last holdout_weeks
    assert holdout["week"].min() + 1 == config.total_weeks - config.holdout_weeks
    assert holdout["week"].max() + 1 == config.total_weeks - 1
    assert len(holdout) == config.repos * config.holdout_weeks

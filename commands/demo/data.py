"""Deterministic daily commit counts per repository, and the three table states of the demo.

Seeded numpy only: weekly seasonality, a per-repository trend, bursts and Poisson noise. The
initial load holds a mis-counted burst (a double import inflating one repository's week) that the
correction snapshot fixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from commands.demo.config import DemoConfig

_PROJECTS = (
    "api-gateway", "billing", "checkout", "data-lake", "design-system", "docs", "edge-proxy",
    "feature-store", "fraud-rules", "identity", "infra-live", "ios-app", "android-app", "ledger",
    "ml-platform", "notifications", "observability", "payments", "pricing", "search",
    "recommendations", "risk-engine", "scheduler", "web-frontend", "warehouse", "workflows",
)  # fmt: skip

# Monday..Sunday activity relative to the weekly mean
_WEEKDAY = np.array([1.25, 1.3, 1.25, 1.15, 0.85, 0.12, 0.08])


@dataclass(frozen=True)
class Correction:
    """The mis-counted burst: one repository's days whose initial counts were inflated."""

    repo: str
    first_day: date
    last_day: date
    factor: int


def repo_names(config: DemoConfig) -> list[str]:
    return [f"acme/{name}" for name in _PROJECTS[: config.repos]]


@dataclass(frozen=True)
class RepoProcess:
    """One repository's activity model: mean level, trend, weekday profile and quarterly wave."""

    repo: str
    base: float  # mean commits per weekday-ish day
    trend: float  # relative change per day
    season: np.ndarray  # Monday..Sunday factors, weekends scaled per team
    phase: float  # where the quarterly wave starts
    centre: float  # the day the trend is centred on

    def level(self, t: np.ndarray) -> np.ndarray:
        """Expected daily commits on days ``t`` (days since the start), before swings and bursts."""
        level = self.base * np.exp(self.trend * (t - self.centre)) * self.season[t % 7]
        # slow quarterly wave so buckets move over time
        return level * (1 + 0.35 * np.sin(2 * np.pi * (t / 91.0 + self.phase)))


def _draw_process(rng: np.random.Generator, repo: str, days: int) -> RepoProcess:
    base = float(np.exp(rng.normal(2.3, 0.55)))
    trend = float(rng.normal(0.0, 0.0015))
    weekend = rng.uniform(0.4, 1.6)  # how much this team works weekends
    season = _WEEKDAY.copy()
    season[5:] *= weekend
    return RepoProcess(repo, base, trend, season, float(rng.uniform()), days / 2)


def _simulate(config: DemoConfig) -> tuple[list[RepoProcess], pd.DataFrame]:
    """The repositories' processes and their true daily commits over the demo's weeks.

    The draws happen in one fixed order per repository, so the seed alone fixes the data.
    """
    rng = np.random.default_rng(config.seed)
    days = config.total_weeks * 7
    t = np.arange(days)
    processes, frames = [], []
    for repo in repo_names(config):
        process = _draw_process(rng, repo, days)
        processes.append(process)
        level = process.level(t)
        # week-to-week swings (releases, holidays) that no lag fully explains
        level *= np.repeat(np.exp(rng.normal(0.0, 0.3, size=days // 7)), 7)
        for _ in range(int(rng.poisson(3))):
            start = int(rng.integers(0, days - 14))
            length = int(rng.integers(3, 12))
            level[start : start + length] *= rng.uniform(1.8, 3.5)
        counts = rng.poisson(np.clip(level, 0.05, None))
        frames.append(
            pd.DataFrame(
                {
                    "repo": repo,
                    "day": [config.start + timedelta(days=int(i)) for i in t],
                    "commits": counts.astype("int64"),
                }
            )
        )
    return processes, pd.concat(frames, ignore_index=True)


def generate_commits(config: DemoConfig) -> pd.DataFrame:
    """True daily commits for every repository over every week: columns repo, day, commits."""
    return _simulate(config)[1]


def repo_processes(config: DemoConfig) -> list[RepoProcess]:
    """The seeded activity model of every repository (what ``generate_commits`` samples)."""
    return _simulate(config)[0]


def correction_for(config: DemoConfig) -> Correction:
    """The burst that the initial load mis-counted: week 20 of the fourth repository."""
    first = config.start + timedelta(weeks=20)
    return Correction(
        repo=repo_names(config)[3], first_day=first, last_day=first + timedelta(days=6), factor=6
    )


def table_states(config: DemoConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(initial load, appended weeks, corrected rows) — written as successive snapshots."""
    true = generate_commits(config)
    cut = config.start + timedelta(weeks=config.initial_weeks)
    fix = correction_for(config)
    initial = true[true["day"] < cut].copy()
    wrong = (
        (initial["repo"] == fix.repo)
        & (initial["day"] >= fix.first_day)
        & (initial["day"] <= fix.last_day)
    )
    initial.loc[wrong, "commits"] = initial.loc[wrong, "commits"] * fix.factor
    appended = true[true["day"] >= cut].copy()
    in_fix = (
        (true["repo"] == fix.repo) & (true["day"] >= fix.first_day) & (true["day"] <= fix.last_day)
    )
    corrected = true[in_fix].copy()
    return (
        initial.reset_index(drop=True),
        appended.reset_index(drop=True),
        corrected.reset_index(drop=True),
    )

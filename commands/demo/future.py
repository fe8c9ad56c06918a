"""The demo's next weeks: commit counts after the built table ends, from the same seeded processes.

Each future week is a function of the seed and the week alone (its own random stream), so
advancing one week twice or two weeks at once writes the same rows. From the first future week a
regime change hits every third repository: a team merge multiplies its activity. Within a few
weeks that shows in the short-window features (``lag_1``, ``lag_2``, ``mean_4``, ``std_4``,
``ratio_4_12``) while the slow ones (``lag_4``, ``mean_12``) have not caught up yet.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from commands.demo.config import DemoConfig
from commands.demo.data import repo_processes

REGIME_FACTOR = 2.5
REGIME_EVERY = 3  # repositories 0, 3, 6, ... of the sorted list
_STREAM = 14  # keeps the future's random stream apart from any other use of the seed
_BURST_RATE = 3 / 68  # about three bursts per repository over the built weeks, as in data.py


def regime_repos(config: DemoConfig) -> list[str]:
    """The repositories whose activity jumps from the first future week."""
    return [p.repo for i, p in enumerate(repo_processes(config)) if i % REGIME_EVERY == 0]


def future_week(config: DemoConfig, week: int, processes=None) -> pd.DataFrame:
    """Daily rows (repo, day, commits) of week ``week`` (0 = the demo's first week)."""
    if week < config.total_weeks:
        raise ValueError(
            f"week {week} is part of the built demo (weeks 0..{config.total_weeks - 1})"
        )
    processes = processes if processes is not None else repo_processes(config)
    rng = np.random.default_rng([config.seed, _STREAM, week])
    t = np.arange(week * 7, week * 7 + 7)
    frames = []
    for i, process in enumerate(processes):
        # drawn for every repository in a fixed order, so a week's rows never depend on others
        swing = float(np.exp(rng.normal(0.0, 0.3)))
        burst_draw, burst_size = rng.random(), rng.uniform(1.8, 3.5)
        level = process.level(t) * swing * (burst_size if burst_draw < _BURST_RATE else 1.0)
        if i % REGIME_EVERY == 0:
            level = level * REGIME_FACTOR
        counts = rng.poisson(np.clip(level, 0.05, None))
        frames.append(
            pd.DataFrame(
                {
                    "repo": process.repo,
                    "day": [config.start + timedelta(days=int(d)) for d in t],
                    "commits": counts.astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def future_weeks(config: DemoConfig, first: int, last: int) -> pd.DataFrame:
    """Daily rows of weeks ``first..last`` inclusive."""
    processes = repo_processes(config)
    frames = [future_week(config, w, processes) for w in range(first, last + 1)]
    return pd.concat(frames, ignore_index=True)

"""``demo advance``: time passes in the demo — the next weeks of commits, then a week of traffic.

Appends the next weeks of ``lake.git.commits`` (``commands.demo.future``) as one new snapshot and
sends each new week's feature rows (one per repository: "what will next week look like?") to every
embedded deployment of the demo model found in ``<home>/deployments/*.json``. Idempotent per
week: a week already in the table is never written again, and advancing to it changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from commands.demo.config import MODEL_NAME, TABLE_IDENT, TABLE_NAME, DemoConfig
from commands.demo.result import DemoPaths
from commands.driver import Driver
from console.errors import ConsoleError

MAX_WEEKS = 520


class AdvanceError(ConsoleError):
    """The demo could not be advanced."""


class TrafficReport(BaseModel):
    deployment: str
    url: str
    version: str | None = None
    weeks: list[int] = Field(default_factory=list)
    rows: int = 0
    answered: int = 0
    failed_requests: int = 0
    error: str | None = None


class AdvanceResult(BaseModel):
    """The JSON document of ``demo advance --json``."""

    status: Literal["advanced", "unchanged"]
    table: str = TABLE_NAME
    last_week_before: int
    last_week: int
    weeks_added: list[int] = Field(default_factory=list)
    week_starts: list[str] = Field(default_factory=list)
    rows_added: int = 0
    snapshot_id: str | None = None
    regime: dict[str, Any] = Field(default_factory=dict)
    traffic: list[TrafficReport] = Field(default_factory=list)
    traffic_note: str | None = None


def find_deployments(home: Path, model: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Deployment records of ``model`` in ``<home>/deployments``, and why others were skipped."""
    found, skipped = [], []
    for path in sorted((home / "deployments").glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            skipped.append(f"{path.name}: unreadable ({type(exc).__name__})")
            continue
        if not isinstance(record, dict) or not record.get("url"):
            skipped.append(f"{path.name}: not a deployment record")
            continue
        if record.get("model") == model:
            found.append(record)
    return found, skipped


@contextlib.contextmanager
def _advance_lock(home: Path) -> Iterator[None]:
    """Two advances at once must not both append the same weeks."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "demo-advance.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def serving_rows(daily, config: DemoConfig, weeks: list[int]) -> dict[int, list[dict[str, float]]]:
    """Per week, the feature row of every repository as of the end of that week.

    ``feature_rows`` only emits rows whose next week is known; the newest week's target is not,
    so a placeholder next week lets the builder emit its row, and every target is dropped.
    """
    import pandas as pd

    from commands.demo import features

    weekly = features.weekly_commits(daily, config.start)
    last = int(weekly["week"].max())
    placeholder = pd.DataFrame(
        {"repo": sorted(weekly["repo"].unique()), "week": last + 1, "commits": 0}
    )
    rows = features.feature_rows(
        pd.concat([weekly, placeholder], ignore_index=True), config.low_max, config.medium_max
    )
    out: dict[int, list[dict[str, float]]] = {}
    for week in weeks:
        chosen = rows[rows["week"] == week].sort_values("repo")
        out[week] = [
            {c: float(v) for c, v in zip(features.FEATURE_COLUMNS, values, strict=True)}
            for values in chosen[list(features.FEATURE_COLUMNS)].itertuples(index=False)
        ]
    return out


def advance_demo(
    paths: DemoPaths,
    driver: Driver,
    *,
    weeks: int | None = None,
    to_week: int | None = None,
    send: bool = True,
    config: DemoConfig | None = None,
) -> AdvanceResult:
    """Append the weeks up to ``to_week`` (or ``weeks`` more), then send their traffic."""
    config = config or DemoConfig()
    if (weeks is None) == (to_week is None):
        raise AdvanceError("give either a number of weeks or the week to advance to")
    if not paths.catalog_db.exists():
        raise AdvanceError(
            f"no demo in {paths.home}: the Iceberg catalog is missing",
            hint="run mlops-console demo",
        )
    driver.progress(f"reading {TABLE_NAME}", fraction=0.05)
    try:
        with _advance_lock(paths.home):
            result, daily = _append_weeks(paths, driver, config, weeks, to_week)
    except ConsoleError:
        raise
    except Exception as exc:
        raise AdvanceError(f"advancing the demo failed: {type(exc).__name__}: {exc}") from exc
    if result.status == "unchanged":
        result.traffic_note = "no new week: no traffic sent"
        return result
    if send:
        _send_week_traffic(paths, driver, config, daily, result)
    return result


def _append_weeks(paths, driver, config, weeks, to_week):
    import pandas as pd

    from commands.demo import future, lake

    catalog = lake.open_catalog(paths.catalog_db, paths.warehouse)
    try:
        table = catalog.load_table(TABLE_IDENT)
    except Exception:  # noqa: BLE001 - pyiceberg's NoSuchTableError and friends
        raise AdvanceError(
            f"{TABLE_NAME} is not in {paths.catalog_db}", hint="run mlops-console demo"
        ) from None
    daily = table.scan().to_pandas()
    last_day = pd.Timestamp(daily["day"].max())
    last_before = int((last_day - pd.Timestamp(config.start)).days // 7)
    target = last_before + weeks if weeks is not None else int(to_week)
    if target - last_before > MAX_WEEKS:
        raise AdvanceError(f"advance by at most {MAX_WEEKS} weeks at a time")
    regime = {
        "repos": future.regime_repos(config),
        "factor": future.REGIME_FACTOR,
        "from_week": config.total_weeks,
    }
    if target <= last_before:
        driver.progress(f"week {target} is already in {TABLE_NAME}: nothing to do", fraction=1.0)
        return AdvanceResult(
            status="unchanged", last_week_before=last_before, last_week=last_before, regime=regime
        ), daily
    if last_before < config.total_weeks - 1:
        raise AdvanceError(
            f"{TABLE_NAME} ends at week {last_before}, before the demo's last built week",
            hint="rebuild with mlops-console demo --reset",
        )
    new_weeks = list(range(last_before + 1, target + 1))
    driver.progress(
        f"generating weeks {new_weeks[0]}..{new_weeks[-1]} of {config.repos} repositories",
        fraction=0.3,
    )
    rows = future.future_weeks(config, new_weeks[0], new_weeks[-1])
    arrow = lake._arrow(rows)
    table.append(
        arrow,
        snapshot_properties={
            "demo.advance.weeks": f"{new_weeks[0]}-{new_weeks[-1]}",
            "demo.advance.regime": ",".join(regime["repos"]),
        },
    )
    current = table.current_snapshot()
    assert current is not None  # the append above made one
    snapshot = str(current.snapshot_id)
    driver.progress(f"appended {len(rows)} rows as snapshot {snapshot}", fraction=0.6)
    daily = pd.concat([daily, rows], ignore_index=True)
    return AdvanceResult(
        status="advanced",
        last_week_before=last_before,
        last_week=target,
        weeks_added=new_weeks,
        week_starts=[str(config.start + timedelta(weeks=w)) for w in new_weeks],
        rows_added=len(rows),
        snapshot_id=snapshot,
        regime=regime,
    ), daily


def _send_week_traffic(paths, driver, config, daily, result: AdvanceResult) -> None:
    from commands.traffic import send_traffic

    records, skipped = find_deployments(paths.home, MODEL_NAME)
    for note in skipped:
        driver.warn(f"deployment record {note}")
    if not records:
        result.traffic_note = (
            f"no embedded deployment of {MODEL_NAME} in {paths.home / 'deployments'}: "
            "no traffic sent (mlops-console deploy starts one)"
        )
        driver.progress(result.traffic_note, fraction=1.0)
        return
    per_week = serving_rows(daily, config, result.weeks_added)
    for record in records:
        report = TrafficReport(
            deployment=str(record.get("name", "?")),
            url=str(record["url"]),
            version=str(record["version"]) if record.get("version") is not None else None,
        )
        try:
            for week, rows in per_week.items():
                driver.progress(f"week {week}: {len(rows)} rows to {report.deployment}")
                sent = send_traffic(report.url, rows)
                report.weeks.append(week)
                report.rows += sent.rows
                report.answered += sent.answered
                report.failed_requests += sent.failed_requests
                if sent.errors and report.error is None:
                    report.error = sent.errors[0]
        except ConsoleError as exc:
            report.error = str(exc)
        result.traffic.append(report)

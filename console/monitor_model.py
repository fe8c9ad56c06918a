"""Domain types of monitoring: per-feature drift, realized performance per window, the report.

pydantic only, so the CLI, commands and (later) the TUI's monitoring screen share them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

SOURCES = ("inference_log", "newest_snapshot")


class DriftTest(BaseModel):
    """One comparison of a feature with the pinned training snapshot."""

    test: str  # "ks_2samp" (numeric) or "chi2" (categorical), both from scipy.stats
    statistic: float
    p_value: float
    drifted: bool
    rows: int
    reference_rows: int


class FeatureDrift(BaseModel):
    """A feature's drift: ``statistic`` and ``drifted`` come from ``source``; all tests below."""

    feature: str
    statistic: float | None
    drifted: bool
    p_value: float | None = None
    test: str | None = None
    source: str | None = None
    sources: dict[str, DriftTest] = Field(default_factory=dict)


class WindowPerformance(BaseModel):
    """Realized performance of the served version in one window (the week the labels are for)."""

    window: str
    metric: str
    value: float
    rows: int
    baseline: float | None = None
    source: str = "inference_log"


class MonitorReport(BaseModel):
    """The JSON document of ``monitor --json``: contract keys first, then the context."""

    model: str
    version: str
    drift: list[FeatureDrift] = Field(default_factory=list)
    drift_share: float | None = None
    performance: list[WindowPerformance] = Field(default_factory=list)
    retrain_suggested: bool = False
    reasons: list[str] = Field(default_factory=list)
    alias: str | None = None
    run_id: str | None = None
    table: str | None = None
    pinned_snapshot: str | None = None
    newest_snapshot: str | None = None
    inference_rows: int = 0
    baseline_metric: str | None = None
    baseline_value: float | None = None
    gaps: list[str] = Field(default_factory=list)
    thresholds: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0

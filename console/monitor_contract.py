"""The consumer's side of ``mlops-console monitor MODEL --json``: a tolerant reader of its contract.

The TUI runs the ``monitor`` command in its own process (drift libraries stay out of the console)
and parses its stdout here: ``parse_monitor_output`` turns it into a ``MonitorReport`` or raises
``MonitorError`` with one line. Only the contract's keys are required; extra keys are ignored and
NaN becomes None, so a newer or older ``monitor`` still reads. The producer's full types (tests,
p-values, sources) are ``console.monitor_model``.
"""

from __future__ import annotations

import json
import math

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.errors import ConsoleError


class MonitorError(ConsoleError):
    """The monitor command is missing, failed, or printed something that is not its contract."""


def _finite(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class FeatureDrift(BaseModel):
    """One feature: the test statistic and whether it drifted."""

    model_config = ConfigDict(extra="ignore")

    feature: str
    statistic: float | None = None
    drifted: bool = False

    _number = field_validator("statistic", mode="before")(lambda v: _finite(v))


class PerformanceWindow(BaseModel):
    """The realized value of a metric over one window (a week) of labelled traffic."""

    model_config = ConfigDict(extra="ignore")

    window: str
    metric: str
    value: float | None = None

    _number = field_validator("value", mode="before")(lambda v: _finite(v))

    @field_validator("window", "metric", mode="before")
    @classmethod
    def _text(cls, value: object) -> str:
        return "" if value is None else str(value)


class MonitorReport(BaseModel):
    """The ``monitor --json`` contract of issue 14."""

    model_config = ConfigDict(extra="ignore")

    model: str
    version: str
    drift: list[FeatureDrift] = Field(default_factory=list)
    drift_share: float | None = None
    performance: list[PerformanceWindow] = Field(default_factory=list)
    retrain_suggested: bool = False
    reasons: list[str] = Field(default_factory=list)
    # what the command could not check and why (someone else's model: no pinned training
    # snapshot, no inference log): an empty report without them would read as "all fine"
    gaps: list[str] = Field(default_factory=list)

    _share = field_validator("drift_share", mode="before")(lambda v: _finite(v))

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> str:
        return "" if value is None else str(value)

    @field_validator("reasons", "gaps", mode="before")
    @classmethod
    def _reasons(cls, value: object) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [d for d in self.drift if d.drifted]

    @property
    def tested(self) -> list[FeatureDrift]:
        """The features a test ran on (a feature with too few rows has no statistic)."""
        return [d for d in self.drift if d.statistic is not None or d.drifted]

    def metrics(self) -> dict[str, list[PerformanceWindow]]:
        """The performance windows grouped by metric, in the order the command gave them."""
        out: dict[str, list[PerformanceWindow]] = {}
        for window in self.performance:
            out.setdefault(window.metric, []).append(window)
        return out


def parse_monitor_output(stdout: str) -> MonitorReport:
    """The report in ``stdout`` (one JSON document); ``MonitorError`` in one line otherwise."""
    text = stdout.strip()
    if not text:
        raise MonitorError("the monitor command printed nothing")
    try:
        doc = json.loads(text)
    except ValueError:
        raise MonitorError("the monitor command did not print JSON") from None
    if not isinstance(doc, dict):
        raise MonitorError("the monitor command printed JSON that is not an object")
    try:
        return MonitorReport.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise MonitorError(
            f"the monitor command's JSON does not fit its contract: {where}: {first['msg']}"
        ) from None


class MonitorState(BaseModel):
    """What the console knows of one model and alias's monitoring, for the deployments view.

    ``report`` after a successful run; ``error`` after a failed one; ``unavailable`` when this
    installation has no ``monitor`` command; ``checking`` while a run is on its way.
    """

    report: MonitorReport | None = None
    error: str | None = None
    unavailable: bool = False
    checking: bool = False
    at: float = 0.0  # when the report or error arrived (time.time())

    def marker(self) -> str:
        """A short text marker for a table cell (readable without colour)."""
        if self.checking and self.report is None:
            return "checking…"
        if self.unavailable:
            return "n/a"
        if self.report is None:
            return "ERROR" if self.error else "-"
        report = self.report
        drifted, total = len(report.drifted), len(report.tested)
        if not total and not report.retrain_suggested:
            # nothing tested (no reference, or too few rows yet): not "ok"; it once said
            # `ok 0/8` for a deployment that had served no request
            return "unchecked"
        mark = f"DRIFT {drifted}/{total}" if drifted else f"ok 0/{total}"
        if report.retrain_suggested:
            mark += " RETRAIN"
        return mark

    @property
    def alarming(self) -> bool:
        report = self.report
        return report is not None and (bool(report.drifted) or report.retrain_suggested)

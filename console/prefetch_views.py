"""The prefetched first page as the panes read it: light views of MLflow's wire JSON.

``console.prefetch``'s helper hands over the server's own JSON. These views read the fields the
experiments list and the runs table show, with the semantics of ``console.model`` (key/value
pairs to dicts, last duplicate wins; a run's name from ``run_name`` or the ``mlflow.runName``
tag; NaN and infinities as floats), without pydantic, which is not imported yet when the first
page is drawn. Anything these views cannot read raises, and the console waits for the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.run_reading import RunInfoReading, RunReading

# Where pydantic would refuse a value, these raise: the page is then not drawn from the helper's
# answers, rather than drawn from values the client will refuse.


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("not text")


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("not an integer")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isascii():
        value = int(value)  # ValueError unless ASCII digits
    if isinstance(value, int) and -(2**63) <= value < 2**63:  # a timestamp in milliseconds
        return value
    raise TypeError("not an integer")


def _float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return float(value)
    raise TypeError("not a number")


def _pairs(value: Any) -> dict[str, str]:
    """``console.model._pairs_to_dict``: ``[{key, value}]`` → dict, last duplicate wins."""
    if value is None:
        return {}
    if isinstance(value, list):
        pairs = {}
        for item in value:
            if isinstance(item, dict):
                text = item.get("value", "")
                if not isinstance(text, str):
                    raise TypeError("not text")
                pairs[str(item.get("key"))] = text
        return pairs
    raise TypeError("not key/value pairs")


@dataclass(frozen=True, slots=True)
class WireExperiment:
    experiment_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class WireMetric:
    value: float | None


@dataclass(frozen=True, slots=True)
class WireRunInfo(RunInfoReading):
    run_id: str
    run_name: str | None
    experiment_id: str | None
    user_id: str | None
    status: str | None
    start_time: int | None
    end_time: int | None


@dataclass(frozen=True, slots=True)
class WireRun(RunReading):
    """A run as ``console.model.Run`` reads it, for the fields the runs table shows."""

    info: WireRunInfo
    params: dict[str, str]
    metrics: dict[str, WireMetric]
    tags: dict[str, str]

    @classmethod
    def from_wire(cls, doc: dict[str, Any]) -> WireRun:
        info = doc.get("info") or {}
        data = doc.get("data") or {}
        run_id = _text(info.get("run_id") if "run_id" in info else info.get("run_uuid"))
        if not run_id:
            raise ValueError("a run without an id")
        metrics: dict[str, WireMetric] = {}
        for metric in data.get("metrics") or []:
            if isinstance(metric, dict):
                key = _text(metric.get("key"))
                if key is None:
                    raise ValueError("a metric without a key")
                metrics[key] = WireMetric(_float(metric.get("value")))
        return cls(
            info=WireRunInfo(
                run_id=run_id,
                run_name=_text(info.get("run_name")),
                experiment_id=_text(info.get("experiment_id")),
                user_id=_text(info.get("user_id")),
                status=_text(info.get("status")),
                start_time=_int(info.get("start_time")),
                end_time=_int(info.get("end_time")),
            ),
            params=_pairs(data.get("params")),
            metrics=metrics,
            tags=_pairs(data.get("tags")),
        )


@dataclass(frozen=True, slots=True)
class WirePage:
    """One page of runs as the runs table reads a ``console.model.Page`` (no token, nothing more
    to load: the client's page replaces it, and pages on from there)."""

    items: list[WireRun]

    @property
    def has_more(self) -> bool:
        return False


@dataclass(frozen=True)
class FirstAnswers:
    """The experiments to list, the one to land on (newest run) and its newest runs."""

    experiments: list[WireExperiment]
    more_experiments: bool
    landing: WireExperiment | None
    runs: WirePage

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FirstAnswers:
        experiments = [
            WireExperiment(_text(e["experiment_id"]) or "", _text(e.get("name")) or "")
            for e in doc["experiments"]
        ]
        runs = [WireRun.from_wire(r) for r in doc["runs"]]
        landing = None
        if runs:
            wanted = runs[0].info.experiment_id
            landing = next((e for e in experiments if e.experiment_id == wanted), None)
        # the newest runs across the experiments, in order: those of the landing experiment
        # are the first rows of its own page
        mine = [r for r in runs if landing and r.info.experiment_id == landing.experiment_id]
        return cls(experiments, bool(doc.get("experiments_more")), landing, WirePage(mine))

"""How a run's id, name, metric values and duration are read from its fields.

Shared by the pydantic model (``console.model.Run`` and ``RunInfo``) and the light views of the
prefetched first page (``console.prefetch_views``), so that both read a run alike. Standard library
only: the prefetch views are drawn before pydantic is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


class RunInfoReading:
    """``duration_s`` from a run info's ``start_time`` and ``end_time`` (milliseconds)."""

    __slots__ = ()

    if TYPE_CHECKING:
        start_time: int | None
        end_time: int | None

    @property
    def duration_s(self) -> float | None:
        if self.start_time is None or self.end_time is None:
            return None
        return (self.end_time - self.start_time) / 1000


class RunReading:
    """A run's id and name (``run_name``, else the ``mlflow.runName`` tag) and metric values."""

    __slots__ = ()

    if TYPE_CHECKING:
        info: Any
        tags: dict[str, str]
        metrics: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def name(self) -> str:
        return self.info.run_name or self.tags.get("mlflow.runName", "")

    def metric_value(self, key: str) -> float | None:
        metric = self.metrics.get(key)
        return metric.value if metric else None

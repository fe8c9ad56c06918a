"""Which columns the runs table shows: fixed attributes plus the metrics and params that vary.

Pure functions over ``console.model.Run``: the first page of a listing decides the columns, so
later pages line up under the same headers. Each column knows its MLflow ``order_by`` key, so
sorting is done by the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import Run


MAX_METRICS = 6
MAX_PARAMS = 6


@dataclass(frozen=True)
class RunColumn:
    """One column: ``kind`` is attribute, metric or param; ``name`` the key within that kind."""

    kind: str
    name: str
    label: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def order_key(self) -> str:
        """The column as an MLflow ``order_by`` field (backquoted so any key name works)."""
        if self.kind == "attribute":
            return f"attributes.{self.name}"
        plural = "metrics" if self.kind == "metric" else "params"
        return f"{plural}.`{self.name}`"


ATTRIBUTE_COLUMNS = (
    RunColumn("attribute", "run_name", "run"),
    RunColumn("attribute", "status", "status"),
    RunColumn("attribute", "start_time", "started"),
)


def _varying(per_run: Sequence[dict[str, object]]) -> list[str]:
    keys = sorted({key for values in per_run for key in values})
    if len(per_run) < 2:
        return keys
    varying = []
    for key in keys:
        seen = {repr(values.get(key)) for values in per_run}
        if len(seen) > 1:
            varying.append(key)
    return varying


def choose_columns(runs: Sequence[Run], *, keep: Sequence[str] = ()) -> list[RunColumn]:
    """Attributes, then metrics and params whose values differ across ``runs`` (capped).

    ``keep`` lists column keys (``metric:loss``) that must stay, e.g. the one being sorted by.
    """
    metric_names = _varying([{k: m.value for k, m in r.metrics.items()} for r in runs])
    param_names = _varying([dict(r.params) for r in runs])
    columns = list(ATTRIBUTE_COLUMNS)
    columns += [RunColumn("metric", n, n) for n in metric_names[:MAX_METRICS]]
    columns += [RunColumn("param", n, n) for n in param_names[:MAX_PARAMS]]
    present = {c.key for c in columns}
    for key in keep:
        kind, _, name = key.partition(":")
        if key not in present and kind in {"metric", "param"} and name:
            columns.append(RunColumn(kind, name, name))
    return columns


def parse_filter(text: str) -> str | None:
    """The operator's filter as MLflow filter syntax: plain text becomes a run-name match."""
    text = text.strip()
    if not text:
        return None
    operators = ("=", "<", ">", " LIKE ", " like ", " ILIKE ", " ilike ", " IN ", " in ")
    prefixes = ("metrics.", "params.", "tags.", "attributes.", "attribute.", "dataset", "run_")
    if any(op in text for op in operators) and text.lower().startswith(prefixes):
        return text
    if "'" in text and '"' not in text:
        return f'attributes.run_name LIKE "%{text}%"'
    # a name with both quote kinds cannot be quoted in MLflow's syntax; match without them
    text = text.replace("'", "_")
    return f"attributes.run_name LIKE '%{text}%'"


def parse_order(text: str, columns: Sequence[RunColumn]) -> str | None:
    """The operator's sort as an MLflow ``order_by`` clause; a bare column label is resolved
    against the shown columns (metrics default to descending, everything else too)."""
    text = text.strip()
    if not text:
        return None
    field, _, direction = text.rpartition(" ")
    if direction.upper() not in {"ASC", "DESC"}:
        field, direction = text, "DESC"
    field = field.strip()
    for column in columns:
        if field in (column.label, column.name, column.key, column.order_key):
            return f"{column.order_key} {direction.upper()}"
    if field.startswith(("metrics.", "params.", "tags.", "attributes.")):
        return f"{field} {direction.upper()}"
    return f"attributes.{field} {direction.upper()}"

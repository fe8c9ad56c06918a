"""The inference log contract: the Iceberg table ``lake.ml.inference_log`` and its rows.

One row per scored input row: ``time`` (UTC), ``request_id``, ``deployment``, ``model``,
``version``, ``alias`` (may be empty), ``inputs`` (JSON object of the row's input columns),
``outputs`` (JSON of that row's prediction), ``latency_ms`` (of the whole request). The predict
service appends in batches; monitoring, the benchmark and tests read and write it through here
(monitoring reads only the ``inputs`` and ``outputs`` of one version: ``scan`` with columns).
pyarrow and pyiceberg are imported inside the functions (this runs in workers and tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TABLE_NAME = "lake.ml.inference_log"
TABLE_IDENT = ("ml", "inference_log")
COLUMNS = (
    "time",
    "request_id",
    "deployment",
    "model",
    "version",
    "alias",
    "inputs",
    "outputs",
    "latency_ms",
)


def arrow_schema():
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("request_id", pa.string(), nullable=False),
            pa.field("deployment", pa.string(), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("version", pa.string(), nullable=False),
            pa.field("alias", pa.string(), nullable=False),
            pa.field("inputs", pa.string(), nullable=False),
            pa.field("outputs", pa.string(), nullable=False),
            pa.field("latency_ms", pa.float64(), nullable=False),
        ]
    )


@dataclass(frozen=True)
class LoggedRequest:
    """One answered request: its rows' inputs and the outputs, one per row."""

    request_id: str
    deployment: str
    model: str
    version: str
    alias: str
    inputs: list[Mapping[str, Any]]
    outputs: list[Any]
    latency_ms: float
    time: datetime | None = None


def to_records(requests: Iterable[LoggedRequest]) -> list[dict[str, Any]]:
    """One log row per scored input row."""
    records = []
    for req in requests:
        when = req.time or datetime.now(UTC)
        for row, out in zip(req.inputs, req.outputs, strict=True):
            records.append(
                {
                    "time": when,
                    "request_id": req.request_id,
                    "deployment": req.deployment,
                    "model": req.model,
                    "version": str(req.version),
                    "alias": req.alias or "",
                    "inputs": json.dumps(dict(row), default=float),
                    "outputs": json.dumps(out, default=str),
                    "latency_ms": float(req.latency_ms),
                }
            )
    return records


def open_log(catalog, *, create: bool = True):
    """The inference log table of ``catalog`` (created when missing and ``create``), or None."""
    from pyiceberg.exceptions import NoSuchTableError

    try:
        return catalog.load_table(TABLE_IDENT)
    except NoSuchTableError:
        if not create:
            return None
    catalog.create_namespace_if_not_exists(TABLE_IDENT[0])
    return catalog.create_table_if_not_exists(TABLE_IDENT, schema=arrow_schema())


def append(catalog, records: list[dict[str, Any]]) -> str | None:
    """Append log rows as one snapshot; return its id (None when there was nothing to write)."""
    import pyarrow as pa

    if not records:
        return None
    table = open_log(catalog)
    table.append(pa.Table.from_pylist(records, schema=arrow_schema()))
    return str(table.current_snapshot().snapshot_id)


def scan(catalog, model: str, version: str | None = None, columns: Sequence[str] | None = None):
    """The log rows of ``model`` (and ``version``) as an Arrow table of ``columns`` (default all).

    The row filter and the projection go to the Iceberg scan: data files whose column statistics
    rule the model or version out are skipped, and only the chosen columns are read from the rest.
    Empty (with those columns) when there is no log.
    """
    from pyiceberg.expressions import And, EqualTo

    names = tuple(columns or COLUMNS)
    table = open_log(catalog, create=False)
    if table is None or table.current_snapshot() is None:
        return arrow_schema().empty_table().select(list(names))
    condition = EqualTo("model", model)
    if version is not None:
        condition = And(condition, EqualTo("version", str(version)))
    return table.scan(row_filter=condition, selected_fields=names).to_arrow()


def prediction_value(output: Any) -> Any:
    """The predicted value of one logged output: a scalar, ``{"<name>": v}`` or ``[v]``."""
    if isinstance(output, str):
        try:
            output = json.loads(output)
        except ValueError:
            return output
    while isinstance(output, dict) and len(output) == 1:
        output = next(iter(output.values()))
    if isinstance(output, list) and len(output) == 1:
        return prediction_value(output[0])
    if isinstance(output, dict):
        for key in ("prediction", "predictions", "bucket", "label", "class"):
            if key in output:
                return prediction_value(output[key])
    return output

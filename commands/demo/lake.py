"""The demo's Iceberg table ``lake.git.commits``: created, loaded in three snapshots, read back.

A pyiceberg ``SqlCatalog`` named ``lake`` on sqlite with a file warehouse, as the embedded stack
lays it out. Snapshot ids are returned as strings (they are signed 64-bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from commands.demo.config import CATALOG_NAME, TABLE_IDENT
from commands.demo.data import Correction

ARROW_SCHEMA = pa.schema(
    [
        pa.field("repo", pa.string(), nullable=False),
        pa.field("day", pa.date32(), nullable=False),
        pa.field("commits", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Snapshots:
    """The snapshot ids of the demo's table states, as strings."""

    initial: str
    appended: str
    corrected: str


def open_catalog(catalog_db: Path, warehouse: Path):
    from pyiceberg.catalog.sql import SqlCatalog

    catalog_db.parent.mkdir(parents=True, exist_ok=True)
    warehouse.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(
        CATALOG_NAME,
        uri=f"sqlite:///{catalog_db.resolve()}",
        warehouse=warehouse.resolve().as_uri(),
    )


def _arrow(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(
        frame[["repo", "day", "commits"]], schema=ARROW_SCHEMA, preserve_index=False
    )


def write_table(
    catalog, initial: pd.DataFrame, appended: pd.DataFrame, corrected: pd.DataFrame, fix: Correction
) -> Snapshots:
    """Create the table and write initial load, append and correction; return their snapshots."""
    from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThanOrEqual

    catalog.create_namespace_if_not_exists(TABLE_IDENT[0])
    table = catalog.create_table(TABLE_IDENT, schema=ARROW_SCHEMA)
    table.append(_arrow(initial))
    first = table.current_snapshot().snapshot_id
    table.append(_arrow(appended))
    second = table.current_snapshot().snapshot_id
    # the correction replaces exactly the mis-counted rows (delete + append in one commit)
    table.overwrite(
        _arrow(corrected),
        overwrite_filter=And(
            # pyiceberg's predicates take (term, literal); pyright sees only their pydantic fields
            EqualTo("repo", fix.repo),  # pyright: ignore[reportCallIssue]
            And(
                GreaterThanOrEqual("day", fix.first_day.isoformat()),  # pyright: ignore[reportCallIssue]
                LessThanOrEqual("day", fix.last_day.isoformat()),  # pyright: ignore[reportCallIssue]
            ),
        ),
    )
    third = table.current_snapshot().snapshot_id
    return Snapshots(initial=str(first), appended=str(second), corrected=str(third))


def read_snapshot(catalog, snapshot_id: str) -> pd.DataFrame:
    """The table's rows as of a snapshot (time travel), sorted for determinism."""
    table = catalog.load_table(TABLE_IDENT)
    frame = table.scan(snapshot_id=int(snapshot_id)).to_pandas()
    return frame.sort_values(["repo", "day"]).reset_index(drop=True)


def tag_snapshot(catalog, snapshot_id: str, tag: str) -> None:
    """Protect a snapshot from expiry with a named tag (``mlflow-<run_id>``)."""
    table = catalog.load_table(TABLE_IDENT)
    table.manage_snapshots().create_tag(int(snapshot_id), tag).commit()


def snapshot_tags(catalog) -> dict[str, str]:
    """tag name -> snapshot id (string) for every tag of the table."""
    table = catalog.load_table(TABLE_IDENT)
    return {
        name: str(ref.snapshot_id)
        for name, ref in table.metadata.refs.items()
        if ref.snapshot_ref_type == "tag"
    }

"""Iceberg snapshot facts for provenance: one snapshot, and what changed between two.

Importing pyiceberg costs about 1.9 s here, twice the whole provenance budget, so for a
``SqlCatalog`` on sqlite with a file warehouse (the embedded lifecycle, or a pyiceberg config whose
``uri`` is ``sqlite:///…``) this module reads the catalog's ``iceberg_tables`` row and the table's
metadata JSON with the stdlib. Any other catalog goes through pyiceberg's ``load_catalog`` in a
worker thread. Both paths feed one parser of the metadata document (Iceberg's table spec).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from console.errors import ConsoleError
from console.provenance.model import SnapshotChange, SnapshotFacts

_INT_FIELDS = {
    "added_records": "added-records",
    "deleted_records": "deleted-records",
    "total_records": "total-records",
    "added_files": "added-data-files",
    "deleted_files": "deleted-data-files",
}


class IcebergError(ConsoleError):
    """A table or snapshot could not be read."""


def split_table(name: str, default_catalog: str) -> tuple[str, str, str]:
    """``lake.git.commits`` → (``lake``, ``git``, ``commits``); two parts: default catalog."""
    parts = [p for p in name.strip().split(".") if p]
    if len(parts) < 2:
        raise IcebergError(f"table name {name!r} is not <catalog>.<namespace>.<table>")
    if len(parts) == 2:
        return default_catalog, parts[0], parts[1]
    return parts[0], ".".join(parts[1:-1]), parts[-1]


def _file_path(location: str) -> Path | None:
    """A local path for a ``file:`` URI or a plain absolute path; None for remote stores."""
    if location.startswith("file:"):
        parsed = urlparse(location)
        return Path(unquote(parsed.path))
    if location.startswith("/"):
        return Path(location)
    return None


def _read_json(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip-compressed metadata (write.metadata.compression-codec)
        raw = gzip.decompress(raw)
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("metadata is not a JSON object")
    return doc


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_snapshots(table: str, metadata: dict[str, Any]) -> dict[str, SnapshotFacts]:
    """Every snapshot of a table metadata document, keyed by id (a string)."""
    refs: dict[str, list[str]] = {}
    for ref_name, ref in (metadata.get("refs") or {}).items():
        if isinstance(ref, dict) and ref.get("snapshot-id") is not None:
            refs.setdefault(str(ref["snapshot-id"]), []).append(str(ref_name))
    current = metadata.get("current-snapshot-id")
    out: dict[str, SnapshotFacts] = {}
    for snap in metadata.get("snapshots") or []:
        if not isinstance(snap, dict) or snap.get("snapshot-id") is None:
            continue
        sid = str(snap["snapshot-id"])
        summary = {str(k): str(v) for k, v in (snap.get("summary") or {}).items()}
        parent = snap.get("parent-snapshot-id")
        out[sid] = SnapshotFacts(
            table=table,
            snapshot_id=sid,
            parent_id=str(parent) if parent is not None else None,
            sequence_number=_int(snap.get("sequence-number")),
            timestamp_ms=_int(snap.get("timestamp-ms")),
            operation=summary.get("operation"),
            schema_id=_int(snap.get("schema-id")),
            refs=sorted(refs.get(sid, [])),
            summary=summary,
            is_current=current is not None and str(current) == sid,
            **{field: _int(summary.get(key)) for field, key in _INT_FIELDS.items()},
        )
    return out


def _ancestors(snapshots: dict[str, SnapshotFacts], start: str) -> list[str]:
    """``start`` and its parents, newest first (stops at expired parents)."""
    chain, seen = [], set()
    node: str | None = start
    while node is not None and node in snapshots and node not in seen:
        seen.add(node)
        chain.append(node)
        node = snapshots[node].parent_id
    return chain


def change_between(
    table: str, snapshots: dict[str, SnapshotFacts], a: str, b: str
) -> SnapshotChange:
    """What the commits between ``a`` and ``b`` did, older to newer, whichever order given."""
    older, newer = a, b
    sa, sb = snapshots.get(a), snapshots.get(b)
    if sa and sb and (sa.sequence_number or 0) > (sb.sequence_number or 0):
        older, newer = b, a
    line = _ancestors(snapshots, newer)
    related = older in line
    if not related:
        other = _ancestors(snapshots, older)
        if newer in other:  # sequence numbers missing or odd: try the other way round
            older, newer, line, related = newer, older, other, True
    chain: list[SnapshotFacts] = []
    if related:
        chain = [snapshots[s] for s in reversed(line[: line.index(older)])]
    first, last = snapshots.get(older), snapshots.get(newer)
    return SnapshotChange(
        table=table,
        older=older,
        newer=newer,
        related=related,
        chain=chain,
        added_records=sum(s.added_records or 0 for s in chain) if related else None,
        deleted_records=sum(s.deleted_records or 0 for s in chain) if related else None,
        total_before=first.total_records if first else None,
        total_after=last.total_records if last else None,
    )


class SnapshotReader:
    """Reads table metadata once per table and answers snapshot questions from it.

    ``sqlite_catalogs`` maps a catalog name to its sqlite file (the fast path);
    ``pyiceberg_fallback`` allows ``load_catalog`` for catalogs not in that map.
    """

    def __init__(
        self,
        sqlite_catalogs: dict[str, Path],
        *,
        default_catalog: str = "lake",
        pyiceberg_fallback: bool = True,
    ) -> None:
        self.sqlite_catalogs = sqlite_catalogs
        self.default_catalog = default_catalog
        self.pyiceberg_fallback = pyiceberg_fallback
        self._metadata: dict[str, asyncio.Task] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> SnapshotReader:
        from console.embedded.lifecycle import EmbeddedPaths

        catalogs: dict[str, Path] = {}
        name = getattr(settings, "iceberg_catalog", None) or "lake"
        env_uri = os.environ.get(f"PYICEBERG_CATALOG__{name.upper()}__URI", "")
        if env_uri.startswith("sqlite:///"):
            catalogs[name] = Path(env_uri.removeprefix("sqlite:///")).expanduser()
            if not str(catalogs[name]).startswith("/"):
                catalogs[name] = Path("/") / catalogs[name]
        embedded = EmbeddedPaths.for_home(settings.home).iceberg_catalog_db
        if embedded.exists():
            catalogs.setdefault(name, embedded)
        return cls(catalogs, default_catalog=name)

    async def metadata(self, table: str) -> dict[str, Any]:
        key = table.lower()
        task = self._metadata.get(key)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(self._load_metadata, key))
            self._metadata[key] = task
        return await task

    def _load_metadata(self, table: str) -> dict[str, Any]:
        catalog, namespace, name = split_table(table, self.default_catalog)
        db = self.sqlite_catalogs.get(catalog)
        if db is not None:
            found = self._sqlite_metadata(db, catalog, namespace, name)
            if found is not None:
                return found
        if not self.pyiceberg_fallback:
            raise IcebergError(f"table {table} is not in any known Iceberg catalog")
        return self._pyiceberg_metadata(catalog, namespace, name)

    @staticmethod
    def _sqlite_metadata(db: Path, catalog: str, namespace: str, name: str) -> dict | None:
        """The metadata document via the catalog's sqlite table; None if not found there."""
        if not db.exists():
            return None
        try:
            conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
            try:
                row = conn.execute(
                    "SELECT metadata_location FROM iceberg_tables "
                    "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?",
                    (catalog, namespace, name),
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise IcebergError(f"cannot read Iceberg catalog {db}: {exc}") from None
        if row is None or not row[0]:
            return None
        path = _file_path(row[0])
        if path is None:
            return None  # remote warehouse: pyiceberg knows how to read it
        try:
            return _read_json(path)
        except (OSError, ValueError) as exc:
            raise IcebergError(
                f"cannot read metadata of {catalog}.{namespace}.{name} at {path}: {exc}"
            ) from None

    @staticmethod
    def _pyiceberg_metadata(catalog: str, namespace: str, name: str) -> dict[str, Any]:
        try:
            from pyiceberg.catalog import load_catalog

            table = load_catalog(catalog).load_table((namespace, name))
            return json.loads(table.metadata.model_dump_json(by_alias=True))
        except ImportError:
            raise IcebergError("pyiceberg is not installed: cannot read the catalog") from None
        except Exception as exc:  # noqa: BLE001 - pyiceberg raises many types; one line out
            raise IcebergError(
                f"cannot load {catalog}.{namespace}.{name} with pyiceberg: "
                f"{type(exc).__name__}: {exc}",
                hint="check pyiceberg's catalog configuration (~/.pyiceberg.yaml or "
                "PYICEBERG_CATALOG__* variables)",
            ) from None

    async def snapshots(self, table: str) -> dict[str, SnapshotFacts]:
        return parse_snapshots(table.lower(), await self.metadata(table))

    async def snapshot(self, table: str, snapshot_id: str) -> SnapshotFacts:
        found = (await self.snapshots(table)).get(str(snapshot_id))
        if found is None:
            raise IcebergError(
                f"snapshot {snapshot_id} is not in {table} (expired, or another table)"
            )
        return found

    async def change(self, table: str, a: str, b: str) -> SnapshotChange:
        return change_between(table.lower(), await self.snapshots(table), str(a), str(b))

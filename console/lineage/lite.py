"""Reading a DataHub Lite store (sqlite) directly, read-only, without importing datahub.

``import datahub`` costs 2–3 s here, more than the whole 0.5 s budget for three hops, so the reader
speaks to the sqlite file itself. Schema assumptions (acryl-datahub 1.7, ``sql_backed_lite.py``),
held by tests against stores written by DataHub's own Lite writer:
- table ``metadata_aspect_v2(urn, aspect_name, version, metadata, system_metadata, createdon)``;
- ``version = 0`` is the latest value of an aspect, ``metadata`` its JSON (simplified structure);
- edges are not indexed: incoming edges are found by searching aspect JSON for the target URN.
Blocking sqlite calls run in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from console.errors import ConsoleError
from console.lineage import aspects as asp
from console.lineage.model import LineageProblem

TABLE = "metadata_aspect_v2"
_CHUNK = 500  # sqlite's default limit on bound parameters is far above this


class LineageStoreError(ConsoleError):
    """The lineage store cannot be read."""


class LiteSource:
    """A read-only view of one Lite store; safe to share between awaits (one lock)."""

    kind: Literal["lite"] = "lite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            raise LineageStoreError(
                f"no DataHub Lite store at {self.path}",
                hint="run `mlops-console demo` or `mlops-console lineage sync` first",
            )
        try:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            conn.execute(f"SELECT 1 FROM {TABLE} LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise LineageStoreError(
                f"cannot read the DataHub Lite store {self.path}: {exc}",
                hint="is it a DataHub Lite sqlite file? rebuild it: `mlops-console lineage sync`",
            ) from None
        self._conn = conn
        return conn

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        with self._lock:
            try:
                return self._connect().execute(sql, list(params)).fetchall()
            except sqlite3.Error as exc:
                raise LineageStoreError(f"reading {self.path} failed: {exc}") from None

    def fetch_sync(self, urns: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        names = list(asp.ASPECTS)
        for start in range(0, len(urns), _CHUNK):
            chunk = list(urns[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            aspect_marks = ",".join("?" * len(names))
            rows = self._query(
                f"SELECT urn, aspect_name, metadata FROM {TABLE} WHERE version = 0 "
                f"AND urn IN ({marks}) AND aspect_name IN ({aspect_marks})",
                chunk + names,
            )
            for urn, name, metadata in rows:
                out.setdefault(urn, {})[name] = _json(metadata)
        # an entity with only aspects we do not read still exists
        missing = [u for u in urns if u not in out]
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT DISTINCT urn FROM {TABLE} WHERE version = 0 AND urn IN ({marks})", chunk
            )
            for (urn,) in rows:
                out[urn] = {"_exists": {}}
        return out

    def incoming_sync(self, urn: str, relationships: Sequence[str]) -> list[tuple[str, str]]:
        names = sorted({a for r in relationships for a in asp.INCOMING_ASPECTS.get(r, ())})
        if not names:
            return []
        needle = json.dumps(urn)[1:-1]  # the URN as it appears inside the JSON text
        marks = ",".join("?" * len(names))
        rows = self._query(
            f"SELECT urn, aspect_name, metadata FROM {TABLE} WHERE version = 0 "
            f"AND aspect_name IN ({marks}) AND instr(metadata, ?) > 0",
            [*names, needle],
        )
        wanted = set(relationships)
        out: list[tuple[str, str]] = []
        for source, name, metadata in rows:
            for edge in asp.outgoing({name: _json(metadata)}):
                if edge.target == urn and edge.relationship in wanted:
                    pair = (source, edge.relationship)
                    if pair not in out:
                        out.append(pair)
        return out

    async def fetch(self, urns: Sequence[str]) -> dict[str, dict[str, Any]]:
        return await asyncio.to_thread(self.fetch_sync, list(urns))

    async def incoming(self, urn: str, relationships: Sequence[str]) -> list[tuple[str, str]]:
        return await asyncio.to_thread(self.incoming_sync, urn, list(relationships))

    def take_problems(self) -> list[LineageProblem]:
        return []

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _json(text: str | bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}

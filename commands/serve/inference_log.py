"""The inference log: every scored row appended to the Iceberg table ``lake.ml.inference_log``.

Rows are buffered in memory and committed in batches by a background thread (every
``flush_seconds`` and on shutdown), so a busy service makes a few Iceberg commits rather than one
per request. Several services share the embedded catalog: a commit that loses the optimistic
race (pyiceberg ``CommitFailedException``) is retried on the reloaded table. Runs inside the
predict service's process (pyiceberg, pyarrow).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

# the table's schema and its creation are the monitoring side's (one definition of the contract)
from commands.inference_log import arrow_schema, open_log

CATALOG = "lake"
COMMIT_ATTEMPTS = 8

log = logging.getLogger("mlops.serve.inference_log")


def open_catalog(home: Path):
    """The embedded catalog of a console home (the one the demo writes ``lake.git.commits`` to)."""
    from pyiceberg.catalog.sql import SqlCatalog

    catalog_db = home / "iceberg" / "catalog.db"
    warehouse = home / "iceberg" / "warehouse"
    catalog_db.parent.mkdir(parents=True, exist_ok=True)
    warehouse.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(
        CATALOG, uri=f"sqlite:///{catalog_db.resolve()}", warehouse=warehouse.resolve().as_uri()
    )


class InferenceLog:
    """A buffered appender; ``add`` never blocks on Iceberg, ``close`` flushes what is left."""

    def __init__(self, home: Path, flush_seconds: float = 2.0) -> None:
        self.home = home
        self.flush_seconds = flush_seconds
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._catalog = None
        self.committed = 0
        self.failed_batches = 0
        self.last_error: str | None = None

    def start(self) -> None:
        self._catalog = open_catalog(self.home)
        open_log(self._catalog)  # fail at start, not at the first flush
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self._thread.start()

    def add(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.extend(rows)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def flush(self) -> int:
        """Commit the buffered rows as one Iceberg append; the number of rows committed."""
        with self._flush_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                self._append(rows)
            except Exception as exc:  # noqa: BLE001 - keep serving; say why in the log
                self.failed_batches += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("inference log: %d rows not written: %s", len(rows), self.last_error)
                return 0
            self.committed += len(rows)
            return len(rows)

    def _append(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        from pyiceberg.exceptions import CommitFailedException

        batch = pa.Table.from_pylist(rows, schema=arrow_schema())
        for attempt in range(COMMIT_ATTEMPTS):
            table = open_log(self._catalog)
            assert table is not None  # created when missing
            try:
                table.append(batch)
                return
            except CommitFailedException:
                if attempt == COMMIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))  # another writer committed first: reload, retry

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout=10)
        self.flush()


def row(
    *,
    at: datetime,
    request_id: str,
    deployment: str,
    model: str,
    version: str,
    alias: str,
    inputs: str,
    outputs: str,
    latency_ms: float,
) -> dict[str, Any]:
    return {
        "time": at,
        "request_id": request_id,
        "deployment": deployment,
        "model": model,
        "version": version,
        "alias": alias,
        "inputs": inputs,
        "outputs": outputs,
        "latency_ms": latency_ms,
    }

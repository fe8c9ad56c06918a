"""The history store: timeline events, merged-source keys, webhook inbox and observed snapshots.

A thin typed layer over ``console.history.db`` (sqlite under the home). Events are stored as JSON
records; a record that no longer parses is reported in ``warnings`` and skipped, the others are
unaffected. Nothing secret is ever written here: events hold versions, aliases, stages, actor
names and audit ids only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from console.errors import ConsoleError
from console.history import db as history_db
from console.history.model import HistoryEvent


class HistoryError(ConsoleError):
    """The history database could not be read or written."""


class HistoryUnwritable(HistoryError):
    """The history database cannot be written (a read-only or full home): an environment error,
    with the exit code of an audit log that cannot be written."""

    exit_code = 6


class HistoryStore:
    """The history of one console home. Use as a context manager (closes the connection)."""

    def __init__(self, home: Path | str) -> None:
        self.home = Path(home)
        self.path = history_db.db_path(home)
        self.warnings: list[str] = []
        try:
            self.conn = history_db.connect(home, self.warnings)
        except OSError as exc:
            raise HistoryUnwritable(
                f"cannot write the registry history {self.path}: {exc.strerror or exc}",
                hint="check that the console home is writable and has free space",
            ) from None
        except sqlite3.Error as exc:
            raise HistoryError(
                f"cannot open the history database {self.path}: {exc}",
                hint="check that the console home is writable",
            ) from None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One writer at a time across processes (``BEGIN IMMEDIATE``)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- events --------------------------------------------------------------------------------

    def events(self, server: str, model: str) -> list[HistoryEvent]:
        """The model's events on ``server``, oldest first; unreadable records are skipped."""
        rows = self.conn.execute(
            "SELECT id, record FROM events WHERE server=? AND model=? ORDER BY time, seq",
            (server, model),
        ).fetchall()
        found: list[HistoryEvent] = []
        bad = 0
        for _id, record in rows:
            try:
                found.append(HistoryEvent.model_validate_json(record))
            except (ValidationError, ValueError):
                bad += 1
        if bad:
            self.warnings.append(
                f"{bad} corrupt history record{'s' if bad != 1 else ''} of {model} skipped "
                f"(in {self.path})"
            )
        return found

    def save(self, event: HistoryEvent) -> None:
        """Insert or replace ``event`` (matched by id)."""
        record = event.model_dump_json(by_alias=True)
        stamp = event.time.timestamp()
        updated = self.conn.execute(
            "UPDATE events SET time=?, record=? WHERE id=?", (stamp, record, event.id)
        ).rowcount
        if not updated:
            self.conn.execute(
                "INSERT INTO events (id, server, model, time, record) VALUES (?,?,?,?,?)",
                (event.id, event.server, event.model, stamp, record),
            )

    def delete(self, event_id: str) -> None:
        """Remove one event (an observation that later deliveries showed to be no change)."""
        self.conn.execute("DELETE FROM events WHERE id=?", (event_id,))
        self.conn.execute("UPDATE merged SET event_id=NULL WHERE event_id=?", (event_id,))

    # --- merged source records -----------------------------------------------------------------

    def merged(self, source_key: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM merged WHERE source_key=?", (source_key,)).fetchone()
        return row is not None

    def mark_merged(self, source_key: str, event_id: str | None) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO merged (source_key, event_id) VALUES (?,?)",
            (source_key, event_id),
        )

    # --- webhook inbox -------------------------------------------------------------------------

    def pending_deliveries(self) -> list[tuple[str, dict[str, Any] | None]]:
        """Unprocessed deliveries (id, fields or None when the row is unreadable), oldest first."""
        rows = self.conn.execute(
            "SELECT delivery_id, payload FROM inbox WHERE processed=0 ORDER BY received, rowid"
        ).fetchall()
        found: list[tuple[str, dict[str, Any] | None]] = []
        for delivery_id, payload in rows:
            try:
                data = json.loads(payload)
            except ValueError:
                data = None
            found.append((delivery_id, data if isinstance(data, dict) else None))
        return found

    def mark_delivered(self, delivery_id: str) -> None:
        self.conn.execute("UPDATE inbox SET processed=1 WHERE delivery_id=?", (delivery_id,))

    # --- observed snapshots --------------------------------------------------------------------

    def snapshot(self, server: str, model: str) -> tuple[datetime, dict[str, Any]] | None:
        row = self.conn.execute(
            "SELECT observed_at, state FROM snapshots WHERE server=? AND model=?",
            (server, model),
        ).fetchone()
        if row is None:
            return None
        try:
            state = json.loads(row[1])
        except ValueError:
            self.warnings.append(f"the last observed state of {model} was unreadable; ignored")
            return None
        return datetime.fromtimestamp(row[0], UTC), state

    def save_snapshot(self, server: str, model: str, at: datetime, state: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO snapshots (server, model, observed_at, state) VALUES (?,?,?,?)",
            (server, model, at.timestamp(), json.dumps(state, sort_keys=True)),
        )

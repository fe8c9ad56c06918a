"""The registry history database: ``<home>/history/history.db`` (sqlite, WAL, mode 0600, stdlib).

Shared by the webhook receiver (run by the embedded supervisor, which imports nothing but the
standard library) and the console's history store. It holds the timeline's events, which source
records were already merged, the raw webhook inbox and the last observed state of each model.
A database file sqlite cannot open is moved aside (``history.db.corrupt-<time>``), reported and
replaced by a fresh one: the audit log and the version tags refill it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time
from pathlib import Path

HISTORY_DIR = "history"
DB_FILE = "history.db"
BUSY_TIMEOUT_S = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    server TEXT NOT NULL,
    model TEXT NOT NULL,
    time REAL NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_model ON events (server, model, time);
CREATE TABLE IF NOT EXISTS merged (
    source_key TEXT PRIMARY KEY,
    event_id TEXT
);
CREATE TABLE IF NOT EXISTS inbox (
    delivery_id TEXT PRIMARY KEY,
    received REAL NOT NULL,
    payload TEXT NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS snapshots (
    server TEXT NOT NULL,
    model TEXT NOT NULL,
    observed_at REAL NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (server, model)
);
"""


def history_dir(home: Path | str) -> Path:
    return Path(home).expanduser() / HISTORY_DIR


def db_path(home: Path | str) -> Path:
    return history_dir(home) / DB_FILE


def private_dir(directory: Path) -> Path:
    """Create ``directory`` (mode 0700) if needed."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(directory, 0o700)
    return directory


def _create_private(path: Path) -> None:
    # sqlite gives the -wal and -shm files the mode of the database file, so 0600 covers all three
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        conn.execute("SELECT count(*) FROM events").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


def _writable(path: Path) -> bool:
    """Whether the database and its directory can be written (a read-only mount cannot)."""
    if not os.access(path.parent, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def connect(home: Path | str, notes: list[str] | None = None) -> sqlite3.Connection:
    """An open connection to the home's history database (autocommit; use ``BEGIN`` to group).

    A file that is not a usable sqlite database is moved aside and a note is appended to
    ``notes``; a fresh database replaces it.
    """
    path = db_path(home)
    private_dir(path.parent)
    if not path.exists():
        _create_private(path)
    try:
        return _open(path)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise
        if not _writable(path):
            # a read-only home is not a corrupt database: never move it aside
            raise OSError(errno.EROFS, f"it cannot be written ({exc})", str(path)) from None
        broken = str(exc)
    except sqlite3.DatabaseError as exc:
        broken = str(exc)
    aside = path.with_name(f"{DB_FILE}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    if notes is not None:
        notes.append(
            f"the history database was unreadable ({broken}); moved to {aside.name} and "
            "started afresh (console promotions are re-read from the audit log and version tags)"
        )
    _create_private(path)
    return _open(path)

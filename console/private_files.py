"""Files and directories under the console home, created private to the operator (0700 / 0600).

The home holds the MLflow database, server logs, transcripts and the audit log: nothing in it is
for other users of the machine. Stdlib only (the embedded supervisor imports it).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600
# for processes that create files we do not open ourselves (the MLflow server's sqlite database)
PRIVATE_UMASK = 0o077


def private_dir(path: Path | str) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten it if it already exists."""
    path = Path(path)
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for created in missing:  # mkdir's mode applies to the leaf only (and is masked by umask)
        with contextlib.suppress(OSError):
            os.chmod(created, DIR_MODE)
    with contextlib.suppress(OSError):
        os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path | str, mode: str = "ab") -> IO:
    """Open ``path`` for writing, created 0600 (an existing file is tightened to 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    with contextlib.suppress(OSError):
        os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, mode)


def write_private(path: Path | str, text: str) -> None:
    """Replace ``path`` atomically with ``text``, as a 0600 file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open_private(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def touch_private(path: Path | str) -> None:
    """Create ``path`` as 0600 if missing and set its modification time to now."""
    with open_private(path, "ab"):
        pass
    os.utime(path)

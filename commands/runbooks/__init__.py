"""Runbooks that run as commands: the file format, the step command registry and the engine.

``runbook_dirs`` says where runbooks live: the repository's ``runbooks/`` and, when set, the
directory in ``MLOPS_CONSOLE_RUNBOOKS``. Nothing heavy is imported here.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
ENV_DIR = "MLOPS_CONSOLE_RUNBOOKS"


def runbook_dirs() -> list[Path]:
    """Directories searched for ``*.md`` runbooks, the extra one first so it can override."""
    dirs = []
    extra = os.environ.get(ENV_DIR)
    if extra:
        dirs.append(Path(extra).expanduser())
    dirs.append(REPO_RUNBOOKS)
    return dirs

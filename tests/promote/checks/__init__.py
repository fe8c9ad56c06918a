"""Stand-in invariance modules, run by the gate as ``python -m tests.promote.checks.NAME``."""

import re
import tempfile
from pathlib import Path


def mark_path(model_uri: str) -> Path:
    """Where ``marker`` notes that it started for ``model_uri`` (models:/NAME/V)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_uri)
    return Path(tempfile.gettempdir()) / f"invariance-gate-started-{safe}"

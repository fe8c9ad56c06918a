"""`demo --tracking-uri` never prints the URL's password and fails fast on an unreachable server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_unreachable_demo_target_is_one_masked_line(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "--home",
            str(tmp_path / "home"),
            "--tracking-uri",
            "http://operator:PASSW0RD-xyz@127.0.0.1:1",
            "demo",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert time.monotonic() - started < 20  # before mlflow is imported, not after its retries
    assert "PASSW0RD-xyz" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot reach the MLflow server" in errors[0]
    assert "Traceback" not in done.stderr

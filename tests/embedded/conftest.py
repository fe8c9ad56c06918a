"""Fixtures for the embedded server tests: fast supervisor polling and a sure clean-up of homes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.embedded import lifecycle as embedded
from console.embedded.supervisor import POLL_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def fast_supervisor_poll() -> Iterator[None]:
    """Supervisors started by these tests check for idleness and a dead server every 0.3 s."""
    old = os.environ.get(POLL_ENV)
    os.environ[POLL_ENV] = "0.3"
    yield
    if old is None:
        os.environ.pop(POLL_ENV, None)
    else:
        os.environ[POLL_ENV] = old


def processes_of(home: Path) -> list[int]:
    """Pids of supervisors and MLflow servers started for ``home`` (found by their arguments)."""
    marker = str(home)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = entry.joinpath("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [a.decode("utf-8", "replace") for a in args]
        if any(marker in a for a in text) and any("mlflow" in a or "supervisor" in a for a in text):
            found.append(int(entry.name))
    return found


def cleanup_home(home: Path) -> None:
    """Stop the home's server through the API, then SIGKILL anything of ours that survived."""
    with contextlib.suppress(Exception):
        embedded.stop(home, timeout=15)
    for pid in processes_of(home):
        # MLflow servers lead their own process group (uvicorn is in it); supervisors are alone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def owned_home(home: Path) -> Iterator[Path]:
    """A home whose servers are always stopped afterwards, even when the test fails."""
    try:
        yield home
    finally:
        cleanup_home(home)


def run_cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )

"""Zoom through a real terminal: the console in tmux at 80×24 against a real MLflow server.

tmux runs ``python -m console`` with its own socket (``-L``), keys go in with ``send-keys`` and
the screen comes back with ``capture-pane -p``, as an operator over SSH would see it. Skipped only
when tmux is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.tui.conftest import seed

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """One tmux server and session of its own (never the operator's tmux)."""

    def __init__(self, width: int, height: int, command: str, env: dict[str, str]) -> None:
        self.socket = f"mlc-test-{uuid.uuid4().hex[:8]}"
        self.env = env
        self._tmux(
            "new-session", "-d", "-s", "console", "-x", str(width), "-y", str(height), command
        )

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "console")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", "console", key)
            time.sleep(0.3)

    def wait_for(self, text: str, within: float = 120.0) -> str:
        deadline = time.monotonic() + within
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.25)
        raise AssertionError(f"{text!r} not on screen within {within}s:\n{shown}")

    def close(self) -> None:
        self._tmux("kill-server")


@pytest.fixture
def terminal(mlflow_server, tmp_path):
    world = seed(mlflow_server.url, uuid.uuid4().hex[:8])
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "MLOPS_CONSOLE_HOME": str(tmp_path / "home"),
        "MLFLOW_TRACKING_URI": mlflow_server.url,
    }
    command = f"cd {ROOT} && exec {sys.executable} -m console"
    opened: list[Terminal] = []

    def start(width: int, height: int) -> Terminal:
        opened.append(Terminal(width, height, command, env))
        return opened[-1]

    yield world, start
    for term in opened:
        term.close()


def _lines(screen: str) -> list[str]:
    return screen.rstrip("\n").splitlines()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_zoom_in_a_real_terminal(terminal, size) -> None:
    world, start = terminal
    width, height = size
    term = start(width, height)
    term.wait_for("connected")
    term.wait_for(world.main_experiment)
    term.keys("2")  # the registry pane
    shown = term.wait_for(world.model)
    assert len(_lines(shown)) <= height
    term.keys("z")
    zoomed = term.wait_for("zoomed: Registry")
    assert "z or escape" in zoomed
    # the registry alone: the other panes' titles are gone, the models title spans the screen
    assert "Experiments" not in zoomed.split("zoomed: Registry", 1)[1]
    models_line = next(line for line in _lines(zoomed) if "Models" in line)
    assert len(models_line.rstrip()) > width // 2 or width == 80
    term.keys("z")
    back = term.wait_for("Experiments")
    assert "zoomed:" not in back
    if width >= 120:  # side by side again: all three pane titles on one screen
        assert "Lineage" in back and "Models" in back
    # Z zooms the detail strip; escape returns
    term.keys("Z")
    term.wait_for("zoomed: detail")
    term.keys("Escape")
    final = term.wait_for("Experiments")
    assert "zoomed:" not in final
    term.keys("q")

"""Driving the real ``mlops-console`` in a real terminal: tmux at a fixed size, keys sent with
``send-keys``, the screen read with ``capture-pane -p``.

Each ``Terminal`` uses its own tmux server (a private socket), so tests never touch anyone's
sessions; ``close`` kills that server only. Tests using it skip when tmux is not installed.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

CONSOLE = str(Path(sys.executable).with_name("mlops-console"))


# keys sent by their tmux names (anything else is sent as literal text)
KEY_NAMES = frozenset(
    {"Enter", "Escape", "Tab", "BTab", "Up", "Down", "Left", "Right", "Home", "End", "NPage",
     "PPage", "BSpace", "DC", "Space"}
)  # fmt: skip


def need_tmux() -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")


class Terminal:
    """One tmux session running one command at ``width``×``height``."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.socket = f"mlc-test-{uuid.uuid4().hex[:10]}"
        self.session = "console"

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )

    def start(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        # `env -i` makes the environment exactly `env`: a tmux server started from pytest hands
        # its panes COLUMNS=80 and LINES=24 (set at C level in this process, not in os.environ),
        # and a console that inherits them draws 80×24 in a 200×50 pane. The pane stays after
        # an exit so it can be read.
        command = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv])
        shell = f"{command}; echo; echo CONSOLE-EXITED $?; sleep 600"
        result = self._tmux(
            "new-session", "-d", "-s", self.session,
            "-x", str(self.width), "-y", str(self.height), shell,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    def send(self, *keys: str) -> None:
        """Keys as tmux names them (``Enter``, ``Escape``) or literal text (``-l``)."""
        for key in keys:
            if key in KEY_NAMES or (key.startswith(("C-", "M-")) and len(key) > 2):
                self._tmux("send-keys", "-t", self.session, key)
            else:
                self._tmux("send-keys", "-t", self.session, "-l", key)
            time.sleep(0.15)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session).stdout

    def lines(self) -> list[str]:
        return self.screen().split("\n")[: self.height]

    def wait_for(self, condition: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            if "CONSOLE-EXITED" in screen:
                break
            time.sleep(0.25)
        raise AssertionError(f"{what}: not on screen within {timeout:g} s\n{screen}")

    def close(self) -> None:
        self._tmux("kill-server")


def console_env(base: Path, **extra: str) -> dict[str, str]:
    """The isolated environment of the tests, for a console in tmux."""
    import os

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(base)),
        "TERM": "xterm-256color",
        "XDG_CONFIG_HOME": str(base / "xdg-config"),
        "XDG_DATA_HOME": str(base / "xdg-data"),
        "NO_COLOR": "1",
    }
    env.update(extra)
    return env

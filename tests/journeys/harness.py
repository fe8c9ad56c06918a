"""The journey harness: the installed ``mlops-console`` in a real terminal, driven as an operator
drives it, against a real stack.

Black-box by design: a journey sees the executable (the venv's ``bin/mlops-console``), the screen
(tmux ``capture-pane``) and the servers — it imports nothing of the console. State is set up and
checked afterwards with the CLI on the same home (``audit --json``, ``history M --json``,
``models --json``…).

``Journey.wait_for`` polls the screen until a text or regex shows; the timeouts are generous (a
loaded 2-core CI machine starts Python, Textual and MLflow slowly). A journey that fails prints the
last screen (in the assertion, and again in the test's teardown output).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.terminal.tmux import CONSOLE, Terminal, need_tmux

START_S = 240.0  # the console up and connected (the embedded server started, first requests)
DEMO_BUILD_S = 600.0  # the first start's demo build, on a loaded machine
STEP_S = 60.0  # one step: a key and what it shows
CLI_S = 300.0

Pattern = str | re.Pattern[str]


def flat(screen: str) -> str:
    """The screen as one line of words (text wraps and pads differently at each size)."""
    return " ".join(screen.split())


def toasts(screen: str) -> str:
    """The text of the toasts (Textual draws each with a ``▌`` left edge, over the panes): the
    part of each line right of that edge, joined — a toast wrapped over lines reads whole."""
    parts = [line.split("▌", 1)[1] for line in screen.split("\n") if "▌" in line]
    text = _FRAME.sub(" ", " ".join(parts))  # the panes' borders right of a toast
    return " ".join(text.split())


def readable(screen: str) -> str:
    """What an operator reads: the screen as words, then the toasts as words."""
    return f"{flat(screen)} ▌ {toasts(screen)}"


def header(screen: str) -> str:
    return screen.split("\n", 1)[0]


def _found(pattern: Pattern, text: str) -> bool:
    if isinstance(pattern, re.Pattern):
        return pattern.search(text) is not None or pattern.search(readable(text)) is not None
    return pattern in text or pattern in readable(text)


class Journey:
    """One operator at one terminal on one console home."""

    def __init__(self, base: Path, home: Path, width: int, height: int, **env: str) -> None:
        need_tmux()
        self.base, self.home = base, home
        self.width, self.height = width, height
        self.env = journey_env(base, **env)
        self.term = Terminal(width, height)
        self.started = False
        self.last_screen = ""
        self.log: list[str] = []  # what the operator did, for a failure report

    # --- the console in the terminal ------------------------------------------------------

    def start(self, *args: str) -> None:
        """``mlops-console --home HOME ARGS`` in the terminal."""
        self.term.start([CONSOLE, "--home", str(self.home), *args], self.env)
        self.started = True
        self.log.append(f"start mlops-console {' '.join(args)} at {self.width}x{self.height}")

    def press(self, *keys: str) -> None:
        """Keys as tmux names them (``Enter``, ``Escape``, ``Tab``, ``Up``…) or literal text."""
        self.log.append(f"press {' '.join(keys)}")
        self.term.send(*keys)

    def screen(self) -> str:
        self.last_screen = self.term.screen()
        return self.last_screen

    def styled(self) -> list[str]:
        """The screen's lines with their SGR escapes (``capture-pane -e``): to see a cursor."""
        out = self.term._tmux("capture-pane", "-p", "-e", "-t", self.term.session).stdout
        return out.split("\n")[: self.height]

    def wait_for(self, pattern: Pattern, timeout: float = STEP_S, *, where: str = "screen") -> str:
        """Poll until ``pattern`` (text or regex) shows — anywhere, or in the ``header`` line —
        and return the screen; fail with the last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.screen()
            part = header(screen) if where == "header" else screen
            if _found(pattern, part):
                return screen
            if "CONSOLE-EXITED" in screen or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        raise AssertionError(
            f"{_show(pattern)} not in the {where} within {timeout:g} s "
            f"({self.width}x{self.height}); steps: {self.log}\n--- last screen ---\n{screen}"
        )

    def wait_until_gone(self, pattern: Pattern, timeout: float = STEP_S) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if not _found(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{_show(pattern)} still on screen after {timeout:g} s\n{screen}"
                )
            time.sleep(0.3)

    def highlighted(self, text: str) -> bool:
        """Whether the row holding ``text`` has its own background (the cursor row) compared
        with the rows right below and above it."""
        plain = self.screen().split("\n")
        styled = self.styled()
        index = next((i for i, line in enumerate(plain) if text in line), None)
        if index is None or index >= len(styled):
            return False
        backgrounds = [_row_background(line) for line in styled]
        mine = backgrounds[index]
        neighbours = [
            backgrounds[j]
            for j in (index - 1, index + 1)
            if 0 <= j < len(plain) and plain[j].strip("┃│ ")
        ]
        return mine is not None and all(mine != other for other in neighbours)

    def close(self) -> None:
        if self.started:
            with contextlib.suppress(Exception):  # the report must not hide the failure
                self.screen()
        self.term.close()

    # --- the CLI on the same home ---------------------------------------------------------

    def cli(
        self, *args: str, check: bool = True, timeout: float = CLI_S
    ) -> subprocess.CompletedProcess[str]:
        """``mlops-console --home HOME ARGS`` as a subprocess, in the journey's environment."""
        self.log.append(f"cli {' '.join(args)}")
        return run_cli(self.home, self.env, args, check=check, timeout=timeout)

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args).stdout)

    def audit(self) -> Any:
        """``audit --json``: the audit record of the home."""
        return self.cli_json("audit", "--json")

    def history(self, model: str, *args: str) -> Any:
        """``history MODEL --json``: the registry history of a model, as the CLI reads it."""
        return self.cli_json("history", model, *args, "--json")

    def registry(self, model: str) -> Any:
        """``versions MODEL --json``: the model's aliases and versions."""
        return self.cli_json("versions", model, "--json")


def run_cli(
    home: Path, env: dict[str, str], args: Sequence[str], *, check: bool = True,
    timeout: float = CLI_S,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    result = subprocess.run(
        [CONSOLE, "--home", str(home), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"mlops-console {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
        )
    return result


def journey_env(base: Path, **extra: str) -> dict[str, str]:
    """An isolated environment: no operator config, no tracking URI unless given."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(base)),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(base / "xdg-config"),
        "XDG_DATA_HOME": str(base / "xdg-data"),
        "NO_COLOR": "1",
    }
    env.update(extra)
    return env


_FRAME = re.compile(r"[\u2500-\u259f]+")
_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _row_background(line: str) -> str | None:
    """The background of a table row: the first 256-colour background after the pane border."""
    for match in _SGR.finditer(line):
        codes = match.group(1).split(";")
        for i in range(len(codes) - 2):
            # skip the border's own colours at column 0
            if codes[i] == "48" and codes[i + 1] == "5" and match.start() > 0:
                return codes[i + 2]
        if "7" in codes and match.start() > 0:
            return "reverse"
    return None


def _show(pattern: Pattern) -> str:
    return f"/{pattern.pattern}/" if isinstance(pattern, re.Pattern) else repr(pattern)

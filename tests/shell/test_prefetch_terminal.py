"""The first-page helper in a real terminal (a pty running the CLI): what an operator sees and
what stays behind.

The first page arrives while the client is still starting; keys typed before the panes exist do
no harm; quitting while the helper still waits for a silent server leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import time
from pathlib import Path

from tests.support.servers import MlflowServer
from tests.support.terminal import Terminal, TerminalError


def _console(tmp_path: Path, url: str, cols: int = 80, rows: int = 24) -> Terminal:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "MLOPS_CONSOLE_HOME": str(tmp_path / "home"),
    }
    return Terminal(
        [sys.executable, "-m", "console", "--tracking-uri", url], env, cols=cols, rows=rows
    )


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def test_quitting_while_the_helper_waits_leaves_no_process(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    term = _console(tmp_path, url)
    try:
        term.wait_for(b"mlops-console", 60)
        assert len(_processes_naming(url)) == 2  # the console and its helper (a fork)
        term.press("q")
        assert term.proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 5
        while _processes_naming(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_naming(url) == []
    finally:
        term.close()
        silent.close()


def test_keys_typed_before_the_panes_do_no_harm(
    tmp_path: Path, mlflow_server: MlflowServer
) -> None:
    term = _console(tmp_path, mlflow_server.url)
    try:
        term.first_output(60)
        term.press(":/r?zxab")  # at once: before the panes exist, as a fast typist would
        term.wait_for(b"connected", 60)
        term.wait_for(re.compile(rb"Experiments \xc2\xb7 \d+"), 60)
        term.settle(1.0)
        term.check_alive()
        text = bytes(term.text)
        assert b"Traceback" not in text and b"crash" not in text.lower()
        term.press(":q\r")
        with contextlib.suppress(TerminalError):
            term.settle(10)
        assert term.proc.wait(timeout=30) == 0
    finally:
        term.close()

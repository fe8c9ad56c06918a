"""The console paints before it validates its settings, and a bad setting still ends it cleanly.

Run on a real pty: an invalid ``MLOPS_CONSOLE_REQUEST_TIMEOUT`` ends the console with exit 2 and
the same one-line error the subcommands give; valid settings reach the header (the target and
the connection state), here against a port where nothing answers.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from tests.support.terminal import Terminal, TerminalError


def _console(tmp_path: Path, **env_extra: str) -> Terminal:
    env = {**os.environ, "TERM": "xterm-256color", "MLOPS_CONSOLE_HOME": str(tmp_path / "home")}
    env.update(env_extra)
    argv = [sys.executable, "-m", "console", "--tracking-uri", "http://127.0.0.1:1"]
    return Terminal(argv, env, cols=80, rows=24)


def test_an_invalid_setting_ends_the_console_in_one_line(tmp_path: Path) -> None:
    term = _console(tmp_path, MLOPS_CONSOLE_REQUEST_TIMEOUT="abc")
    with contextlib.suppress(TerminalError):
        term.settle(60)  # until it exits
    assert term.proc.wait(timeout=30) == 2
    text = bytes(term.text).decode("utf-8", "replace")
    assert "mlops-console: error: invalid setting request_timeout='abc'" in text
    assert "Traceback" not in text


def test_valid_settings_reach_the_header(tmp_path: Path) -> None:
    term = _console(tmp_path)
    try:
        term.wait_for(b"mlops-console", 60)
        term.wait_for(b"127.0.0.1:1", 60)  # the target, from the settings read after the frame
        term.wait_for(b"unreachable since", 90)
    finally:
        term.close()

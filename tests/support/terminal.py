"""A real terminal for tests and benchmarks: a child process on a pty of a given size.

``Terminal`` records every byte the program writes (``raw``, for checks on what reaches the
terminal) and a de-styled copy (``text``, for waiting on what is drawn); ``press`` types keys.
Used by the terminal-safety sweep and ``benchmarks/bench_tui.py``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("mlflow", "pandas", "pyiceberg", "datahub", "sklearn", "pyarrow")
# strip escape sequences so text split by styling still matches
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]"
)


class TerminalError(AssertionError):
    """The program exited, or what was awaited never appeared (with the screen's tail)."""


class Terminal:
    """A child process on a pty; ``wait_for`` timestamps when its output first contains text."""

    def __init__(
        self, argv: list[str], env: dict[str, str], *, cols: int = 160, rows: int = 48
    ) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.raw = bytearray()
        self.text = bytearray()

    def read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self.check_alive()
                return
            self.raw += chunk
            # a de-styled copy of the recent output is enough: what we look for was just drawn
            self.text = bytearray(ANSI.sub(b"", bytes(self.raw[-262_144:])))

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = bytes(self.text[-1500:]).decode("utf-8", "replace")
            raise TerminalError(
                f"the program exited with {self.proc.returncode}; screen tail: {tail!r}"
            )

    def wait_for(self, needle: bytes | re.Pattern[bytes], timeout: float) -> float:
        """Seconds from launch until ``needle`` appears in the output."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            found = (
                needle.search(self.text) if isinstance(needle, re.Pattern) else needle in self.text
            )
            if found:
                return time.perf_counter() - self.started
            self.read(0.01)
        tail = bytes(self.text[-600:]).decode("utf-8", "replace")
        raise TerminalError(f"timed out waiting for {needle!r}; screen tail: {tail!r}")

    def settle(self, seconds: float) -> None:
        """Keep reading for ``seconds`` (what the program draws meanwhile is recorded)."""
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            self.read(0.02)

    def first_output(self, timeout: float) -> float:
        while not self.raw:
            self.read(timeout)
        return time.perf_counter() - self.started

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def rss_mb(self) -> float:
        """Resident memory of the program's process."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+)", status)
        return int(found.group(1)) / 1024 if found else 0.0

    def loaded_modules(self) -> set[str]:
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return {m for m in HEAVY if f"/site-packages/{m}/" in maps}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.press("q")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        os.close(self.master)

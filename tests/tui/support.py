"""Helpers for driving the console with Pilot: wait for a condition, read what a widget shows."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable

from rich.console import Console
from textual.pilot import Pilot
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot, within: float = 15.0) -> None:
    """Let workers finish — including the ones their results start — and the screen catch up."""
    deadline = time.monotonic() + within
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        # a worker an exclusive reload replaced is cancelled: the loop waits for its successor
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
        busy = any(w.is_running or w.state.name == "PENDING" for w in pilot.app.workers)
        quiet = 0 if busy else quiet + 1


def showing(app, kind: type) -> bool:
    """The app's screen is a ``kind`` whose widgets exist (a pushed screen composes later)."""
    return isinstance(app.screen, kind) and app.screen.is_mounted


async def wait_for(pilot: Pilot, condition: Callable[[], bool], within: float = 15.0) -> None:
    """Poll ``condition`` while the app runs; fail with a clear message on timeout."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"condition not met within {within}s")


def plain(renderable: object, width: int = 200) -> str:
    """What a renderable shows, as plain text (styles dropped)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def table_texts(table) -> list[str]:
    """Every cell of a DataTable as the text it renders."""
    return [
        plain(cell).rstrip("\n") for row in range(table.row_count) for cell in table.get_row_at(row)
    ]

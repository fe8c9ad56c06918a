"""The embedded demo build from the TUI: on the first start of an empty embedded home, run the
demo pipeline in its own process (it imports mlflow) and relay its progress to the status line.

A feature of the shell (``console.tui.shell``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from console.errors import EmbeddedError
from console.tui.jobs import Job

if TYPE_CHECKING:
    from console.tui.shell import Shell

DEMO_EXPERIMENT = "next-week-commits"
DEMO_MODULE = "commands.demo"


class DemoFeature:
    """Builds the demo once when the embedded server has no demo experiment."""

    def __init__(self, shell: Shell, *, enabled: bool, progress: Callable[[str], object]) -> None:
        self.shell = shell
        self.enabled = enabled
        # thread-safe: posts a progress message to the app
        self._progress = progress
        self.started = False

    def experiments_seen(self, experiments: list[Any]) -> None:
        """The first page of experiments arrived: build the demo if it is missing."""
        demo_missing = not any(e.name == DEMO_EXPERIMENT for e in experiments)
        if self.shell.settings.embedded and self.enabled and demo_missing:
            self.start()

    def retry_if_failed(self) -> None:
        if "demo" in self.shell.jobs.failed:
            self.started = False
            self.start()

    def start(self) -> None:
        uri = self.shell.tracking_uri
        if self.started or uri is None:
            return
        try:
            available = importlib.util.find_spec(f"{DEMO_MODULE}.__main__") is not None
        except ImportError:
            available = False
        if not available:
            return
        self.started = True
        self.shell.status("building the demo lifecycle…", ttl=None)

        def built(_: object) -> None:
            self.shell.status("demo built")
            self.shell.hooks.refresh()

        self.shell.run(
            Job(
                "demo",
                "building the demo lifecycle",
                partial(self._build, uri),
                built,
                retry=False,
                manual_retry=True,
            )
        )

    async def _build(self, uri: str) -> None:
        """Run the demo pipeline in its own process, relaying its progress."""
        from console.child_env import child_env

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            DEMO_MODULE,
            "--home",
            str(self.shell.settings.home),
            "--tracking-uri",
            uri,
            "--progress-jsonl",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(),  # allow-listed: no secret of the operator's shell
        )
        last_error: list[str] = []

        async def errors() -> None:
            assert proc.stderr is not None
            async for raw in proc.stderr:
                line = raw.decode("utf-8", errors="replace").strip()
                if line:
                    last_error[:] = [line]

        drain = asyncio.ensure_future(errors())
        failure = ""
        try:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                kind, text = progress_record(raw)
                if kind == "error":
                    failure = text
                elif text:
                    self._progress(f"demo: {text}")
            code = await proc.wait()
            await drain
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            raise
        if code != 0:
            detail = failure or (last_error[0] if last_error else "")
            raise EmbeddedError(
                f"the demo build failed (exit {code}): {detail}",
                hint="run `mlops-console demo` to see the whole output",
            )


def progress_record(raw: bytes) -> tuple[str, str]:
    """One line of the demo's JSON-lines protocol as (type, text to show)."""
    line = raw.decode("utf-8", errors="replace").strip()
    try:
        doc = json.loads(line)
    except ValueError:
        return "progress", line
    if not isinstance(doc, dict):
        return "progress", line
    kind = str(doc.get("type") or "progress")
    if kind == "result":
        return kind, "done"
    text = str(doc.get("message") or "")
    fraction = doc.get("fraction")
    if kind == "progress" and isinstance(fraction, int | float):
        text = f"{text} ({fraction:.0%})"
    elif kind == "warning":
        text = f"warning: {text}"
    return kind, text

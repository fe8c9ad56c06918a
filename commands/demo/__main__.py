"""``python -m commands.demo``: build the demo in a process of its own, streaming progress.

With ``--progress-jsonl`` every line on stdout is one JSON object: ``{"type": "progress",
"message", "fraction"}``, ``{"type": "warning", "message"}``, then ``{"type": "result",
"result": {...}}`` or ``{"type": "error", "message"}``. The TUI runs the demo this way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from commands.driver import TerminalDriver
from console.errors import ConsoleError


class JsonlDriver:
    """A driver writing one JSON object per line; confirmations are refused (nobody to ask)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.outputs: list[Any] = []

    def _send(self, record: dict[str, Any]) -> None:
        self.stream.write(json.dumps(record, ensure_ascii=True, default=str) + "\n")
        self.stream.flush()

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self._send({"type": "progress", "message": message, "fraction": fraction})

    def warn(self, message: str) -> None:
        self._send({"type": "warning", "message": message})

    def output(self, item: Any) -> None:
        self.outputs.append(item)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.demo", description=__doc__)
    parser.add_argument("--home", type=Path, required=True, help="the console home")
    parser.add_argument("--tracking-uri", help="MLflow server to fill (default: the embedded one)")
    parser.add_argument("--reset", action="store_true", help="delete and rebuild the demo")
    parser.add_argument("--progress-jsonl", action="store_true", help="JSON lines on stdout")
    parser.add_argument("--json", action="store_true", help="print the result as one document")
    args = parser.parse_args(argv)
    # the pipeline's libraries may print; keep our stdout for the protocol alone
    out = sys.stdout
    jsonl = JsonlDriver(out) if args.progress_jsonl else None
    driver = jsonl or TerminalDriver()
    try:
        from commands.demo.pipeline import build_demo
        from commands.demo.result import DemoPaths
        from commands.demo.target import resolve_target

        target = resolve_target(
            args.home.expanduser().absolute(), args.tracking_uri, progress=driver.progress
        )
        driver.progress(f"target: {target.description}")
        sys.stdout = sys.stderr
        result = build_demo(
            DemoPaths.for_home(args.home.expanduser().absolute()),
            target.tracking_uri,
            driver,
            reset=args.reset,
        )
    except ConsoleError as exc:
        sys.stdout = out
        if jsonl:
            jsonl._send({"type": "error", "message": str(exc)})
        else:
            print(f"demo: error: {exc}", file=sys.stderr)
        return exc.exit_code
    sys.stdout = out
    if jsonl:
        jsonl._send({"type": "result", "result": result.model_dump(mode="json")})
    elif args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(f"demo {result.status}: {result.model} champion v{result.champion_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

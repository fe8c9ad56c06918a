"""The driver: how a command talks to whoever runs it (TUI, CLI or runbook engine).

A command reports progress, shows output and asks for confirmation only through this object, so
it never needs to know whether a person is watching a terminal, a modal or a transcript. A driver
may also offer ``async override(plan) -> str | None``: the promotion flow then offers a plan that
only gates refused for an audited override (the TUI's form; the CLI's is ``--force --reason``).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Protocol, runtime_checkable

from console.safe_text import printable


@runtime_checkable
class Driver(Protocol):
    def progress(self, message: str, *, fraction: float | None = None) -> None:
        """Report what the command is doing now (``fraction`` in 0..1 when known)."""

    def warn(self, message: str) -> None:
        """Report something the operator should know that does not stop the command."""

    def output(self, item: Any) -> None:
        """Hand a structured result (a pydantic model or plain data) to the runner."""

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        """Ask for an explicit yes; with ``typed``, the operator must type that text."""
        ...


class QuietDriver:
    """A driver that records everything and confirms nothing (for tests and dry runs)."""

    def __init__(self, *, answer: bool = False) -> None:
        self.answer = answer
        self.messages: list[str] = []
        self.warnings: list[str] = []
        self.outputs: list[Any] = []
        self.prompts: list[str] = []

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.messages.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def output(self, item: Any) -> None:
        self.outputs.append(item)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        self.prompts.append(prompt)
        return self.answer


class TerminalDriver:
    """The CLI's driver: progress on stderr, confirmation on the terminal or ``--yes``."""

    def __init__(self, *, assume_yes: bool = False, quiet: bool = False) -> None:
        self.assume_yes = assume_yes
        self.quiet = quiet
        self.outputs: list[Any] = []

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        if self.quiet:
            return
        pct = f"[{fraction * 100:3.0f}%] " if fraction is not None else ""
        print(f"{pct}{printable(message)}", file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {printable(message)}", file=sys.stderr, flush=True)

    def output(self, item: Any) -> None:
        self.outputs.append(item)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        if self.assume_yes:
            return True
        if not sys.stdin.isatty():
            print(
                f"{printable(prompt)}\nrefused: no terminal to confirm on; pass --yes to confirm",
                file=sys.stderr,
            )
            return False
        print(printable(prompt, keep_newlines=True), file=sys.stderr)
        question = f"type {printable(typed)} to confirm: " if typed else "proceed? [y/N] "
        try:
            # the CLI has nothing else to do while it waits for the operator
            answer = await asyncio.to_thread(input, question)
        except EOFError:
            return False
        if typed is not None:
            return answer.strip() == typed
        return answer.strip().lower() in {"y", "yes"}

"""The runbook runner screen: the steps and their state, the current step's explanation, live
output, confirmation prompts, and the transcript at the end.

The shell hands in the steps to show and a ``runner`` coroutine factory that takes a driver (the
engine's ``run_runbook`` bound to a runbook and settings); this module implements that driver
structurally and imports no commands or clients. Server and tool text is rendered literally.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, RichLog, Static
from textual.worker import Worker

from console.safe_text import printable
from widgets.key_footer import KeyFooter
from widgets.tables import NavTable
from widgets.text import confirms, reflow

MARKS = {
    "pending": "·",
    "running": "▶",
    "ok": "✔",
    "failed": "✘",
    "skipped": "–",
    "declined": "✋",
    "planned": "…",
    "refused": "⛔",
}


@dataclass(frozen=True)
class StepView:
    """What the screen shows of one step before it runs."""

    id: str
    title: str
    kind: str
    command: str
    explanation: str = ""


# --- messages (posted by the driver, thread-safe) ------------------------------------------------


class RunbookLine(Message):
    def __init__(self, text: str, warning: bool = False) -> None:
        super().__init__()
        self.text, self.warning = text, warning


class RunbookStepChanged(Message):
    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__()
        self.item = item


class RunbookFinished(Message):
    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__()
        self.item = item


# --- the confirmation prompt ---------------------------------------------------------------------


class RunbookConfirm(ModalScreen[bool]):
    """What the action will change; "No" has the focus; typed confirmations need the exact text."""

    DEFAULT_CSS = """
    RunbookConfirm { align: center middle; }
    RunbookConfirm > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                border: heavy $warning; background: $surface; padding: 0 1; }
    RunbookConfirm VerticalScroll { height: auto; max-height: 16; }
    RunbookConfirm Horizontal { height: auto; }
    RunbookConfirm Button { margin: 0 1 0 0; }
    RunbookConfirm Input > .input--placeholder { text-style: dim italic; }
    """
    BINDINGS = [
        Binding("escape", "answer(False)", "No"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "yes", "Yes", show=False),
    ]

    def __init__(self, prompt: str, typed: str | None = None) -> None:
        super().__init__()
        self.prompt, self.typed = prompt, typed

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(Text(printable(self.prompt, keep_newlines=True)), id="rb-prompt")
            if self.typed is not None:
                yield Label(Text(printable(f"type {self.typed} to confirm")))
                yield Input(
                    placeholder=printable(f"type {self.typed} to confirm"),
                    id="rb-typed",
                    select_on_focus=False,
                )
            with Horizontal():
                yield Button("No", id="rb-no", variant="primary")
                yield Button("Yes", id="rb-yes", variant="error", disabled=self.typed is not None)

    def on_mount(self) -> None:
        self.query_one("#rb-no", Button).focus()

    def _typed_ok(self) -> bool:
        return self.typed is None or confirms(self.query_one("#rb-typed", Input).value, self.typed)

    @on(Input.Changed, "#rb-typed")
    def _typing(self) -> None:
        self.query_one("#rb-yes", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#rb-typed")
    def _typed_enter(self) -> None:
        if self._typed_ok():
            self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "rb-yes" and self._typed_ok())

    def action_yes(self) -> None:
        if self.typed is None:
            self.dismiss(True)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


# --- the driver ---------------------------------------------------------------------------------


class ScreenDriver:
    """The engine's driver for this screen: messages for output, a modal for confirmation."""

    def __init__(self, screen: RunbookScreen) -> None:
        self.screen = screen

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.screen.post_message(RunbookLine(message))

    def warn(self, message: str) -> None:
        self.screen.post_message(RunbookLine(message, warning=True))

    def output(self, item: Any) -> None:
        if isinstance(item, dict) and item.get("event") == "step":
            self.screen.post_message(RunbookStepChanged(item))
        elif isinstance(item, dict) and item.get("event") == "finished":
            self.screen.post_message(RunbookFinished(item))

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(value: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(value))

        self.screen.app.push_screen(RunbookConfirm(prompt, typed), done)
        return await answer


# --- the screen ---------------------------------------------------------------------------------


Runner = Callable[[ScreenDriver], Awaitable[Any]]


class RunbookScreen(Screen[None]):
    """Runs one runbook; ``escape`` goes back once it has finished, ``x`` interrupts it."""

    DEFAULT_CSS = """
    RunbookScreen #rb-title { text-style: bold; padding: 0 1; }
    RunbookScreen #rb-steps { height: auto; max-height: 12; }
    RunbookScreen #rb-explanation { height: auto; max-height: 7; padding: 0 1;
                                    border-top: solid $accent; }
    RunbookScreen #rb-log { height: 1fr; border-top: solid $accent; }
    RunbookScreen #rb-transcript { height: 1fr; border-top: solid $success; display: none; }
    RunbookScreen.finished #rb-log { display: none; }
    RunbookScreen.finished #rb-transcript { display: block; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("x", "interrupt", "Interrupt"),
        Binding("l", "toggle_log", "Log/transcript"),
        Binding("enter", "step_text", "Step in full", id="runbook.step"),
    ]

    def __init__(
        self, title: str, steps: list[StepView], runner: Runner, *, dry_run: bool = False
    ) -> None:
        super().__init__()
        self.runbook_title = title
        self.steps = steps
        self.runner = runner
        self.dry_run = dry_run
        self.states: dict[str, str] = {s.id: "pending" for s in steps}
        self.status: str | None = None
        self.transcript_text: str = ""
        self._worker: Any = None
        self._leave_when_done = False  # escape came after the end, before the worker returned
        # the last update of each step (summary, findings, changes, error, advice, output)
        self.step_items: dict[str, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        mode = " (dry run)" if self.dry_run else ""
        yield Static(Text(printable(f"Runbook: {self.runbook_title}{mode}")), id="rb-title")
        yield NavTable(id="rb-steps")  # j/k/g/G like every other list
        yield Static(id="rb-explanation")
        yield RichLog(id="rb-log", markup=False, highlight=False, wrap=True)
        with VerticalScroll(id="rb-transcript"):
            yield Static(id="rb-transcript-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#rb-steps", DataTable)
        table.add_column("", key="state", width=2)
        table.add_column("#", key="n", width=2)
        table.add_column("kind", key="kind", width=6)
        table.add_column("step", key="title")
        for number, step in enumerate(self.steps, 1):
            # the marks and numbers are ours; a runbook file's text is never a markup cell
            table.add_row(
                MARKS["pending"],
                str(number),
                Text(printable(step.kind)),
                Text(printable(step.title)),
                key=step.id,
            )
        if self.steps:
            self._explain(self.steps[0])
        table.focus()
        self._worker = self._run()

    def _explain(self, step: StepView) -> None:
        text = Text(printable(step.title), style="bold")
        text.append(f"  [{step.kind}: {printable(step.command)}]\n", style="dim")
        text.append(printable(reflow(step.explanation), keep_newlines=True))
        self.query_one("#rb-explanation", Static).update(text)

    @work(exclusive=True, group="runbook", exit_on_error=False)
    async def _run(self) -> None:
        try:
            await self.runner(ScreenDriver(self))
        except asyncio.CancelledError:
            self._line("interrupted: b, this runbook, Resume continues where it stopped", True)
            raise
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never a traceback
            self._line(f"the runbook stopped: {type(exc).__name__}: {exc}", True)

    def _line(self, text: str, warning: bool = False) -> None:
        line = Text(printable(text), style="yellow" if warning else "")
        self.query_one("#rb-log", RichLog).write(line)

    @on(RunbookLine)
    def _on_line(self, message: RunbookLine) -> None:
        self._line(message.text, message.warning)

    @on(RunbookStepChanged)
    def _on_step(self, message: RunbookStepChanged) -> None:
        item = message.item
        step_id, state = str(item.get("id")), str(item.get("state"))
        if step_id not in self.states:
            return
        self.states[step_id] = state
        self.step_items[step_id] = item
        table = self.query_one("#rb-steps", DataTable)
        table.update_cell(step_id, "state", MARKS.get(state, "?"))
        step = next(s for s in self.steps if s.id == step_id)
        if state == "running":
            self._explain(step)
            table.move_cursor(row=self.steps.index(step))
            self._line(f"── {step.title}")
            return
        summary = item.get("summary") or ""
        self._line(f"{MARKS.get(state, '?')} {state}: {summary}", state == "failed")
        for key in ("findings", "changes"):
            for entry in item.get(key) or []:
                self._line(f"   {entry}")
        if item.get("error"):
            self._line(f"   error: {item['error']}", True)
        if state == "failed" and item.get("advice"):
            self._line(f"   what to do: {item['advice']}", True)

    @on(RunbookFinished)
    def _on_finished(self, message: RunbookFinished) -> None:
        self.status = str(message.item.get("status"))
        path = message.item.get("markdown")
        try:
            self.transcript_text = Path(str(path)).read_text(encoding="utf-8") if path else ""
        except OSError as exc:
            self.transcript_text = f"(transcript not readable: {exc.strerror})"
        header = f"{self.status} — transcript {path}\n\n"
        body = Text(printable(header + self.transcript_text, keep_newlines=True))
        self.query_one("#rb-transcript-body", Static).update(body)
        self.add_class("finished")

    @on(DataTable.RowHighlighted, "#rb-steps")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key is not None else None
        for step in self.steps:
            if step.id == key:
                self._explain(step)

    def step_text(self, step: StepView) -> str:
        """Everything known about one step, nothing cut: explanation, outcome, output."""
        item = self.step_items.get(step.id, {})
        lines = [f"{step.title}  [{step.kind}: {step.command}]", ""]
        if step.explanation:
            lines += [step.explanation, ""]
        lines.append(f"state: {self.states.get(step.id, 'pending')}")
        if item.get("summary"):
            lines.append(f"summary: {item['summary']}")
        for key in ("findings", "changes", "output"):
            if item.get(key):
                lines += ["", f"{key}:"] + [f"  {entry}" for entry in item[key]]
        for key in ("error", "advice"):
            if item.get(key):
                lines += ["", f"{key}: {item[key]}"]
        return "\n".join(lines)

    @on(DataTable.RowSelected, "#rb-steps")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_step_text()

    def action_step_text(self) -> None:
        from widgets.text_viewer import TextViewer

        table = self.query_one("#rb-steps", DataTable)
        if not self.steps or table.cursor_row >= len(self.steps):
            return
        step = self.steps[table.cursor_row]
        self.app.push_screen(TextViewer(f"Step {table.cursor_row + 1}", self.step_text(step)))

    def action_toggle_log(self) -> None:
        if self.status is not None:
            self.toggle_class("finished")

    def action_interrupt(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def action_back(self) -> None:
        if self._worker is not None and self._worker.is_running:
            if self.status is None:
                self.notify(
                    "the runbook is running: press x to interrupt it first", severity="warning"
                )
                return
            # finished and shown, the engine still closing its run (the transcript's last
            # write, the lease): leave as soon as it is done, not with a "still running" toast
            self._leave_when_done = True
            return
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and not self._worker.is_running and self._leave_when_done:
            self._leave_when_done = False
            self.dismiss(None)

"""The history screen of one model: its timeline, an alias filter, the state at an instant, undo.

Renders a ``console.history_model.Timeline`` handed to it (the shell reads it in a worker). Each
row is one event: time, kind, name, from → to, actor, source; a change the console only observed
takes two lines, the window it happened in (``start …`` / ``end``), so it is marked at 80 columns
too. ``/`` filters by alias, ``@`` or ``t`` asks for an instant and shows the state then (the
shell parses the time and folds the full timeline), ``u`` asks the shell to undo the highlighted
event (greyed out in read-only mode; pressing it says why). Every value is shown literally.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Static

from console.history.model import HistoryEvent, RegistryState, Timeline, UndoPlan
from console.promotion_model import promotion_blocked
from console.safe_text import printable
from widgets.help_screen import HelpScreen
from widgets.key_footer import KeyFooter
from widgets.prompt_bar import PromptInput
from widgets.tables import NavTable, event_key
from widgets.text import Cell, DataInput, literal

COLUMNS = ("time (UTC)", "kind", "name", "from → to", "actor", "source")
PROMPTS = {"alias": "alias:", "at": "at:"}
PLACEHOLDERS = {
    "alias": "show only this alias's changes (empty: every change)",
    "at": "an instant: 2026-03-01T14:00 (UTC), now, or an age such as 90m, 2h, 3d",
}

HELP = (
    "History of one model (alias and stage changes, version creations;\n"
    "oldest first)\n"
    "  j/k, arrows   move; the highlighted event is shown in full below\n"
    "  /             filter by alias (empty shows every change)\n"
    "  @ or t        the state at an instant (aliases, stages; whether it\n"
    "                rests on observation)\n"
    "  u             undo the highlighted change: plan, gates, confirmation,\n"
    "                verify, audit; refused if the alias or stage moved\n"
    "                since (the current state is shown)\n"
    "  r             read the history again (also observes the model now)\n"
    "  escape        back\n"
    "Sources\n"
    "  console       the audit log\n"
    "  webhook       the embedded server\n"
    "  tag           promotion tags on versions\n"
    "  observed      seen between two reads: the time is a window, the\n"
    "                actor unknown"
)


def stamp(at: datetime | None) -> str:
    if at is None:
        return "(first look)"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _side(event: HistoryEvent, value: str | None, *, left: bool) -> str:
    if event.kind == "alias":
        return f"v{value}" if value else ("absent" if left else "deleted")
    if event.kind == "stage":
        return value or "None"
    return "-" if left else f"v{value}"


def change(event: HistoryEvent) -> str:
    """``v1 → v2``, ``Staging → Production``, ``- → v3`` (created)."""
    text = f"{_side(event, event.from_, left=True)} → {_side(event, event.to, left=False)}"
    return text + (" (undo)" if event.undoes else "")


def event_details(event: HistoryEvent) -> Text:
    """The highlighted event in full, literally; an observed window explained."""
    text = Text()
    text.append(printable(event.describe(), limit=300), style="bold")
    text.append(printable(f"   id {event.id}", limit=100) + "\n")
    if event.uncertain:
        text.append(
            printable(
                f"observed, not reported: happened after {stamp(event.observed_after)} and "
                f"by {stamp(event.time)} UTC; actor unknown"
            )
            + "\n",
            style="yellow",
        )
    else:
        when = f"at {stamp(event.time)} UTC by {event.actor or 'unknown'}"
        text.append(printable(when, limit=300) + "\n")
    if event.unverified:
        text.append(
            "UNVERIFIED: from promotion tags no audit record of this home confirms (anyone may "
            "set them); actor, time and reason are claims; undo refuses it\n",
            style="bold red",
        )
    extra = [f"sources {'+'.join(event.sources or [event.source])}"]
    if event.reason:
        extra.append(f"reason {event.reason}")
    if event.audit_id:
        extra.append(f"audit {event.audit_id}")
    if event.undoes:
        extra.append(f"undoes {event.undoes}")
    text.append(printable(" · ".join(extra), limit=600))
    return text


def state_text(model: str, state: RegistryState) -> Text:
    """The answer to "what was true at T": aliases, stages and how sure it is."""
    text = Text()
    text.append(printable(f"{model} at {stamp(state.at)} UTC", limit=300), style="bold")
    aliases = ", ".join(f"{a} → v{v}" for a, v in sorted(state.aliases.items()))
    stages = "; ".join(f"{s}: {', '.join('v' + v for v in vs)}" for s, vs in state.stages.items())
    text.append("\n" + printable(f"  aliases: {aliases or 'none'}", limit=1000))
    text.append("\n" + printable(f"  stages:  {stages or 'none'}", limit=1000))
    if state.observed:
        text.append(
            "\n  rests on observation: this instant falls inside a window where a change was only"
            " observed, not reported; the answer may be off",
            style="bold yellow",
        )
    else:
        text.append("\n  rests on recorded events", style="dim")
    return text


class HistoryTable(NavTable):
    """The events of the timeline, one row each (two for an observed window)."""


class HistoryPrompt(Horizontal):
    """The one-line prompt of the screen (alias filter, instant); escape closes only it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        screen = self.screen
        if isinstance(screen, HistoryScreen):
            screen.close_prompt()


class UndoRefusedModal(ModalScreen[None]):
    """Why an undo was refused before any write, and what the target shows now."""

    DEFAULT_CSS = """
    UndoRefusedModal { align: center middle; }
    UndoRefusedModal > Static { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                border: heavy $error; background: $surface; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, plan: UndoPlan, message: str = "") -> None:
        super().__init__()
        self.plan, self.message = plan, message

    def compose(self) -> ComposeResult:
        plan = self.plan
        text = Text()
        text.append(printable(f"Undo of {plan.event.describe()}", limit=300) + "\n", style="bold")
        if plan.restores:
            text.append(printable(f"  would restore: {plan.restores}", limit=300) + "\n")
        if plan.current:
            text.append(
                printable(f"  current state: {plan.current}", limit=300) + "\n", style="bold"
            )
        text.append(
            "\n" + printable(f"REFUSED: {plan.refusal or self.message}", limit=600) + "\n",
            style="bold red",
        )
        text.append("nothing was written; the history shows the newer change. escape closes")
        yield Static(text, id="undo-refused")

    def action_close(self) -> None:
        self.dismiss(None)


class HistoryScreen(Screen[None]):
    """The timeline of ``model``; the shell fills it (``show``) and carries out undo and ``@``."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; text-style: bold; background: $boost; }
    HistoryScreen #history-notes { height: auto; max-height: 3; color: $warning; display: none; }
    HistoryScreen HistoryTable { height: 1fr; }
    HistoryScreen #history-detail { height: auto; max-height: 5; border-top: solid $accent; }
    HistoryScreen #history-state { height: auto; max-height: 6; display: none;
                                   border-top: solid $accent; }
    HistoryScreen #history-state.-shown { display: block; }
    HistoryScreen #history-prompt { height: 1; display: none; }
    HistoryScreen #history-prompt.-open { display: block; }
    HistoryScreen #history-prompt Label { width: auto; padding: 0 1 0 0; text-style: bold; }
    HistoryScreen #history-prompt Input { border: none; height: 1; padding: 0; width: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("u", "undo", "Undo", id="history.undo", tooltip="undo the highlighted change"),
        # priority: the keys typed right after them reach the prompt, not the table
        Binding(
            "slash", "prompt('alias')", "Alias", key_display="/", id="history.alias", priority=True
        ),
        Binding("at,t", "prompt('at')", "At time", key_display="@", id="history.at", priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]

    class UndoWanted(Message):
        """The operator asked to undo ``event`` (the shell runs the flow)."""

        def __init__(self, screen: HistoryScreen, event: HistoryEvent) -> None:
            super().__init__()
            self.screen, self.event = screen, event

    class AtWanted(Message):
        """The operator typed an instant: the shell parses it and calls ``show_state``."""

        def __init__(self, screen: HistoryScreen, text: str) -> None:
            super().__init__()
            self.screen, self.text = screen, text

    def __init__(self, model: str, *, read_only: bool = False) -> None:
        super().__init__()
        self.model_name = model
        self.read_only = read_only
        self.timeline: Timeline | None = None
        self.alias_filter: str | None = None
        self.state: RegistryState | None = None
        self._prompt_kind = "alias"
        self._pending: Timeline | str | None = None
        self._pending_state: RegistryState | None = None
        self._ready = False  # the table has its columns (``on_mount`` ran)
        self._busy = ""

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="history-title")
        yield Static(id="history-notes")
        yield HistoryTable(id="history-table")
        yield Static(Text("loading the history…"), id="history-detail")
        yield Static(id="history-state")
        with HistoryPrompt(id="history-prompt"):
            yield Label("alias:", id="history-prompt-label")
            yield PromptInput(id="history-prompt-input", select_on_focus=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.table
        table.add_column("time (UTC)", key="time")
        for name in COLUMNS[1:]:
            table.add_column(name, key=name)
        table.focus()
        self._ready = True
        pending, self._pending = self._pending, None
        if isinstance(pending, Timeline):
            self.show(pending)
        elif isinstance(pending, str):
            self.failed(pending)
        if self._pending_state is not None:
            self.show_state(self._pending_state)

    def _title(self) -> Text:
        title = f"History · {self.model_name}"
        if self.alias_filter:
            title += f" · alias {self.alias_filter}"
        if self.read_only:
            title += " · READ-ONLY"
        if self._busy:
            title += f" · {self._busy}"
        return literal(title, limit=200, style="bold")

    @property
    def table(self) -> HistoryTable:
        return self.query_one(HistoryTable)

    # --- filled by the shell ----------------------------------------------------------------

    def loading(self) -> None:  # pyright: ignore[reportIncompatibleVariableOverride]
        self.set_busy("reading…")

    def set_busy(self, text: str) -> None:
        self._busy = text
        if self._ready:
            self.query_one("#history-title", Static).update(self._title())

    def failed(self, message: str) -> None:
        if not self._ready:
            self._pending = message
            return
        self.set_busy("")
        body = Text("could not read the history: ", style="bold red")
        body.append_text(literal(message, limit=400))
        body.append("\nr retries, escape goes back.")
        self.query_one("#history-detail", Static).update(body)

    def show(self, timeline: Timeline) -> None:
        """Show ``timeline`` (keeping the highlighted event when it is still there)."""
        if not self._ready:
            self._pending = timeline
            return
        self.timeline = timeline
        self.set_busy("")
        notes = "\n".join(printable(w, limit=300) for w in timeline.warnings[:3])
        box = self.query_one("#history-notes", Static)
        box.update(Text(notes))
        box.display = bool(notes)
        self._fill()

    def visible_events(self) -> list[HistoryEvent]:
        if self.timeline is None:
            return []
        events = self.timeline.events
        if self.alias_filter:
            events = [e for e in events if e.kind == "alias" and e.name == self.alias_filter]
        return events

    def _fill(self) -> None:
        table = self.table
        keep = table.current_key
        table.clear()
        events = self.visible_events()
        for event in events:
            table.add_row(*self._cells(event), key=event.id, height=2 if event.uncertain else 1)
        detail = self.query_one("#history-detail", Static)
        if not events:
            what = f"of alias {self.alias_filter} " if self.alias_filter else ""
            detail.update(literal(f"no recorded changes {what}of {self.model_name}", limit=300))
            return
        # newest at the bottom (time order): start there, or where the cursor was
        if keep is None or not table.move_to_key(keep):
            table.move_cursor(row=table.row_count - 1, animate=False, scroll=True)
        self._detail(table.current_key)

    def _cells(self, event: HistoryEvent) -> list[object]:
        if event.uncertain:
            style = "yellow"
            # the window it happened in: after its start, by its end
            when = Text(f"{stamp(event.observed_after)} …\n{stamp(event.time)}", style)
            source = Text("observed\nwindow", style=style)
        else:
            when = Text(stamp(event.time))
            # the source whose account won; the detail line lists every source that saw it
            source = Cell(event.source, limit=20)
        if event.unverified:
            source = Text(f"{event.source} UNVERIFIED", style="bold red")
        name = event.name if event.kind != "stage" else f"v{event.version}"
        return [
            when,
            Cell(event.kind),
            Cell(name or "-", limit=24),
            Cell(change(event), limit=30),
            Cell(event.actor or "unknown", limit=24),
            source,
        ]

    def show_state(self, state: RegistryState) -> None:
        self.state = state
        if not self._ready:
            self._pending_state = state
            return
        panel = self.query_one("#history-state", Static)
        panel.update(state_text(self.model_name, state))
        panel.add_class("-shown")

    @property
    def current_event(self) -> HistoryEvent | None:
        key = self.table.current_key
        return next((e for e in self.visible_events() if e.id == key), None)

    def _detail(self, key: str | None) -> None:
        event = next((e for e in self.visible_events() if e.id == key), None)
        if event is not None:
            self.query_one("#history-detail", Static).update(event_details(event))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event_key(event))

    # --- keys -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            return None if self.read_only else True  # greyed in read-only mode
        # a field with the focus takes the key as text (the binding has priority)
        return not (action == "prompt" and isinstance(self.focused, Input))

    def key_u(self) -> bool:
        """Says why ``u`` is disabled in read-only mode.

        Textual calls a screen's ``key_u`` before it looks up the bindings, whether or not
        ``undo`` is enabled: out of read-only mode it must stay quiet (it once put a false
        "read-only mode" toast beside a working undo plan).
        """
        if not self.read_only:
            return False
        self.app.notify(
            promotion_blocked(True, None) or "read-only mode: undo is disabled",
            severity="warning",
            markup=False,
        )
        return True

    def action_undo(self) -> None:
        if self.read_only:
            self.key_u()
            return
        event = self.current_event
        if event is None:
            self.app.notify("no change to undo here", severity="warning", markup=False)
            return
        self.post_message(self.UndoWanted(self, event))

    def action_prompt(self, kind: str) -> None:
        self._prompt_kind = kind
        self.query_one("#history-prompt-label", Label).update(Text(PROMPTS[kind]))
        field = self.query_one("#history-prompt-input", DataInput)
        field.placeholder = PLACEHOLDERS[kind]
        if isinstance(field, PromptInput):
            field.enter_verb = "Filter" if kind == "alias" else "Show state"
        field.prefill((self.alias_filter or "") if kind == "alias" else "")
        self.query_one("#history-prompt").add_class("-open")
        if isinstance(field, PromptInput):
            field.return_to = self.table  # on enter, at once: keys typed after it reach the table
            field.take_focus()  # now: letters typed right after the key go into the field
        else:
            field.focus()

    def close_prompt(self) -> None:
        self.query_one("#history-prompt").remove_class("-open")
        self.table.focus()

    @on(Input.Submitted, "#history-prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close_prompt()
        real = self.query_one("#history-prompt-input", DataInput).data_value
        text = real if real != event.value else real.strip()
        if self._prompt_kind == "alias":
            self.alias_filter = text or None
            self.query_one("#history-title", Static).update(self._title())
            self._fill()
        elif text:
            self.post_message(self.AtWanted(self, text))

    def on_promotion_progress(self, message: Message) -> None:
        """Progress of an undo (its ``PromotionDriver`` posts here): shown in the title."""
        message.stop()
        text = str(getattr(message, "text", ""))
        self.set_busy(f"undo: {printable(text, limit=80)}")
        if getattr(message, "warning", False):
            self.app.notify(text, severity="warning", markup=False)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(HELP, "History"))


__all__ = ["HistoryScreen", "UndoRefusedModal", "change", "event_details", "state_text"]

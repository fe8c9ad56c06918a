"""The audit view: promotion and runbook records, newest first, filterable, each readable in full.

Renders ``console.audit.AuditRecord`` values handed to it (the shell reads the log in a worker).
Outcome and reason come first so they fit at 80 columns; a detail row under the table shows the
selected record's outcome, operator, change, reason and message wrapped; enter shows every field
(``TextViewer``). ``/`` filters by model, action and operator (``console.audit.AuditFilter``).
Every value is shown literally.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from console.audit import AuditFilter, AuditRecord, change_text
from console.safe_text import printable
from widgets.key_footer import KeyFooter
from widgets.prompt_bar import PromptInput
from widgets.tables import NavTable
from widgets.text import Cell, DataInput
from widgets.text_viewer import TextViewer

# outcome and reason first: they are what an operator reads at 80 columns
COLUMNS = (
    "at (UTC)",
    "outcome",
    "model",
    "ver",
    "reason",
    "action",
    "who",
    "target",
    "change",
)
FILTER_KEYS = {"model": "model", "action": "action_prefix", "operator": "actor", "who": "actor"}
FILTER_HINT = "model=NAME action=PREFIX operator=NAME (a bare word is a model); empty clears"


def _action(record: AuditRecord) -> str:
    return record.action.removeprefix("promote.")


def _reason(record: AuditRecord) -> str:
    why = record.reason or record.message or "-"
    return f"FORCED: {why}" if record.forced else why


def parse_filter(text: str) -> AuditFilter:
    """``model=m action=promote operator=alice`` (bare word: a model) → ``AuditFilter``.

    ValueError names an unknown key.
    """
    fields: dict[str, Any] = {}  # strings: AuditFilter parses them
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            key, value = "model", word
        if key not in FILTER_KEYS:
            known = ", ".join(k for k in FILTER_KEYS if k != "who")
            raise ValueError(f"unknown filter {key!r} (use {known})")
        if value:
            fields[FILTER_KEYS[key]] = value
    return AuditFilter(**fields)


def describe_filter(where: AuditFilter) -> str:
    parts = []
    if where.model:
        parts.append(f"model={where.model}")
    if where.action_prefix:
        parts.append(f"action={where.action_prefix}")
    if where.actor:
        parts.append(f"operator={where.actor}")
    return " ".join(parts)


def record_details(record: AuditRecord) -> Text:
    """Every field of a record, literally, one per line, nothing cut."""
    doc = record.model_dump(mode="json")
    text = Text()
    for key, value in doc.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=True)
        text.append(f"{key}: ", style="bold")
        text.append(printable(shown) + "\n")
    return text


def record_summary(record: AuditRecord) -> Text:
    """The detail row: outcome, operator and change on one line; reason and message wrapped."""
    text = Text()
    outcome = record.outcome + (" (forced)" if record.forced else "")
    text.append(outcome, style="bold red" if record.outcome != "succeeded" else "bold")
    text.append(printable(f" · {record.action} · {record.actor}"))
    if record.model:
        text.append(printable(f" · {record.model} v{record.version or '-'}"))
    if record.target:
        text.append(printable(f" · {record.target} {change_text(record)}"))
    text.append("\nreason: ", style="bold")
    text.append(printable(record.reason or "-", limit=600))
    if record.message:
        text.append("\nmessage: ", style="bold")
        text.append(printable(record.message, limit=600))
    text.append("\nenter: the whole record", style="dim")
    return text


class AuditScreen(Screen[None]):
    """A table of audit records (newest first); the selected one below; enter shows it whole."""

    DEFAULT_CSS = """
    AuditScreen #audit-title { height: 1; background: $panel; text-style: bold; }
    AuditScreen #audit-filter { display: none; }
    AuditScreen.-filtering #audit-filter { display: block; }
    AuditScreen DataTable { height: 1fr; }
    AuditScreen #audit-detail { height: auto; max-height: 8; border-top: solid $accent;
                                overflow-y: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),
        Binding("enter", "show_record", "Whole record", id="audit.record"),
        # priority: the keys typed right after `/` reach the field, not the table
        Binding("slash", "filter", "Filter", key_display="/", id="audit.filter", priority=True),
    ]

    def __init__(
        self, records: list[AuditRecord], *, path: str = "", unreadable_lines: int = 0
    ) -> None:
        super().__init__()
        self.all_records = list(reversed(records))
        self.records = list(self.all_records)
        self.where = AuditFilter()
        self.path, self.unreadable_lines = path, unreadable_lines

    def compose(self) -> ComposeResult:
        yield Static(id="audit-title")
        # tab stays in the field: letters typed after it must not run as keys of the list
        box = PromptInput(placeholder=FILTER_HINT, id="audit-filter")
        box.enter_verb = "Filter"
        yield box
        table = NavTable(id="audit-table")  # j/k/g/G like every other list
        table.zebra_stripes = True
        yield table
        yield Static(id="audit-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self._fill()
        self.query_one(DataTable).focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.records = [r for r in self.all_records if self.where.matches(r)]
        for record in self.records:
            table.add_row(
                Cell(record.at.strftime("%m-%d %H:%M")),
                Cell(record.outcome),
                Cell(record.model, limit=16),
                Cell(record.version),
                Cell(_reason(record), limit=60),
                Cell(_action(record), limit=24),
                Cell(record.actor.name, limit=24),
                Cell(record.target),
                Cell(change_text(record)),
                key=record.id,
            )
        title = f"Audit · {len(self.records)} of {len(self.all_records)} records, newest first"
        shown = describe_filter(self.where)
        title += f" · filter: {shown}" if shown else " · / filters"
        self.query_one("#audit-title", Static).update(Text(printable(title, limit=300)))
        detail = self.query_one("#audit-detail", Static)
        if not self.all_records:
            detail.update(Text(printable(f"no audit records in {self.path or 'the audit log'}")))
        elif not self.records:
            detail.update(Text("no record matches the filter (/ changes it)"))
        elif self.unreadable_lines:
            detail.update(Text(f"{self.unreadable_lines} unreadable line(s) skipped"))
        if self.records:
            table.move_cursor(row=0)
            detail.update(record_summary(self.records[0]))

    @property
    def current(self) -> AuditRecord | None:
        table = self.query_one(DataTable)
        if not self.records or table.cursor_row >= len(self.records):
            return None
        return self.records[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _show(self, event: DataTable.RowHighlighted) -> None:
        record = next((r for r in self.records if r.id == event.row_key.value), None)
        if record is not None:
            self.query_one("#audit-detail", Static).update(record_summary(record))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_show_record()

    def action_show_record(self) -> None:
        record = self.current
        if record is not None:
            self.app.push_screen(TextViewer(f"Audit record {record.id}", record_details(record)))

    # --- filter -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a field with the focus takes the key as text (the binding has priority)
        return not (action == "filter" and isinstance(self.focused, Input))

    def action_filter(self) -> None:
        box = self.query_one("#audit-filter", PromptInput)
        box.prefill(describe_filter(self.where))
        self.add_class("-filtering")
        box.return_to = self.query_one(DataTable)  # on enter, at once (keys typed after it)
        box.take_focus()  # now: letters typed right after `/` go into the field

    @on(Input.Submitted, "#audit-filter")
    def _filter_entered(self, event: Input.Submitted) -> None:
        try:
            self.where = parse_filter(self.query_one("#audit-filter", DataInput).data_value)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.remove_class("-filtering")
        self._fill()
        self.query_one(DataTable).focus()

    def action_close(self) -> None:
        if self.has_class("-filtering"):
            self.remove_class("-filtering")
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)

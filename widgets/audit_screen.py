"""The audit view: promotion and runbook records, newest first, with the selected one in full.

Renders ``console.audit.AuditRecord`` values handed to it (the shell reads the log in a worker);
every value is shown literally.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from console.audit import AuditRecord
from console.safe_text import printable
from widgets.text import Cell

COLUMNS = ("at (UTC)", "who", "action", "model", "version", "target", "outcome", "change")


def _change(record: AuditRecord) -> str:
    def holder(view: dict) -> str:
        if (record.target or "").startswith("alias:"):
            return f"v{view['alias_holder']}" if view.get("alias_holder") else "-"
        return ",".join(f"v{v}" for v in view.get("stage_holders") or []) or "-"

    if not record.before and not record.after:
        return "-"
    return f"{holder(record.before)} → {holder(record.after)}"


def record_details(record: AuditRecord) -> Text:
    """Every field of a record, literally, one per line."""
    doc = record.model_dump(mode="json")
    text = Text()
    for key, value in doc.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=True)
        text.append(f"{key}: ", style="bold")
        text.append(printable(shown, limit=2000) + "\n")
    return text


class AuditScreen(Screen[None]):
    """A table of audit records (newest first); enter or moving shows one in full."""

    DEFAULT_CSS = """
    AuditScreen DataTable { height: 1fr; }
    AuditScreen #audit-detail { height: auto; max-height: 12; border-top: solid $accent;
                                overflow-y: auto; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "close", "Back", show=False),
    ]

    def __init__(
        self, records: list[AuditRecord], *, path: str = "", unreadable_lines: int = 0
    ) -> None:
        super().__init__()
        self.records = list(reversed(records))
        self.path, self.unreadable_lines = path, unreadable_lines

    def compose(self) -> ComposeResult:
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="audit-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for record in self.records:
            outcome = record.outcome + (" (forced)" if record.forced else "")
            table.add_row(
                Cell(record.at.strftime("%Y-%m-%d %H:%M:%S")),
                Cell(record.actor.name),
                Cell(record.action),
                Cell(record.model),
                Cell(record.version),
                Cell(record.target),
                Cell(outcome),
                Cell(_change(record)),
                key=record.id,
            )
        detail = self.query_one("#audit-detail", Static)
        if not self.records:
            detail.update(Text(printable(f"no audit records in {self.path or 'the audit log'}")))
        elif self.unreadable_lines:
            detail.update(Text(f"{self.unreadable_lines} unreadable line(s) skipped"))
        table.focus()

    @on(DataTable.RowHighlighted)
    def _show(self, event: DataTable.RowHighlighted) -> None:
        record = next((r for r in self.records if r.id == event.row_key.value), None)
        if record is not None:
            self.query_one("#audit-detail", Static).update(record_details(record))

    def action_close(self) -> None:
        self.dismiss(None)

"""The lineage pane. Until the lineage issue fills it, it says plainly that lineage is not
configured and names what it would show for the current selection."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from widgets.text import literal

NOT_CONFIGURED = (
    "Lineage is not configured yet.\n\n"
    "This pane will show the data, code and jobs upstream and downstream of the selected "
    "model version (DataHub lineage)."
)


class LineagePane(VerticalScroll):
    """Pane 3: lineage of the selected version (placeholder until lineage is wired)."""

    HELP = (
        "Lineage\n"
        "  shows the lineage of the version selected in the registry pane\n"
        "  lineage is not available yet in this build"
    )

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")

    def compose(self) -> ComposeResult:
        yield Static(Text("Lineage"), classes="pane-title")
        yield Static(Text(NOT_CONFIGURED), id="lineage-body")

    def show_subject(self, model: str, version: str) -> None:
        """Say which selection the lineage would be for, and that it is not available."""
        body = Text(NOT_CONFIGURED)
        body.append("\n\nSelected: ")
        body.append_text(literal(f"{model} version {version}", limit=120))
        body.append(" — lineage not yet available for this selection.")
        self.query_one("#lineage-body", Static).update(body)

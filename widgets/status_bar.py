"""The top line: what the console is connected to, what it is doing, and the READ-ONLY badge."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.text import literal


class StatusBar(Static):
    """One line: ``mlops-console · <server> · <state>`` and, when set, a READ-ONLY badge."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; }
    """

    def __init__(self, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_only = read_only
        self.target = ""
        self.state = "starting…"

    def on_mount(self) -> None:
        self._paint()

    def set_target(self, target: str) -> None:
        self.target = target
        self._paint()

    def set_state(self, state: str) -> None:
        self.state = state
        self._paint()

    def _paint(self) -> None:
        line = Text()
        if self.read_only:
            # reverse video stays visible with NO_COLOR and on 16-colour terminals
            line.append(" READ-ONLY ", style="reverse bold")
            line.append(" ")
        line.append("mlops-console", style="bold")
        if self.target:
            line.append(" · ")
            line.append_text(literal(self.target, limit=80))
        if self.state:
            line.append(" · ")
            line.append_text(literal(self.state, limit=120))
        self.update(line)

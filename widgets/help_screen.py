"""Help for the focused pane or screen, plus the keys that work everywhere (``?`` and F1)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

GLOBAL_KEYS = (
    "Everywhere\n"
    "  tab, shift+tab  next / previous pane      1 2 3  jump to a pane\n"
    "  j/k, arrows     move                      g / G  top / bottom\n"
    "  enter           drill in                  escape back out\n"
    "  /               filter                    :      command line (:runs, :models,\n"
    "                                                   :experiment NAME, :model NAME,\n"
    "                                                   :run ID, :refresh, :help, :q)\n"
    "  r               refresh (and retry what failed)\n"
    "  ctrl+p          command palette           ? F1   this help\n"
    "  q               quit\n"
    "Reserved for coming features: a alias, s stage, m mark, c compare, b runbooks,\n"
    "l lineage direction, p provenance."
)


class HelpScreen(ModalScreen[None]):
    """A modal with the focused pane's help above the global keys; any of esc, q, ?, F1 closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 84; max-width: 100%; height: auto; max-height: 100%;
                                  border: heavy $accent; background: $surface; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "dismiss_help", "Close", show=True),
        Binding("q", "dismiss_help", "Close", show=False),
        Binding("question_mark", "dismiss_help", "Close", show=False),
        Binding("f1", "dismiss_help", "Close", show=False),
    ]

    def __init__(self, pane_help: str, title: str = "Help") -> None:
        super().__init__()
        self.pane_help = pane_help
        self.title_text = title

    def compose(self) -> ComposeResult:
        body = Text()
        body.append(self.title_text + "\n\n", style="bold")
        if self.pane_help:
            body.append(self.pane_help + "\n\n")
        body.append(GLOBAL_KEYS)
        with VerticalScroll():
            yield Static(body, id="help-body")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

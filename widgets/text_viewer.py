"""The whole text of something a table or a line had to cut short, in a scrollable modal.

Any screen pushes ``TextViewer(title, text)`` for a truncated cause, gate, step or audit record;
the text is shown literally (newlines kept, control characters made visible), wrapped to the
terminal's width, never cut. Escape, q or enter close it.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.safe_text import printable

# far beyond anything an operator reads, but a bound, so a hostile value cannot flood the screen
VIEWER_LIMIT = 200_000


class ViewerBody(VerticalScroll):
    """The scrollable text; j/k scroll like the arrows, g/G go to the top and the bottom."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]
    can_focus = True


class TextViewer(ModalScreen[None]):
    """A title, the full text, and how to close it."""

    DEFAULT_CSS = """
    TextViewer { align: center middle; }
    TextViewer > Vertical { width: 100; max-width: 100%; height: auto; max-height: 100%;
                            border: heavy $accent; background: $surface; padding: 0 1; }
    TextViewer #viewer-title { text-style: bold; }
    TextViewer ViewerBody { height: auto; max-height: 80vh; }
    TextViewer #viewer-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, title: str, text: str | Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = (
            text
            if isinstance(text, Text)
            else Text(printable(text, limit=VIEWER_LIMIT, keep_newlines=True))
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(self.title_text, limit=200)), id="viewer-title")
            with ViewerBody(id="viewer-body"):
                yield Static(self.body, id="viewer-text")
            yield Static("escape closes · arrows, j/k, page up/down scroll", id="viewer-hint")

    def on_mount(self) -> None:
        self.query_one(ViewerBody).focus()

    @property
    def plain(self) -> str:
        return self.body.plain

    def action_close(self) -> None:
        self.dismiss(None)

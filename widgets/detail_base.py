"""The shared frame of the detail screens (run, version, provenance, compare): title, scrollable
body, footer, calls held until mounted, and the loading / failed-with-retry-hint states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from widgets.help_screen import HelpScreen
from widgets.key_footer import KeyFooter
from widgets.messages import PromptSubmitted
from widgets.prompt_bar import PromptBar
from widgets.text import literal


class DetailBody(VerticalScroll):
    """The scrollable body of a detail screen, scrolled with j/k as well as the arrows.

    No ``g``/``G`` here: ``g`` is "go to run" on the version screen (home/end scroll instead).
    """

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]
    can_focus = True


class DetailScreen(Screen):
    """A title, a ``DetailBody`` holding ``#content``, the ``:`` prompt and a footer; subclasses
    add ``show``. A ``:`` command that acts on the panes returns to the main screen first.

    The shell may call ``loading``/``failed``/``show`` before the screen is composed, so each
    such call goes through ``_ready``: kept and replayed in order by ``on_mount``.
    """

    DEFAULT_CSS = """
    DetailScreen #title { height: 1; background: $panel; text-style: bold; }
    DetailScreen DetailBody { padding: 0 1; }
    """

    LOADING: ClassVar[str] = "loading…"
    """What ``loading()`` shows in the body."""
    FAILED: ClassVar[str] = "Could not load this: "
    """The start of the line ``failed()`` shows, before the server's message."""
    HELP: ClassVar[str] = ""  # pyright: ignore[reportIncompatibleVariableOverride]
    HELP_TITLE: ClassVar[str] = "Help"

    # priority: the keys typed right after `:` reach the prompt (see MainScreen)
    BINDINGS = [
        Binding("colon", "command_line", "Command", key_display=":", show=False, priority=True)
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # a field with the focus takes the key as text (the binding has priority)
        return not (action == "command_line" and isinstance(self.focused, Input))

    def __init__(self, title: str, title_limit: int = 150) -> None:
        super().__init__()
        self._title_text = title
        self._title_limit = title_limit
        self._pending: list[tuple[Callable[..., Any], tuple]] = []

    def compose(self) -> ComposeResult:
        yield Static(literal(self._title_text, limit=self._title_limit), id="title")
        yield from self.compose_header()
        with DetailBody(id="body"):
            yield Static(Text("loading…"), id="content")
        yield PromptBar(id="prompt")
        yield KeyFooter()

    def compose_header(self) -> ComposeResult:
        """Widgets between the title and the body (none by default)."""
        yield from ()

    def on_mount(self) -> None:
        self.query_one(DetailBody).focus()
        pending, self._pending = self._pending, []
        for method, args in pending:
            method(*args)

    def _ready(self, method: Callable[..., Any], *args: Any) -> bool:
        """False (and the call kept for ``on_mount``) when the screen is not composed yet."""
        if self.is_mounted:
            return True
        self._pending.append((method, args))
        return False

    def _set(self, renderable: Any) -> None:
        self.query_one("#content", Static).update(renderable)

    def loading(self) -> None:  # pyright: ignore[reportIncompatibleVariableOverride]
        if self._ready(self.loading):
            self._set(Text(self.LOADING))

    def failed(self, message: str) -> None:
        if not self._ready(self.failed, message):
            return
        body = Text(self.FAILED)
        body.append_text(literal(message, limit=400))
        body.append("\nescape goes back.")
        self._set(body)

    def action_back(self) -> None:
        self.dismiss()

    def action_command_line(self) -> None:
        self.query_one(PromptBar).open("command")  # focuses its field at once

    def on_prompt_submitted(self, message: PromptSubmitted) -> None:
        # focus back on the body, then the message bubbles on to the shell, which acts on it
        self.query_one(DetailBody).focus()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.HELP, self.HELP_TITLE))

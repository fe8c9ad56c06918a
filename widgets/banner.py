"""The failure banner: what failed and what to do, shown above the panes without blocking them."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.messages import RetryRequested
from widgets.text import literal


class Banner(Static):
    """Hidden until something fails; lists current failures, newest first. Click = retry."""

    DEFAULT_CSS = """
    Banner { display: none; height: auto; max-height: 4; background: $error 30%;
             color: $text; padding: 0 1; text-style: bold; }
    Banner.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.failures: dict[str, str] = {}

    def report(self, key: str, message: str) -> None:
        self.failures.pop(key, None)
        self.failures[key] = message
        self._paint()

    def clear(self, key: str) -> None:
        if self.failures.pop(key, None) is not None:
            self._paint()

    def clear_all(self) -> None:
        self.failures.clear()
        self._paint()

    def _paint(self) -> None:
        if not self.failures:
            self.remove_class("-shown")
            self.update("")
            return
        text = Text()
        for i, message in enumerate(reversed(self.failures.values())):
            if i:
                text.append("\n")
            text.append("! ")
            text.append_text(literal(message, limit=400))
        self.update(text)
        self.add_class("-shown")

    def on_click(self) -> None:
        self.post_message(RetryRequested())

"""Literal rendering of server strings: every value becomes a ``rich.text.Text`` with markup off.

Control and bidi characters are made visible by ``console.safe_text.printable`` and long values are
cut, so nothing a server sends can style, link, retitle or flood the terminal.
"""

from __future__ import annotations

from rich.text import Text

from console.safe_text import printable

# a table cell never shows more than this many characters of one value
CELL_LIMIT = 80


def literal(value: object, *, limit: int | None = CELL_LIMIT, style: str = "") -> Text:
    """``value`` as plain text (no markup, no control characters), cut at ``limit``."""
    if value is None:
        return Text("-", style="dim")
    return Text(printable(value, limit=limit), style=style, no_wrap=True, overflow="ellipsis")


def markup_safe(value: object, *, limit: int | None = 200) -> str:
    """``value`` for a surface that parses Textual markup (palette titles and help).

    Control and bidi characters become visible escapes (the CLI's sanitizer) and markup is
    escaped, so ``[@click=app.quit]`` or ``[/x]`` in a server name is shown, never acted on.
    """
    from textual.markup import escape

    from console.safe_text import safe_label

    return escape(safe_label(value, limit=limit or 10_000))


def literal_block(value: object, *, limit: int = 5000) -> Text:
    """Multi-line server text (descriptions): newlines kept, everything else literal."""
    return Text(printable(value, limit=limit, keep_newlines=True))


class Cell:
    """A table cell holding one plain string; rendered as literal ``Text`` only when drawn.

    DataTable renders a ``str`` cell as markup, so server text must never be passed as ``str``;
    this wrapper costs one small object per cell instead of a full ``Text``, which keeps thousands
    of paged rows cheap.
    """

    __slots__ = ("text",)

    def __init__(self, value: object, limit: int = CELL_LIMIT) -> None:
        text = "-" if value is None else printable(value)
        # a cell is cut short with a plain ellipsis; the detail views show the whole value
        self.text = text if len(text) <= limit else text[: limit - 1] + "…"

    def __rich__(self) -> Text:
        return Text(self.text, no_wrap=True, overflow="ellipsis")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Cell({self.text!r})"

"""Literal rendering of server strings: every value becomes a ``rich.text.Text`` with markup off.

Control and bidi characters are made visible by ``console.safe_text.printable`` and long values are
cut, so nothing a server sends can style, link, retitle or flood the terminal; the escapes the
console wrote are drawn in ``ESCAPE_STYLE``, so text that only looks like one (a typed
``\\u200b``) is told apart. Server text is never
escaped into markup (``textual.markup.escape`` misses ``[ @click=…]``): it is appended to ``Text``
or ``Content`` as plain segments. ``DataInput`` is the one ``Input`` server text may prefill: it
shows the sanitized text and gives back the real value while the operator has not edited it.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Input

from console.safe_text import printable, printable_spans

# a table cell never shows more than this many characters of one value
CELL_LIMIT = 80
# how an escape the console wrote is drawn (reverse video: visible with NO_COLOR and 16 colours)
ESCAPE_STYLE = "reverse"


def styled(
    value: object, *, limit: int | None = None, keep_newlines: bool = False, style: str = ""
) -> Text:
    """``value`` as plain ``Text``: escapes the console wrote (``\\x1b``, ``\\u200b``) drawn in
    ``ESCAPE_STYLE``, so a name holding the six characters ``\\u200b`` looks different from one
    holding a real U+200B."""
    shown, spans = printable_spans(value, limit=limit, keep_newlines=keep_newlines)
    text = Text(shown, style=style)
    for start, end in spans:
        text.stylize(ESCAPE_STYLE, start, end)
    return text


def literal(value: object, *, limit: int | None = CELL_LIMIT, style: str = "") -> Text:
    """``value`` as plain text (no markup, no control characters), cut at ``limit``."""
    if value is None:
        return Text("-", style="dim")
    text = styled(value, limit=limit, style=style)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def literal_block(value: object, *, limit: int = 5000) -> Text:
    """Multi-line server text (descriptions): newlines kept, everything else literal."""
    return styled(value, limit=limit, keep_newlines=True)


class Cell:
    """A table cell holding one plain string; rendered as literal ``Text`` only when drawn.

    DataTable renders a ``str`` cell as markup, so server text must never be passed as ``str``;
    this wrapper costs one small object per cell instead of a full ``Text``, which keeps thousands
    of paged rows cheap.
    """

    __slots__ = ("spans", "text")

    def __init__(self, value: object, limit: int = CELL_LIMIT) -> None:
        text, spans = ("-", []) if value is None else printable_spans(value)
        # a cell is cut short with a plain ellipsis; the detail views show the whole value
        if len(text) > limit:
            text = text[: limit - 1] + "…"
            spans = [(start, min(end, limit - 1)) for start, end in spans if start < limit - 1]
        self.text = text
        self.spans = spans or None  # most cells hold no escape: no list kept

    def __rich__(self) -> Text:
        text = Text(self.text, no_wrap=True, overflow="ellipsis")
        for start, end in self.spans or ():
            text.stylize(ESCAPE_STYLE, start, end)
        return text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Cell({self.text!r})"


def confirms(typed: str, expected: str) -> bool:
    """A typed confirmation matches ``expected``: as it is, or as the console shows it.

    A name holding a control character cannot be typed; the operator types what the screen
    shows (``printable``), and that counts.
    """
    return typed == expected or typed == printable(expected)


class DataInput(Input):
    """An ``Input`` that server text may prefill (and suggest): shown sanitized, read back real.

    The terminal draws an ``Input``'s value and suggestion as they are, so a model name holding
    ``\\x1b]52;…`` would write the clipboard; the field shows ``printable(value)`` instead.
    ``data_value`` is the real value while the field still shows a prefilled or suggested one
    unedited, and what the operator typed once they edit it.
    """

    def __init__(self, value: str = "", **kwargs: object) -> None:
        self._real: dict[str, str] = {}
        # focusing a field puts the cursor where it was: typing never replaces a whole value
        kwargs.setdefault("select_on_focus", False)
        super().__init__(value=self.shown(value) if value else "", **kwargs)  # type: ignore[arg-type]

    def shown(self, real: str) -> str:
        """What the field shows for ``real``; remembered, so ``data_value`` gives ``real`` back."""
        shown = printable(real)
        self._real[shown] = real
        return shown

    def prefill(self, real: str) -> None:
        self.value = self.shown(real) if real else ""
        self.cursor_position = len(self.value)

    @property
    def data_value(self) -> str:
        """The real value shown (unedited), else the text typed."""
        return self.real_value(self.value)

    def real_value(self, shown: str) -> str:
        """The real value behind ``shown`` (a value this field showed), else ``shown``."""
        return self._real.get(shown, shown)


# a line that starts a block of its own in Markdown prose: kept on its own line when reflowing
_BLOCK_START = re.compile(r"^\s*(?:[-*+] |\d+[.)] |#|>|\||```|~~~)|^\s{4,}|^\t")


def reflow(prose: str) -> str:
    """Markdown prose with each paragraph on one line, so the widget wraps it at its own width.

    Runbook sections are hard-wrapped at 100 columns in their files; shown as they are at 80
    columns, every line broke twice, mid-sentence. Lists, headings, quotes, tables and code keep
    their lines; a fenced block is kept whole.
    """
    out: list[str] = []
    fenced = False
    for line in prose.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            out.append(line)
            continue
        joinable = (
            not fenced
            and out
            and stripped
            and out[-1].strip()
            and not _BLOCK_START.match(line)
            and not out[-1].strip().startswith(("```", "~~~", "#", "|"))
        )
        if joinable and not _BLOCK_START.match(out[-1]):
            out[-1] = f"{out[-1].rstrip()} {stripped}"
        elif joinable and re.match(r"^\s*(?:[-*+] |\d+[.)] )", out[-1]):
            out[-1] = f"{out[-1].rstrip()} {stripped}"  # a list item's continuation line
        else:
            out.append(line)
    return "\n".join(out)

"""Make server-supplied strings safe to print on a terminal.

Server text is data: run names, tags, params and descriptions may hold escape sequences, bidi
overrides or markup. ``printable`` turns every control character into a visible escape so nothing a
server sends can move the cursor, retitle the terminal, hide text or reorder a line. Markup safety
is the renderer's job (the TUI wraps strings in ``rich.text.Text``); this module handles bytes that
would act on the terminal itself.
"""

from __future__ import annotations

import unicodedata

# Bidirectional embedding/override/isolate controls: they reorder what follows on the line.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(value: object, *, limit: int | None = None, keep_newlines: bool = False) -> str:
    """Return ``value`` as text with control and bidi characters shown as visible escapes.

    ``limit`` truncates long values (with a marker saying how much was cut) so one 10,000-character
    tag cannot flood the screen; ``keep_newlines`` keeps ``\\n`` for multi-line fields.
    """
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch == "\t":
            out.append("    " if keep_newlines else " ")
        elif ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            out.append(_escape(ch))
        else:
            out.append(ch)
    result = "".join(out)
    if limit is not None and len(result) > limit:
        cut = len(result) - limit
        result = f"{result[:limit]}… (+{cut} chars)"
    return result

"""Make server-supplied strings safe to print on a terminal or store in a human-readable file.

Server text is data: run names, tags, params and descriptions may hold escape sequences, bidi
overrides, markup or undecodable bytes. ``printable`` turns every control character into a visible
escape so nothing a server sends can move the cursor, retitle the terminal, write the clipboard
(OSC 52), hide text or reorder a line. ``safe_label`` is the one call for every TUI surface
(notifications, palette, titles, toasts, tooltips, header, footer): ``printable`` with a length
cap, to be wrapped in ``rich.text.Text`` (never parsed as markup). ``file_safe`` is the same rule
for text written into files under the console home (transcripts), keeping newlines.
"""

from __future__ import annotations

import unicodedata

# Bidirectional embedding/override/isolate/mark controls: they reorder what follows on the line.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Cc: C0 (ESC, BEL, ...), DEL and C1 (U+009B CSI, U+009D OSC, ...); Zl/Zp: line and paragraph
# separators that break a line on some terminals; Cs: lone surrogates, which is how Python carries
# undecodable bytes of argv and file names (printing one raises UnicodeEncodeError); Cf: format
# characters that draw nothing (zero-width space and joiners, BOM, soft hyphen, tag characters):
# `champion\u200b` must not look like `champion`. (This costs emoji ZWJ sequences their glyph.)
_ESCAPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs", "Cf"})

# the longest server string a TUI surface shows (a 10,000-character tag must not flood a screen)
LABEL_LIMIT = 200


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"  # as Python writes it


def _hidden(ch: str, keep_newlines: bool) -> bool:
    """``ch`` is written as an escape (tab and a kept newline are not)."""
    if ch == "\t" or (ch == "\n" and keep_newlines):
        return False
    return ch in _BIDI_CONTROLS or unicodedata.category(ch) in _ESCAPED_CATEGORIES


def printable_spans(
    value: object, *, limit: int | None = None, keep_newlines: bool = False
) -> tuple[str, list[tuple[int, int]]]:
    """``printable(value)`` and where in it the escapes the console wrote are (start, end).

    A server may send the six characters ``\\u200b`` itself; as text it looks exactly like the
    escape of a real U+200B. A surface that can style (the TUI) draws the spans returned here
    distinctly, so an escape the console wrote can be told from text that only looks like one.
    """
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    at = 0
    for ch in text:
        if ch == "\t":
            piece = "    " if keep_newlines else " "
        elif _hidden(ch, keep_newlines):
            piece = _escape(ch)
            spans.append((at, at + len(piece)))
        else:
            piece = ch
        out.append(piece)
        at += len(piece)
    result = "".join(out)
    if limit is not None and len(result) > limit:
        cut = len(result) - limit
        result = f"{result[:limit]}… (+{cut} chars)"
        spans = [(start, min(end, limit)) for start, end in spans if start < limit]
    return result, spans


def printable(value: object, *, limit: int | None = None, keep_newlines: bool = False) -> str:
    """Return ``value`` as text with control and bidi characters shown as visible escapes.

    ``limit`` truncates long values (with a marker saying how much was cut) so one 10,000-character
    tag cannot flood the screen; ``keep_newlines`` keeps ``\\n`` for multi-line fields. An escape
    introducer (ESC, U+009B) is never emitted raw, so no CSI or OSC sequence survives, whatever its
    terminator (BEL, ST, ESC ``\\``).

    The result is printable again unchanged (messages are built from sanitized parts and
    sanitized once more where they are printed), so a server's own backslash is left as it is:
    the TUI tells the console's escapes apart by style (``printable_spans``); ``--json`` output
    holds the exact value.
    """
    return printable_spans(value, limit=limit, keep_newlines=keep_newlines)[0]


def safe_label(value: object, *, limit: int = LABEL_LIMIT) -> str:
    """Server text for any TUI surface: one line, escapes visible, at most ``limit`` characters.

    The result holds no terminal control; it may still hold ``[`` and must therefore be shown as
    ``rich.text.Text`` (or with markup off), never interpolated into markup.
    """
    return printable(value, limit=limit)


def file_safe(value: object) -> str:
    """Server text for a human-readable file (``cat`` must not replay it): newlines kept."""
    return printable(value, keep_newlines=True)

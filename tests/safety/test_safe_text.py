"""The one sanitizer every surface uses: the issue-16 payload set leaves no terminal control."""

from __future__ import annotations

import pytest

from console.safe_text import LABEL_LIMIT, file_safe, printable, printable_spans, safe_label
from tests.support.hostile import PAYLOADS, terminal_control


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_safe_label_leaves_no_control(name: str) -> None:
    shown = safe_label(PAYLOADS[name])
    assert terminal_control(shown, allow_newlines=False) == []
    assert "\x1b" not in shown and "\u009b" not in shown
    assert len(shown) <= LABEL_LIMIT + len("… (+10000 chars)")
    shown.encode("utf-8")  # never raises: surrogates are escaped too


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_file_safe_keeps_lines_but_no_control(name: str) -> None:
    stored = file_safe(PAYLOADS[name] + "\nsecond line")
    assert terminal_control(stored) == []
    assert stored.endswith("\nsecond line")


def test_escapes_are_visible_and_huge_values_cut() -> None:
    assert safe_label("x\x1b]52;c;aGVsbG8=\x1b\\") == "x\\x1b]52;c;aGVsbG8=\\x1b\\"
    assert safe_label("x\u009b2J") == "x\\x9b2J"
    assert safe_label("a\u202eb") == "a\\u202eb"
    assert safe_label("bad\udcff") == "bad\\udcff"
    assert safe_label("A" * 10_000).endswith(f"… (+{10_000 - LABEL_LIMIT} chars)")
    # markup is left as text: the renderer must not parse it (rich.text.Text)
    assert safe_label("[bold]x[/bold]") == "[bold]x[/bold]"
    assert printable("a\tb") == "a b"


def test_characters_that_draw_nothing_are_shown() -> None:
    """Found in tmux: a run name's zero-width space reached the screen raw, invisible."""
    assert printable("champion\u200b") == "champion\\u200b"
    assert printable("\ufeffname") == "\\ufeffname"  # a BOM
    assert printable("pro\u00admotion") == "pro\\xadmotion"  # a soft hyphen
    assert printable("a\u2060b\U000e0041") == "a\\u2060b\\U000e0041"  # word joiner, tag "A"
    assert printable("naïve · café → ü") == "naïve · café → ü"  # visible text stays as it is


def test_a_typed_escape_is_told_apart_from_a_real_one() -> None:
    """Issue 20: the six characters ``\\u200b`` in a name looked like a real zero-width space.

    The text is the same (``printable`` stays idempotent: messages are sanitized where built and
    again where printed); the spans say which escapes the console wrote, and the TUI draws them
    in reverse video."""
    from widgets.text import ESCAPE_STYLE, Cell, literal, literal_block

    assert printable_spans("champion\u200b") == ("champion\\u200b", [(8, 14)])
    assert printable_spans("champion\\u200b") == ("champion\\u200b", [])
    assert printable_spans("a\x1bb\u202e", limit=4)[1] == [(1, 4)]  # cut with the text
    for name in sorted(PAYLOADS):
        once = printable(PAYLOADS[name])
        assert printable(once) == once  # a second pass changes nothing

    def reversed_parts(text) -> list[str]:
        return [text.plain[s.start : s.end] for s in text.spans if s.style == ESCAPE_STYLE]

    assert reversed_parts(literal("champion\u200b")) == ["\\u200b"]
    assert reversed_parts(literal("champion\\u200b")) == []
    assert reversed_parts(Cell("x\x1by").__rich__()) == ["\\x1b"]
    assert reversed_parts(Cell("x" * 100 + "\x1b").__rich__()) == []  # cut off
    assert reversed_parts(literal_block("a\nb\u200e")) == ["\\u200e"]

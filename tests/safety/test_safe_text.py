"""The one sanitizer every surface uses: the issue-16 payload set leaves no terminal control."""

from __future__ import annotations

import pytest

from console.safe_text import LABEL_LIMIT, file_safe, printable, safe_label
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


def test_a_typed_escape_is_not_mistaken_for_a_real_one() -> None:
    """Issue 20: the six characters ``\\u200b`` in a name looked like a real zero-width space."""
    assert printable("champion\u200b") == "champion\\u200b"
    assert printable("champion\\u200b") == "champion\\\\u200b"
    assert printable("x\\x1b]2;t") == "x\\\\x1b]2;t"
    assert printable("\\U0001f600") == "\\\\U0001f600"
    assert printable("a\\\\u") == "a\\\\\\\\u"  # each backslash before an escape letter
    assert printable("a\\\x1b") == "a\\\\\\x1b"  # a backslash, then a real ESC
    assert printable("a\\\x1b") != printable("a\\x1b")
    # any other backslash is shown as it is
    assert printable("C:\\dir\\file") == "C:\\dir\\file"
    assert printable("end\\") == "end\\"
    assert file_safe("line\\n\nnext") == "line\\n\nnext"  # \n is not an escape printable writes

"""The hostile-string payload set of issue 16: what a server may hold in any text field.

Markup (also with a leading space, issue 20), action links, CSI, OSC 52/0/2/8 with BEL and ST
terminators, C1 controls, DEL, bidi overrides, zero-width characters, NUL/CR/NL, undecodable
bytes, a typed ``\\u200b`` and a 10,000-character value. Used by every surface test (CLI, TUI,
files) so all of them are checked against the same set; ``terminal_control`` finds what must never
reach a terminal or a file raw.
"""

from __future__ import annotations

import re
import unicodedata

PAYLOADS: dict[str, str] = {
    "markup": "[bold red]styled[/bold red]",
    "action_link": "[@click=app.quit]CLICK[/]",
    "bad_close_tag": "[/nope]vanish",
    "csi_clear": "x\x1b[2J\x1b[Hcleared",
    "osc52_st": "x\x1b]52;c;aGVsbG8=\x1b\\",
    "osc52_bel": "x\x1b]52;c;aGVsbG8=\x07",
    "osc0_bel": "\x1b]0;PWNED\x07t",
    "osc2_st": "\x1b]2;PWNED\x1b\\t",
    "osc8_link": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "c1_csi": "x\u009b2Jy",
    "c1_osc": "x\u009d0;PWNED\u009cy",
    "del": "x\x7fy",
    "bidi": "abc\u202edcba\u202c\u2066i\u2069",
    "nul_bel_bs": "a\x00b\x07c\x08d",
    "line_separator": "a\u2028b\u2029c",
    "surrogate": "bad\udcff",
    "huge": "A" * 10_000,
    # issue 20: markup with a leading space (``textual.markup.escape`` leaves it alone and Textual
    # still acts on it), OSC 8 with BEL, OSC 2 + 52 with ST and with BEL (the runbook form's
    # name), CSI styling, zero-width, NUL/CR/NL, and a typed escape that looks like a real one
    "markup_space_click": "palm [ @click=app.quit]MQUIT",
    "markup_space_link": "[ link=http://evil.example]L[/]",
    "markup_space_reverse": "[ reverse]R",
    "osc8_bel": "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07",
    "osc2_osc52_st": "stmodel \x1b]2;STPWNTITLE\x1b\\\x1b]52;c;U1RQV05FRA==\x1b\\ end",
    "osc2_osc52_bel": "belmodel \x1b]2;BELTITLE\x07\x1b]52;c;QkVMUFdORUQ=\x07\x1b[2J end",
    "csi_sgr": "\x1b[31mred\x1b[0m\x1b[8mhidden",
    "c1_st": "x\u009d2;T\u009cy\u0085z",
    "zero_width": "champion\u200b\u200d\ufeff",
    "nul_cr_nl": "a\x00b\rc\nd",
    "typed_escape": "champion\\u200b",
}

# what each typed-escape payload must show: the backslash doubled, never a real escape's look
TYPED_ESCAPES = {"typed_escape": "champion\\\\u200b"}

# raw terminal controls: C0 except \n and \t, DEL, C1, bidi controls, separators, surrogates
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def terminal_control(text: str, *, allow_newlines: bool = True) -> list[str]:
    """The characters of ``text`` that would act on a terminal (empty when it is safe)."""
    bad = []
    for ch in text:
        if ch in "\n\t" and allow_newlines:
            continue
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs"):
            bad.append(ch)
    return bad


RAW_BYTES = re.compile(
    rb"[\x00-\x08\x0b-\x1f\x7f]"  # C0 (not \t \n) and DEL
    rb"|\xc2[\x80-\x9f]"  # C1, UTF-8 encoded
    rb"|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]"  # separators, bidi embeddings, isolates
)


def raw_control_bytes(data: bytes) -> list[bytes]:
    """Raw control sequences in a file's bytes (C0, DEL, UTF-8 encoded C1, bidi, separators)."""
    return RAW_BYTES.findall(data)

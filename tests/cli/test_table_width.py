"""CLI tables fit the terminal: on a terminal narrower than the table its widest column wraps
under itself (at 80 columns `audit` and `history` lines ran past the edge); a pipe keeps one
line per row."""

from __future__ import annotations

from console.cli._common import table

HEADERS = ["at (UTC)", "who", "action", "outcome", "reason / message"]
ROWS = [
    [
        "2026-12-07 14:03:22",
        "root",
        "promote.set_alias",
        "succeeded",
        "canary for the week, after the drift check of Monday showed the new weeks are fine",
    ],
    ["2026-12-07 14:07:03", "root", "promote.transition_stage", "refused", "short"],
]


def test_a_terminal_of_80_columns_wraps_the_widest_column(monkeypatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    table(ROWS, HEADERS, limit=200)
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    start = lines[0].index("reason / message")
    assert lines[1].startswith("2026-12-07 14:03:22") and lines[1][start:].startswith("canary")
    # the rest of the reason on continuation lines, under its column, the others blank
    assert lines[2][:start].strip() == "" and lines[2][start:].strip()
    text = " ".join(line[start:].strip() for line in lines[1:-1])
    assert text == ROWS[0][4]
    assert lines[-1].endswith("short")


def test_a_pipe_keeps_a_row_a_line(monkeypatch, capsys) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    table(ROWS, HEADERS, limit=200)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1].endswith("showed the new weeks are fine")


def test_too_narrow_to_wrap_stays_whole(monkeypatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    table(ROWS, HEADERS, limit=200)
    assert len(capsys.readouterr().out.splitlines()) == 3

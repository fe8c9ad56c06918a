"""Runbook prose on the runbook screen: a paragraph hard-wrapped in its file reads as one
paragraph at any width (at 80 columns it once broke twice per line, mid-sentence)."""

from __future__ import annotations

import itertools
from pathlib import Path

from commands.runbooks.catalog import list_runbooks, load_runbook
from tests.tui.support import plain
from widgets.text import reflow

ROOT = Path(__file__).resolve().parents[2]


def test_paragraphs_join_and_blocks_keep_their_lines() -> None:
    prose = "\n".join(
        [
            "The lineage of a model version has two sources",
            "that must agree.",
            "",
            "- an item that is long",
            "  and goes on",
            "- a second item",
            "",
            "```",
            "code one",
            "code two",
            "```",
            "| a | b |",
            "| c | d |",
        ]
    )
    assert reflow(prose).split("\n") == [
        "The lineage of a model version has two sources that must agree.",
        "",
        "- an item that is long and goes on",
        "- a second item",
        "",
        "```",
        "code one",
        "code two",
        "```",
        "| a | b |",
        "| c | d |",
    ]


def test_every_shipped_step_explanation_wraps_only_at_the_width() -> None:
    """Drawn 80 columns wide, no line of a step's explanation ends mid-sentence far short of
    the width (the sign of a hard newline from the file)."""
    from rich.text import Text

    checked = 0
    for entry in list_runbooks([ROOT / "runbooks"]):
        for step in load_runbook(entry.name, [ROOT / "runbooks"]).steps:
            lines = plain(Text(reflow(step.explanation)), width=80).rstrip("\n").split("\n")
            for line, following in itertools.pairwise(lines):
                starts_block = following.lstrip().startswith(("-", "*", "|", "`", "#")) or (
                    following[:1].isdigit()
                )
                if line.strip() and following.strip() and not starts_block:
                    # a wrapped line fills the width but for the word that did not fit
                    assert len(line.rstrip()) > 80 - 20, (step.id, line, following)
            checked += 1
    assert checked >= 10

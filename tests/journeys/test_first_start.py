"""Journey 1, the first start: an empty home, ``mlops-console``; the embedded server starts, the
demo builds with its progress on screen, and the console then lands on the experiment holding
the runs with a run row highlighted — no key pressed (issue 21, finding 5)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import DEMO_BUILD_S, START_S, header

DEMO = "next-week-commits"


@SIZES
def test_first_start(journey, tmp_path: Path, size: tuple[int, int]) -> None:
    op = journey(tmp_path / "home", *size)
    op.start()
    op.wait_for("connected", START_S, where="header")
    op.wait_for(re.compile(r"demo: |building the demo"), START_S)  # progress on screen
    # no key pressed: once built, the runs of the demo's experiment, not the empty Default
    # (the header's "demo built" fades after a few seconds: the landing is what is waited on)
    screen = op.wait_for(re.compile(rf"Runs · {DEMO} · \d+ loaded"), DEMO_BUILD_S)
    assert "Runs · Default" not in screen
    op.wait_for("grid-1-", 60)
    runs = [line for line in op.screen().split("\n") if "FINISHED" in line]
    assert len(runs) >= 5, op.last_screen
    first_run = runs[0].strip("┃│ ").split()[0]
    assert op.highlighted(first_run), f"no run row highlighted\n{op.last_screen}"
    assert "connected" in header(op.last_screen)
    # the CLI on the same home sees what the screen shows
    listed = op.cli("runs", DEMO).stdout
    assert "grid-1-" in listed

"""Journey 6, runbooks from ``b``: a dry run of the lineage runbook and of the retrain runbook
(each step says what it would do, nothing changes); a real run of the promotion-stuck runbook on a
registry where ``champion`` points at an archived version, declined at its repair step; then the
same runbook's form offers Resume, which continues that run after its two finished checks, and
the transcript says it was resumed."""

from __future__ import annotations

import re
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S, Journey

MODEL = "next-week-commits"
RUN_S = 300.0  # checks, and the repair plan's gates (invariance loads the models)


def _open(op: Journey, position: str, title: str) -> None:
    """``b``, the runbook at ``position`` of the chooser (keys), its form."""
    op.press("b")
    op.wait_for("Runbooks", 60)
    op.press(*position.split())
    op.press("Enter")
    op.wait_for(f"Runbook: {title}", 120)


@SIZES
def test_runbooks_dry_run_run_and_resume(journey, copy_demo_home: Path, size) -> None:
    op = journey(copy_demo_home, *size)
    # someone archived the champion's version: the alias now points at an archived version
    op.cli("promote", MODEL, "1", "--stage", "Archived", "--yes")
    op.start()
    op.wait_for("connected", START_S, where="header")

    # --- dry runs: what each step would do ---------------------------------------------------
    _open(op, "Home", "Lineage is broken on the MLflow side")
    op.press("Enter")  # enter in a field is the safe choice: a dry run
    op.wait_for("(dry run)", 60)
    op.wait_for("dry-run — transcript", RUN_S)
    op.press("Escape")
    _open(op, "End", "Retrain the champion on the newest data")
    op.press("Enter")
    op.wait_for("(dry run)", 60)
    screen = op.wait_for("dry-run — transcript", RUN_S)
    assert "has no value" not in screen  # later steps say what they would do (finding 2)
    op.press("Escape")

    # --- a real run, declined at its repair ---------------------------------------------------
    _open(op, "End Up", "A model promotion is stuck or pointing at the wrong thing")
    op.press("BTab", "BTab", "Enter")  # Run (Cancel is last)
    op.wait_for("Repair through the promotion flow — this will:", RUN_S)
    op.wait_for(re.compile(r"alias champion → v1"), 30)
    op.press("Escape")  # no
    op.wait_for("declined — transcript", 60)
    op.press("Escape")

    # --- resumed from the form ----------------------------------------------------------------
    _open(op, "End Up", "A model promotion is stuck or pointing at the wrong thing")
    op.wait_for(re.compile(r"interrupted: run \w+ of .* \(declined\) after 2 of 4"), 30)
    op.press("BTab", "BTab", "Enter")  # Resume (before Cancel)
    op.wait_for("Repair through the promotion flow — this will:", RUN_S)
    op.press("Escape")  # declined again: the run stays resumable, and says it was resumed
    op.wait_for("declined — transcript", 60)
    transcripts = sorted((op.home / "transcripts").glob("model-registry-promotion-stuck-*.md"))
    assert len(transcripts) == 1, transcripts  # one run, continued, not a second run
    text = transcripts[0].read_text()
    assert "- resumed: " in text and "## 1. Find what is wrong — ✔ ok" in text
    versions = {str(v["version"]): v for v in op.registry(MODEL)["versions"]}
    assert versions["1"]["current_stage"] == "Archived"  # nothing was repaired: declined twice
    assert op.registry(MODEL)["aliases"]["champion"] in ("1", 1)

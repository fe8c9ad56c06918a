"""Journey 4, the lifecycle loop: the champion deployed (CLI) shows in sync in ``D``; four weeks
of drifted traffic (``demo advance --weeks 4``, CLI) turn the deployments row and the monitoring
screen (``M``) to drift with a retrain suggestion; ``T`` runs the retrain runbook from there — a
challenger is trained on the newest snapshot, scored against the champion on the same held-out
rows, and promoted or honestly kept — and the loop ends in sync, with monitoring readable after.
Afterwards the registry holds the challenger, its run holds both scores on the same rows, and the
runbook ended in a decision (completed, exit 0 either way)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S, Journey

MODEL = "next-week-commits"
DEPLOY_S = 420.0  # a predict service loads the model (a minute on a loaded machine)
MONITOR_S = 300.0  # the monitor worker reads the snapshots and the inference log
RETRAIN_S = 900.0  # train, register, alias, probe, compare (and promote, roll out)


def _run_to_the_end(op: Journey) -> str:
    """Answer each step's confirmation (y; the model name where one must be typed) until the
    runbook has finished; return the last screen."""
    deadline = time.monotonic() + RETRAIN_S
    while time.monotonic() < deadline:
        screen = op.screen()
        flat = " ".join(screen.split())
        # the runner's log opens with "<status> — transcript <path>" (at 80×24 the transcript's
        # own status line is below the fold)
        finished = re.search(r"\b(completed|failed|interrupted|declined) — transcript", flat)
        if finished or "CONSOLE-EXITED" in flat:
            return screen
        if "type next-week-commits to confirm" in flat:
            op.press(MODEL, "Enter")
            time.sleep(2)
        elif "— this will:" in flat:
            op.press("y")
            time.sleep(2)
        else:
            time.sleep(1)
    raise AssertionError(f"the retrain runbook did not finish in {RETRAIN_S:g} s\n{op.screen()}")


@SIZES
def test_the_lifecycle_loop(journey, copy_demo_home: Path, size) -> None:
    op = journey(copy_demo_home, *size)
    op.cli("deploy", MODEL, "--alias", "champion", "--yes", timeout=DEPLOY_S)
    op.start()
    op.wait_for("connected", START_S, where="header")

    op.press("D")
    op.wait_for(re.compile(rf"{MODEL}\s+in sync\s+ok"), 120)
    op.cli("demo", "advance", "--weeks", "4")
    # the row turns to drift once the traffic is in (a check made before it is redone)
    op.wait_for(re.compile(r"DRIFT \d/\d+ RETRAIN"), MONITOR_S)

    op.press("M")
    op.wait_for(f"Monitoring · {MODEL}", 60)
    op.wait_for("RETRAIN SUGGESTED", MONITOR_S)
    op.wait_for(re.compile(r"drift share \d+% \(\d of \d features"), 30)

    op.press("T")  # the retrain runbook, its form filled for this deployment
    op.wait_for("Runbook: Retrain the champion on the newest data", 120)
    op.press("BTab", "BTab", "Enter")  # from the first field back to Run (Cancel is last)
    op.wait_for(re.compile(r"Find the newest snapshot"), 60)
    screen = _run_to_the_end(op)
    flat = " ".join(screen.split())
    assert "completed — transcript" in flat, screen

    # the decision, on the same rows: promoted, or the champion kept because it scores better
    versions = op.registry(MODEL)
    challenger = versions["aliases"].get("challenger")
    assert challenger is not None and int(challenger) >= 4, versions["aliases"]
    champion = versions["aliases"]["champion"]
    record = op.cli_json("provenance", MODEL, str(challenger), "--json")
    metrics = record["run"]["metrics"]  # both scores, on the same rows, on the new run
    assert "holdout_f1_macro" in metrics, metrics
    assert any(name.startswith("holdout_f1_macro.v") for name in metrics), metrics
    # the decision in words, in the run's transcript (at 80×24 the log shows its last lines)
    transcript = sorted((op.home / "transcripts").glob("model-retrain-*.md"))[-1].read_text()
    if str(champion) == str(challenger):
        assert "## 6. Promote the challenger — ✔ ok" in transcript, transcript
    else:
        assert re.search(r"keep champion v\d+: it scores better on the same rows", transcript)

    # back to the deployments: in sync again (rolled out, or nothing to roll out)
    op.press("Escape")
    op.press("Escape")
    op.wait_for(re.compile(rf"{MODEL}\s+in sync\s+ok"), DEPLOY_S)
    op.press("M")  # monitoring after the loop reads, and says what it could check
    op.wait_for(f"Monitoring · {MODEL}", 60)
    op.wait_for(re.compile(r"drift share"), MONITOR_S)

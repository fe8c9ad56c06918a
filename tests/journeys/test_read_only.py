"""Journey 7, read-only: ``mlops-console --read-only`` on the demo. Every mutating key is refused
at once, with the reason, before any gate or check runs; afterwards the registry and the audit
are what they were (the CLI on the same home says so)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S, Journey, readable

MODEL = "next-week-commits"
AT_ONCE_S = 15.0  # "at once" on a loaded machine: well before any gate could have run
REFUSED = re.compile(r"read-only mode: \w[\w ,]* (?:is|are) disabled")


def _registry(op: Journey) -> dict:
    listed = op.registry(MODEL)
    return {
        "aliases": listed["aliases"],
        "stages": {v["version"]: v["current_stage"] for v in listed["versions"]},
    }


def _events(op: Journey) -> list[tuple]:
    return [(e["kind"], e["name"], e["from"], e["to"]) for e in op.history(MODEL)]


def _on_the_versions(op: Journey) -> None:
    op.start("--read-only")
    op.wait_for("READ-ONLY", START_S, where="header")
    op.wait_for("connected", START_S, where="header")
    op.press("2")
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 60)
    op.press("Enter")  # from the model into its versions
    op.wait_for(re.compile(r"model next-week-commits\s+version 3"), 30)


def _refused_at_once(op: Journey) -> None:
    screen = op.wait_for(REFUSED, AT_ONCE_S)
    assert "run without --read-only" in readable(screen), screen
    # refused before anything began: no gate ran, no plan
    assert "gate" not in screen.lower(), screen


def _until_no_refusal(op: Journey, timeout: float = 60.0) -> None:
    """Wait for the last refusal's toast to expire. An expired toast stays drawn until
    something repaints its cells (seen at 80×24), so move the cursor down and back up."""
    deadline = time.monotonic() + timeout
    while REFUSED.search(readable(op.screen())):
        assert time.monotonic() < deadline, f"a refusal stays on screen\n{op.last_screen}"
        op.press("j", "k")
        time.sleep(1.0)


@SIZES
def test_read_only(journey, copy_demo_home: Path, size: tuple[int, int]) -> None:
    op = journey(copy_demo_home, *size)
    before = _registry(op)
    audit_before = op.audit()["records"]
    history_before = _events(op)
    _on_the_versions(op)
    for key in ("a", "s"):
        _until_no_refusal(op)  # the previous key's refusal has gone
        op.press(key)
        _refused_at_once(op)
    # u undoes an event of the version's history (h)
    _until_no_refusal(op)
    op.press("h")
    op.wait_for(re.compile(rf"History · {MODEL} · READ-ONLY"), 60)
    op.wait_for(re.compile(r"alias\s+champion\s+absent → v1"), 60)
    op.press("u")
    _refused_at_once(op)
    op.press("Escape")
    op.press("q")
    op.wait_for("CONSOLE-EXITED", 60)
    assert _registry(op) == before
    assert op.audit()["records"] == audit_before
    assert _events(op) == history_before  # no alias or stage event was added


def test_read_only_runbook_run(journey, copy_demo_home: Path) -> None:
    op = journey(copy_demo_home, 80, 24)
    audit_before = op.audit()["records"]
    op.start("--read-only")
    op.wait_for("connected", START_S, where="header")
    op.press("b")
    op.wait_for("lineage-broken-from-mlflow-side", 60)  # a runbook with 2 actions
    op.press("Enter")
    op.wait_for("Dry run", 30)
    op.press("Tab", "Tab", "Enter")  # from the field to Dry run, to Run; press it
    # the run screen, or a refusal (the form's own note says "checks run, actions are refused")
    screen = op.wait_for(
        re.compile(r"kind\s+step|read-only mode: (?!checks run)[^\n]*(?:refused|disabled)"),
        AT_ONCE_S,
    )
    assert not re.search(r"kind\s+step", screen), "the runbook started instead:\n" + screen
    assert op.audit()["records"] == audit_before

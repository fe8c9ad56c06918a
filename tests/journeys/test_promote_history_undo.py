"""Journey 3, promote, history, undo: in the registry, ``a`` on version 3 (the alias chooser, a
reason typed, the plan with its gates, ``y``) sets ``challenger``; ``h`` shows the event with the
operator's reason; ``u`` undoes it and history shows the undo. Then the same for ``s``: version 1
(``champion``, in Staging) to stage ``None`` with no reason — its event must not borrow the reason
of the alias promotion before it — and back with ``u``. Afterwards the registry, the audit and the
history, read with the CLI, hold what the operator did."""

from __future__ import annotations

import re
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S

MODEL = "next-week-commits"
REASON = "canary for the week"
STEP_S = 90.0  # a plan reads the registry and runs its gates (the ready gate only, here)


def _event_line(screen: str, pattern: str) -> str:
    """The history table's row matching ``pattern`` (a regex over the row's words)."""
    for line in screen.split("\n"):
        if re.search(pattern, " ".join(line.split())):
            return line
    raise AssertionError(f"no history row /{pattern}/ on screen\n{screen}")


@SIZES
def test_promote_history_and_undo(journey, copy_demo_home: Path, size) -> None:
    op = journey(copy_demo_home, *size)
    op.start()
    op.wait_for("connected", START_S, where="header")
    op.press("2")
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 60)
    op.press("Enter")  # into the versions: the cursor on the newest, version 3

    # --- a: the alias chooser, a reason, the plan, y ---------------------------------------
    op.press("a")
    op.wait_for(f"Alias for {MODEL} v3", STEP_S)
    op.press("Tab", "Tab")  # past the alias field to the reason
    op.press(REASON)
    op.press("BTab", "BTab", "Enter")  # back to the list: challenger, the first choice
    plan = op.wait_for(f"set alias challenger of {MODEL} to v3", STEP_S)
    assert re.search(r"PASS ready", plan), plan
    op.wait_for(f"reason: {REASON}", 30)
    op.press("y")
    op.wait_for(re.compile(r"3\s+@challenger"), STEP_S)
    assert op.registry(MODEL)["aliases"].get("challenger") in ("3", 3)

    # --- h: the event with the reason typed ------------------------------------------------
    op.press("h")
    screen = op.wait_for(re.compile(r"alias\s+challenger\s+absent → v3\s+root"), STEP_S)
    screen = op.wait_for(f"reason {REASON}", 30)  # the detail of the newest event

    # --- u: undo it; history shows the undo ------------------------------------------------
    op.press("u")
    op.wait_for("remove alias challenger (v3)", STEP_S)
    op.wait_for("undo of history event", 30)
    op.press("y")
    screen = op.wait_for(re.compile(r"challenger\s+v3 → deleted \(undo\)"), STEP_S)
    assert "read-only" not in screen  # no false toast beside a working undo (finding 9)
    assert "challenger" not in op.registry(MODEL)["aliases"]

    # --- s: version 1 to stage None, no reason; h; u ---------------------------------------
    op.press("Escape")
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 30)
    op.press("j", "j")  # down to version 1
    op.wait_for(re.compile(rf"model {MODEL}\s+version 1\b"), 30)  # (a toast may cover the rest)
    op.press("s")
    op.wait_for(f"Stage for {MODEL} v1", STEP_S)
    op.press("Enter")  # None, the first choice
    plan = op.wait_for(f"move v1 of {MODEL} to stage None", STEP_S)
    # stage None is no stage: the plan counts the versions in it (finding 10)
    op.wait_for(re.compile(r"before: v1 in stage Staging; 2 versions are in None"), 30)
    assert "no version holds None" not in plan
    op.press("y")
    op.wait_for(re.compile(r"1\s+@champion\s+None"), STEP_S)

    op.press("h")
    screen = op.wait_for(re.compile(r"stage\s+v1\s+Staging → None\s+root"), STEP_S)
    screen = op.wait_for(re.compile(r"v1 stage: Staging → None"), 30)  # its detail
    detail = screen.split("v1 stage: Staging → None", 1)[1]
    assert REASON not in detail, detail  # its own record has no reason (finding 8)
    op.press("u")
    op.wait_for(f"move v1 of {MODEL} to stage Staging", STEP_S)
    op.press("y")
    op.wait_for(re.compile(r"v1\s+None → Staging \(undo\)"), STEP_S)

    # --- afterwards: registry, audit, history ----------------------------------------------
    versions = {str(v["version"]): v for v in op.registry(MODEL)["versions"]}
    assert versions["1"]["current_stage"] == "Staging"
    records = [r for r in op.audit()["records"] if r.get("model") == MODEL]
    by_action = [(r["action"], r.get("target"), r.get("outcome")) for r in records]
    assert ("promote.set_alias", "alias:challenger", "succeeded") in by_action, by_action
    assert ("promote.remove_alias", "alias:challenger", "succeeded") in by_action, by_action
    assert ("promote.transition_stage", "stage:None", "succeeded") in by_action, by_action
    set_alias = next(r for r in records if r["action"] == "promote.set_alias")
    assert set_alias.get("reason") == REASON
    to_none = next(r for r in records if r.get("target") == "stage:None")
    assert to_none.get("reason") in (None, ""), to_none
    events = op.history(MODEL)
    undos = [e for e in events if e.get("undoes")]
    assert len(undos) == 2, events

"""Journey 5, rollback from the deployments view with a gate refusal: the champion was moved
from v3 to v1 and rolled out (CLI); ``B`` on the deployment goes back to the previously served
v3, whose metric gate fails against v1. The console shows the plan with its failing gate and
offers the override — a reason typed and the model name typed again — never a toast quoting CLI
flags; the override moves the alias back and the service reloads, and the audit holds the forced
promotion with the reason and the rollback."""

from __future__ import annotations

import re
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S

MODEL = "next-week-commits"
DEPLOY_S = 420.0
GATES_S = 300.0
REASON = "v1 misroutes the gateway repos"


@SIZES
def test_rollback_with_a_gate_refusal(journey, copy_demo_home: Path, size) -> None:
    op = journey(copy_demo_home, *size)
    # served history: v3 first, then v1 (v3 scores lower than v1 on its holdout metric)
    op.cli("promote", MODEL, "3", "--alias", "champion", "--force", "--reason", "setup", "--yes")
    op.cli("deploy", MODEL, "--alias", "champion", "--yes", timeout=DEPLOY_S)
    op.cli("promote", MODEL, "1", "--alias", "champion", "--yes", timeout=GATES_S)
    op.cli("deploy", "rollout", MODEL, "--yes", timeout=DEPLOY_S)

    op.start()
    op.wait_for("connected", START_S, where="header")
    op.press("D")
    op.wait_for(re.compile(rf"{MODEL}\s+in sync\s+ok\s.*?\bv1\s+v1\b"), 120)
    op.press("B")
    # refused by its metric gate: the plan and the override, in the console
    screen = op.wait_for(re.compile(r"Override failed gate\(s\) metric"), GATES_S)
    op.wait_for("Override", 30)
    assert "--force" not in screen and "--reason" not in screen and "--to" not in screen
    op.press("BTab", "BTab")  # from Close back to the reason
    op.press(REASON)
    op.press("Tab")
    op.press(MODEL, "Enter")  # the model name typed again: the override
    op.wait_for(re.compile(rf"{MODEL}\s+in sync\s+ok\s.*?\bv3\s+v3\b"), DEPLOY_S)

    assert op.registry(MODEL)["aliases"]["champion"] in ("3", 3)
    records = op.audit()["records"]
    forced = [r for r in records if r["action"] == "promote.set_alias" and r.get("forced")]
    assert forced and forced[-1]["reason"] == REASON and forced[-1]["version"] == "3", forced
    rollbacks = [r for r in records if r["action"] == "deploy.rollback"]
    assert rollbacks and rollbacks[-1]["outcome"] == "succeeded", rollbacks

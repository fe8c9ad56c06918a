"""Journey 9, the operator's own keys and the command line: a profile remaps the alias verb to
``A`` (``[profiles.NAME.keys]``); ``:`` ``mod`` Tab completes the command, ``next-week-c`` Tab the
model's name from the server, Enter goes there; on a version ``a`` does nothing (remapped) and
``A`` opens the alias chooser, which escape closes without a change; ``?`` shows ``A`` as the
alias key. Afterwards the registry and the audit are as they were."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S

MODEL = "next-week-commits"


@SIZES
def test_remapped_keys_and_tab_completion(journey, copy_demo_home: Path, size) -> None:
    config = copy_demo_home.parent / "config.toml"
    config.write_text('[profiles.mine.keys]\n"promote.alias" = "A"\n')
    op = journey(
        copy_demo_home, *size, MLOPS_CONSOLE_CONFIG=str(config), MLOPS_CONSOLE_PROFILE="mine"
    )
    before, audit_before = op.registry(MODEL)["aliases"], op.audit()["records"]
    op.start()
    op.wait_for("connected", START_S, where="header")
    op.wait_for(MODEL, 60)  # the registry has been read: its names complete

    # --- the command line: the command, then the model's name, completed on Tab ---------------
    op.press(":")
    op.press("mod")
    op.press("Tab")
    op.wait_for(re.compile(r"^: model\s*$", re.M), 15)
    op.press(" next-week-c")
    op.press("Tab")
    op.wait_for(re.compile(rf"^: model {MODEL}\s*$", re.M), 15)
    op.press("Enter")
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 60)
    op.press("Enter")  # into the versions: the cursor on version 3

    # --- the remapped key: a is free, A opens the chooser ------------------------------------
    op.press("a")
    time.sleep(2)
    assert f"Alias for {MODEL} v3" not in op.screen()
    op.press("A")
    op.wait_for(f"Alias for {MODEL} v3", 60)
    op.press("Escape")
    op.wait_until_gone(f"Alias for {MODEL} v3", 30)

    # --- the help says A ---------------------------------------------------------------------
    op.press("?")
    op.wait_for("Commands", 15)
    for _ in range(6):  # the commands block may be below the fold at 80x24
        if re.search(r"A\s+:alias", op.screen()):
            break
        op.press("NPage")
        time.sleep(0.5)
    assert re.search(r"A\s+:alias", op.screen()), op.last_screen
    assert not re.search(r"\ba\s+:alias", op.screen())
    op.press("Escape")

    assert op.registry(MODEL)["aliases"] == before
    assert op.audit()["records"] == audit_before

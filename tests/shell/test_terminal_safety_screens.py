"""Every detail screen of the real console on a registry whose every field is hostile.

The CLI sweep's registry (``tests/safety/test_cli_hostile_sweep.py``: payloads in experiment,
run and model names, run tags and params, descriptions, version tags, commit tags that are git
options, a repository whose config runs programs) on a server of this module's own; the console
runs on a pty and the operator walks the screens the terminal-safety sweep does not: the run
list and the run screen, the versions, marking two and comparing them, the provenance screen,
the version screen and its run, the lineage pane, the deployments view, the help and the audit
view. Every byte written is recorded: no payload's escape sequence, no hyperlink, no raw C1 or
bidi control; the console is still running at the end; git ran nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.safety.test_cli_hostile_sweep import FORBIDDEN, hostile_registry
from tests.support.terminal import ANSI, Terminal


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    with hostile_registry(tmp_path_factory.mktemp("screens")) as registry:
        yield registry


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_every_screen_keeps_hostile_data_inert(hostile, tmp_path: Path, size) -> None:
    server, _seeded, canary = hostile
    cols, rows = size
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.update({"TERM": "xterm-256color", "MLOPS_CONSOLE_HOME": str(tmp_path / "home")})
    env.pop("NO_COLOR", None)  # colours on: applied markup would show in the byte stream
    term = Terminal(
        [sys.executable, "-m", "console", "--tracking-uri", server.url], env, cols=cols, rows=rows
    )
    steps = [
        ("\r", 3),  # the landing experiment's runs
        ("\r", 3),  # the run screen: hostile name, tags, params, the commit tag
        ("\x1b", 1),
        ("2", 2),  # the registry pane
        ("\r", 3),  # the versions
        ("m", 1),
        ("j", 0.5),
        ("m", 1),
        ("c", 6),  # compare the two marked versions (their commit tags are git options)
        ("\x1b", 1),
        ("p", 6),  # provenance of the highlighted version
        ("\x1b", 1),
        ("j", 0.5),
        ("p", 6),  # provenance of v3: a real commit, in an armed repository
        ("\x1b", 1),
        ("\r", 3),  # the version screen
        ("g", 3),  # its run
        ("\x1b", 1),
        ("\x1b", 1),
        ("3", 3),  # the lineage pane
        ("D", 3),  # the deployments view
        ("\x1b", 1),
        ("?", 2),  # the help
        ("\x1b", 1),
        (":audit\r", 3),
        ("\x1b", 1),
    ]
    try:
        term.wait_for(b"connected", 180)
        term.wait_for(b"sweep", 120)  # the experiment is drawn
        for keys, settle in steps:
            term.press(keys)
            term.settle(settle)
            term.check_alive()  # no payload quit the console
    finally:
        term.close()
    raw = bytes(term.raw)
    leaked = [seq for seq in FORBIDDEN if seq in raw]
    assert not leaked, f"reached the terminal: {leaked}"
    assert b"\x1b]8;" not in raw  # no hyperlink at all
    assert b"\x1b]52;" not in raw
    assert "\u009b".encode() not in raw and "\u009d".encode() not in raw
    text = ANSI.sub(b"", raw)
    assert b"Traceback" not in text
    assert b"PWNED" in text  # the payloads were drawn (escaped), so they were checked
    # the walk reached the screens it names (not a console stuck on its first one)
    reached = [b"Compare \xc2\xb7 sweep", b"Provenance", b"eployments"]
    if cols >= 160:  # at 80 columns the gap's line is cut (v shows it whole)
        reached.append(b"not a git revision")
    for drawn in reached:
        assert drawn in text, drawn
    assert list(canary.iterdir()) == []  # git ran nothing from the armed repository

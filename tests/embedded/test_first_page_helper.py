"""The first-page helper on the embedded default (no tracking URI): it asks the embedded server
of the console's home when one runs there, and gives no page (and starts nothing) when none does.
"""

from __future__ import annotations

import time
from pathlib import Path

from console import prefetch
from console.overrides import CliOverrides
from tests.embedded.conftest import owned_home, processes_of, run_cli


def _answers(home: Path) -> prefetch.FirstPage:
    env = {"HOME": str(home.parent), "XDG_CONFIG_HOME": str(home.parent / "cfg")}
    first = prefetch.start(CliOverrides(home=str(home)), env)
    assert first is not None
    deadline = time.monotonic() + 60
    while not first.read_available():
        assert time.monotonic() < deadline, "the helper did not finish"
        time.sleep(0.02)
    first.close()
    return first


def test_the_helper_asks_the_homes_embedded_server_and_starts_none(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with owned_home(home):
        assert _answers(home).result() is None  # nothing runs: no page
        assert processes_of(home) == []  # and nothing was started

        started = run_cli(home, "embedded", "start")
        assert started.returncode == 0, started.stderr
        answers = _answers(home).result()
        assert answers is not None
        # a fresh embedded server: MLflow's Default experiment, no runs to land on
        assert [e.name for e in answers.experiments] == ["Default"]
        assert answers.landing is None and answers.runs.items == []

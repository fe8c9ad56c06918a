"""Two consoles starting at the same moment share one server, which stops itself when idle.

The home starts with a corrupt state file. Both processes ask for the server with a 4.8-second idle
limit; the supervisor (polling every 0.3 s in tests) must keep it while it is touched and stop it
(whole process group, state file removed) once nobody touches it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.embedded import lifecycle as embedded
from console.embedded.lifecycle import EmbeddedPaths
from console.embedded.procs import cmdline, is_alive
from tests.embedded.conftest import ROOT, owned_home, processes_of

IDLE_MINUTES = 0.08  # 4.8 s

_SCRIPT = """
import json, sys
from console.embedded.lifecycle import ensure_server
st = ensure_server(sys.argv[1], idle_minutes=float(sys.argv[2]), timeout=240)
print(json.dumps({"pid": st.pid, "port": st.port, "supervisor_pid": st.supervisor_pid}))
"""


@pytest.fixture(scope="module")
def raced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dict]]]:
    home = tmp_path_factory.mktemp("concurrent") / "home"
    paths = EmbeddedPaths.for_home(home)
    paths.mlflow_dir.mkdir(parents=True)
    paths.state_file.write_text("garbage {")
    with owned_home(home):
        consoles = [
            subprocess.Popen(
                [sys.executable, "-c", _SCRIPT, str(home), str(IDLE_MINUTES)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = []
        for proc in consoles:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        embedded.touch(home)  # the idle clock starts from the consoles' last use
        yield home, results


@pytest.mark.slow
def test_two_consoles_at_once_share_one_server(raced: tuple[Path, list[dict]]) -> None:
    home, results = raced
    assert results[0] == results[1]
    # every MLflow server process of this home (a supervisor's arguments mention mlflow too)
    servers = [
        pid
        for pid in processes_of(home)
        if is_alive(pid) and "console.embedded.supervisor" not in cmdline(pid)
    ]
    assert servers == [results[0]["pid"]]
    assert embedded.status(home).pid == results[0]["pid"]


def test_idle_server_stops_itself(raced: tuple[Path, list[dict]]) -> None:
    home, results = raced
    pid, supervisor = results[0]["pid"], results[0]["supervisor_pid"]
    # kept alive while in use: touched for longer than the idle limit
    until = time.monotonic() + IDLE_MINUTES * 60 * 1.5
    while time.monotonic() < until:
        embedded.touch(home)
        assert is_alive(pid), "stopped while in use"
        time.sleep(0.3)
    # then left alone: gone within the idle limit plus a few polls
    deadline = time.monotonic() + IDLE_MINUTES * 60 + 10
    while time.monotonic() < deadline and (is_alive(pid) or is_alive(supervisor)):
        time.sleep(0.2)
    assert not is_alive(pid) and not is_alive(supervisor)
    assert processes_of(home) == []
    assert not EmbeddedPaths.for_home(home).state_file.exists()
    assert not embedded.status(home).running
    assert "idle for more than" in EmbeddedPaths.for_home(home).server_log.read_text()

"""Issue 16 items 6, 8, 9: the embedded stack stays contained, private and free of secrets.

One real embedded server started by the real CLI with secrets in its environment, then: no
process of the stack (supervisor, ``mlflow server``, its uvicorn worker) holds a secret in
``/proc/PID/environ``; the home and its files are private; a garbage ``server.json`` never
leads to a second server on the same database; kill -9 of the server leaves no worker behind, and
the next start runs exactly one server.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.embedded import procs
from console.embedded.lifecycle import SUPERVISOR_MODULE, EmbeddedPaths
from tests.embedded.conftest import ROOT, owned_home

SECRETS = {
    "DATAHUB_GMS_TOKEN": "dh-secret-6f1e",
    "OPENLINEAGE_API_KEY": "ol-secret-9a2b",
    "MLFLOW_TRACKING_TOKEN": "mlf-secret-33c1",
    "MLFLOW_TRACKING_PASSWORD": "mlf-pass-77d0",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-0b5e",
}


def cli(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(SECRETS)
    env["MLFLOW_TRACKING_USERNAME"] = "someone"
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stack(home: Path) -> tuple[list[int], list[int]]:
    """(pids serving the home's mlflow.db, supervisor pids of the home), from /proc."""
    paths = EmbeddedPaths.for_home(home)
    return (
        sorted(procs.serving(paths.backend_uri)),
        sorted(procs.supervisors(SUPERVISOR_MODULE, str(paths.home))),
    )


def groups(pids: list[int]) -> set[int]:
    return {procs.group_of(p) for p in pids} - {None}


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("contained") / "home"
    with owned_home(home):
        done = cli(home, "embedded", "start")
        assert done.returncode == 0, done.stderr
        yield home


def _state(home: Path) -> dict:
    return json.loads(EmbeddedPaths.for_home(home).state_file.read_text())


def test_no_secret_in_any_process_of_the_stack(home: Path) -> None:
    servers, sups = stack(home)
    assert len(sups) == 1 and len(servers) >= 2, (servers, sups)  # mlflow server + uvicorn
    for pid in servers + sups:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        for name, value in SECRETS.items():
            assert value.encode() not in environ, (pid, procs.cmdline(pid)[:4], name)
            assert f"{name}=".encode() not in environ
        assert b"MLFLOW_TRACKING_USERNAME=" not in environ


def test_home_and_its_files_are_private(home: Path) -> None:
    paths = EmbeddedPaths.for_home(home)
    # a runbook run writes its transcript (a dry run against the embedded server)
    done = cli(home, "runbook", "run", "model-registry-promotion-stuck", "--dry-run")
    assert done.returncode == 0, done.stderr
    transcripts = list(paths.transcripts_dir.iterdir())
    assert transcripts
    dirs = [paths.home, paths.mlflow_dir, paths.artifacts, paths.transcripts_dir]
    files = [paths.mlflow_db, paths.state_file, paths.server_log, paths.last_used, paths.lock_file]
    for path in dirs:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in files + transcripts:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_garbage_state_file_never_starts_a_second_server(home: Path) -> None:
    paths = EmbeddedPaths.for_home(home)
    first = _state(home)
    for garbage in (b"", b"{not json\x00\xff"):
        paths.state_file.write_bytes(garbage)
        status = cli(home, "embedded", "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["running"] is True  # found by what it serves
        done = cli(home, "embedded", "start")
        assert done.returncode == 0, done.stderr
        servers, sups = stack(home)
        assert groups(servers) == {first["server_pid"]}, (servers, first)
        assert sups == [first["supervisor_pid"]]
        assert _state(home)["server_pid"] == first["server_pid"]


def test_kill_9_of_the_server_leaves_nothing_and_restarts_one(home: Path) -> None:
    before = _state(home)
    servers, _ = stack(home)
    assert len(servers) >= 2
    os.kill(before["server_pid"], signal.SIGKILL)
    # the supervisor takes the rest of the group (uvicorn) down and exits
    assert wait_for(lambda: stack(home) == ([], [])), stack(home)
    assert not procs.health_ok(before["port"])
    status = cli(home, "embedded", "status", "--json")
    assert json.loads(status.stdout)["running"] is False
    done = cli(home, "embedded", "start")
    assert done.returncode == 0, done.stderr
    servers, sups = stack(home)
    after = _state(home)
    assert groups(servers) == {after["server_pid"]} and sups == [after["supervisor_pid"]]


def test_stop_ends_an_orphaned_worker(home: Path) -> None:
    """An orphan left by an older console (server and supervisor killed together) is stopped."""
    state = _state(home)
    os.kill(state["supervisor_pid"], signal.SIGKILL)
    os.kill(state["server_pid"], signal.SIGKILL)
    time.sleep(0.5)
    servers, _ = stack(home)
    assert servers, "the uvicorn worker outlives its server"
    done = cli(home, "embedded", "stop")
    assert done.returncode == 0, done.stderr
    assert wait_for(lambda: stack(home) == ([], []), 20), stack(home)

"""One real embedded server, reused across tests: start on a fresh home, reuse, crash, stale, stop.

Tests run in file order and each begins with ``ensure_server``, so a failure leaves the next test a
working (re)started server. The module fixture stops everything at the end, whatever happened.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.connection import resolve_tracking_uri
from console.embedded import lifecycle as embedded
from console.embedded.lifecycle import EmbeddedPaths, EmbeddedStatus
from console.embedded.procs import is_alive
from console.settings import CliOverrides, load_settings
from tests.embedded.conftest import owned_home, processes_of, run_cli


class Started:
    def __init__(self, home: Path, first: EmbeddedStatus, messages: list[str], seconds: float):
        self.home = home
        self.first = first
        self.messages = messages
        self.seconds = seconds


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    home = tmp_path_factory.mktemp("lifecycle") / "fresh-machine" / "home"
    assert not home.parent.exists()
    with owned_home(home):
        messages: list[str] = []
        t0 = time.monotonic()
        first = embedded.ensure_server(home, progress=messages.append, idle_minutes=0)
        yield Started(home, first, messages, time.monotonic() - t0)


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def _wait(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.slow
def test_cold_start_on_fresh_home(started: Started) -> None:
    paths = EmbeddedPaths.for_home(started.home)
    first = started.first
    assert first.running and first.pid and first.port
    assert first.tracking_uri == f"http://127.0.0.1:{first.port}"
    assert paths.mlflow_db.exists() and paths.artifacts.is_dir() and paths.last_used.exists()
    state = json.loads(paths.state_file.read_text())
    assert state["server_pid"] == first.pid and state["port"] == first.port
    assert state["home"] == str(started.home) and is_alive(state["supervisor_pid"])
    assert any(f"starting MLflow server on 127.0.0.1:{first.port}" in m for m in started.messages)
    assert any("waiting for the MLflow server" in m for m in started.messages)
    # a real tracking server with artifacts served by it
    status, body = _get(f"{first.tracking_uri}/api/2.0/mlflow/experiments/search?max_results=5")
    assert status == 200 and b"experiments" in body
    status, _ = _get(f"{first.tracking_uri}/api/2.0/mlflow-artifacts/artifacts")
    assert status == 200


def test_warm_reuse_is_fast_and_same_server(started: Started) -> None:
    current = embedded.ensure_server(started.home)
    t0 = time.perf_counter()
    again = embedded.ensure_server(started.home)
    elapsed = time.perf_counter() - t0
    assert again.pid == current.pid and again.port == current.port
    assert elapsed < 0.2, f"warm ensure took {elapsed:.3f} s"
    t0 = time.perf_counter()
    assert embedded.status(started.home).running
    assert time.perf_counter() - t0 < 0.2


def test_cli_status_json(started: Started) -> None:
    current = embedded.ensure_server(started.home)
    out = run_cli(started.home, "embedded", "status", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["running"] is True
    assert doc["pid"] == current.pid
    assert doc["tracking_uri"] == current.tracking_uri
    assert doc["home"] == str(started.home)
    assert doc["configured_tracking_uri"] is None


def test_cli_status_says_when_console_uses_another_server(started: Started) -> None:
    current = embedded.ensure_server(started.home)
    out = run_cli(started.home, "--tracking-uri", "http://127.0.0.1:9", "embedded", "status")
    assert out.returncode == 0, out.stderr
    assert current.tracking_uri in out.stdout
    assert "configured for http://127.0.0.1:9" in out.stdout
    doc = json.loads(
        run_cli(
            started.home, "--tracking-uri", "http://127.0.0.1:9", "embedded", "status", "--json"
        ).stdout
    )
    assert doc["running"] is True and doc["configured_tracking_uri"] == "http://127.0.0.1:9"


def test_cli_start_reuses_and_resolve_returns_it(started: Started) -> None:
    current = embedded.ensure_server(started.home)
    out = run_cli(started.home, "embedded", "start")
    assert out.returncode == 0, out.stderr
    assert current.tracking_uri in out.stdout
    settings = load_settings(CliOverrides(home=str(started.home)))
    assert resolve_tracking_uri(settings) == current.tracking_uri


def test_killed_supervisor_is_replaced_without_restarting(started: Started) -> None:
    current = embedded.ensure_server(started.home)
    os.kill(current.supervisor_pid, signal.SIGKILL)
    assert _wait(lambda: not is_alive(current.supervisor_pid))
    again = embedded.ensure_server(started.home)
    assert again.pid == current.pid
    assert again.supervisor_pid != current.supervisor_pid and is_alive(again.supervisor_pid)


class _ImpostorHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args: object) -> None:
        return None


@pytest.mark.slow
def test_killed_server_with_stale_state_is_restarted_elsewhere(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server is killed -9; its pid is then reused by a stranger and its port by an impostor
    that answers /health; the first port chosen for the restart is grabbed before the bind."""
    current = embedded.ensure_server(started.home)
    paths = EmbeddedPaths.for_home(started.home)
    recorded = json.loads(paths.state_file.read_text())
    os.killpg(current.pid, signal.SIGKILL)
    assert _wait(lambda: not embedded.status(started.home).running)
    # the supervisor notices the dead server and exits rather than lingering
    assert _wait(lambda: not is_alive(current.supervisor_pid))

    stranger = subprocess.Popen(["sleep", "120"])
    impostor = http.server.ThreadingHTTPServer(("127.0.0.1", current.port), _ImpostorHandler)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    real_pick = embedded._pick_port
    picks: list[int] = []

    def racing_pick(avoid: set[int]) -> int:
        # the first choice is a port another process grabs before MLflow binds it
        picks.append(current.port if not picks else real_pick(avoid))
        return picks[-1]

    monkeypatch.setattr(embedded, "_pick_port", racing_pick)
    try:
        recorded.update(supervisor_pid=stranger.pid, server_pid=stranger.pid)
        paths.state_file.write_text(json.dumps(recorded))
        assert not embedded.status(started.home).running  # /health answers, but not our pid
        messages: list[str] = []
        again = embedded.ensure_server(started.home, progress=messages.append)
        assert again.running and again.pid != current.pid and again.port != current.port
        assert picks[0] == current.port and again.port == picks[-1]
        assert any(f"port {current.port} was taken" in m for m in messages)
        assert stranger.poll() is None, "an unrelated process was signalled"
        status, body = _get(f"{again.tracking_uri}/api/2.0/mlflow/experiments/search?max_results=1")
        assert status == 200 and b"experiments" in body
        assert embedded.status(started.home).pid == again.pid
    finally:
        impostor.shutdown()
        impostor.server_close()
        stranger.kill()
        stranger.wait()


def test_read_only_stop_is_refused_and_the_server_keeps_serving(started: Started) -> None:
    """Issue 20: a read-only console must not stop the server other consoles of the home use."""
    current = embedded.ensure_server(started.home)
    for where in (["--read-only", "embedded", "stop"], ["embedded", "stop", "--read-only"]):
        out = run_cli(started.home, *where)
        assert out.returncode == 3, out.stderr
        assert out.stderr.count("\n") == 1 and "is read-only" in out.stderr
        assert "other consoles of this home may be using it" in out.stderr
    assert is_alive(current.pid) and is_alive(current.supervisor_pid)
    assert embedded.status(started.home).running
    assert _get(f"{current.tracking_uri}/health")[0] == 200
    # reading stays allowed: status, and a start that finds the server running
    assert run_cli(started.home, "--read-only", "embedded", "status").returncode == 0
    again = run_cli(started.home, "--read-only", "embedded", "start", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["pid"] == current.pid


def test_stop(started: Started) -> None:
    current = embedded.ensure_server(started.home)
    assert embedded.stop(started.home) is True
    assert not is_alive(current.pid) and not is_alive(current.supervisor_pid)
    assert processes_of(started.home) == []
    assert not EmbeddedPaths.for_home(started.home).state_file.exists()
    assert not embedded.status(started.home).running
    assert embedded.stop(started.home) is False
    out = run_cli(started.home, "embedded", "stop")
    assert out.returncode == 0 and "no embedded MLflow server" in out.stdout

"""Embedded paths, status and stale-state handling that need no running server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from console.connection import resolve_tracking_uri
from console.embedded import lifecycle as embedded
from console.embedded.lifecycle import EmbeddedPaths
from console.settings import CliOverrides, load_settings
from tests.embedded.conftest import run_cli


def test_paths_layout(tmp_path: Path) -> None:
    p = EmbeddedPaths.for_home(tmp_path)
    assert p.home == tmp_path
    rel = {
        name: str(getattr(p, name).relative_to(tmp_path))
        for name in (
            "mlflow_db",
            "artifacts",
            "state_file",
            "server_log",
            "lock_file",
            "last_used",
            "iceberg_catalog_db",
            "iceberg_warehouse",
            "datahub_lite_db",
            "openlineage_events",
            "git_repo",
            "audit_dir",
            "transcripts_dir",
        )
    }
    assert rel == {
        "mlflow_db": "mlflow/mlflow.db",
        "artifacts": "mlflow/artifacts",
        "state_file": "mlflow/server.json",
        "server_log": "mlflow/server.log",
        "lock_file": "mlflow/lock",
        "last_used": "mlflow/last-used",
        "iceberg_catalog_db": "iceberg/catalog.db",
        "iceberg_warehouse": "iceberg/warehouse",
        "datahub_lite_db": "datahub/lite.db",
        "openlineage_events": "openlineage/events.jsonl",
        "git_repo": "git/training-code",
        "audit_dir": "audit",
        "transcripts_dir": "transcripts",
    }


def test_status_of_missing_home_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    current = embedded.status(home)
    assert not current.running and current.pid is None
    assert current.home == str(home)
    assert not home.exists()
    assert embedded.stop(home) is False
    assert not home.exists()


def test_corrupt_state_file_is_ignored(tmp_path: Path) -> None:
    paths = EmbeddedPaths.for_home(tmp_path)
    paths.create_server_dirs()
    paths.state_file.write_bytes(b"{not json\x00\xff")
    current = embedded.status(tmp_path)
    assert not current.running
    assert "corrupt" in current.detail
    assert embedded.stop(tmp_path) is False


def test_pid_reused_by_unrelated_process_is_not_ours(tmp_path: Path) -> None:
    """A recorded pid now running something else (and a port someone else listens on)."""
    paths = EmbeddedPaths.for_home(tmp_path)
    paths.create_server_dirs()
    stranger = subprocess.Popen(["sleep", "60"])
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        try:
            paths.state_file.write_text(
                json.dumps(
                    {
                        "supervisor_pid": stranger.pid,
                        "server_pid": stranger.pid,
                        "port": port,
                        "tracking_uri": f"http://127.0.0.1:{port}",
                        "started_at": "2024-01-01T00:00:00Z",
                        "home": str(tmp_path),
                        "idle_minutes": 60,
                    }
                )
            )
            current = embedded.status(tmp_path)
            assert not current.running
            assert "stale" in current.detail
            # stop forgets the stale record but must not touch the unrelated process
            assert embedded.stop(tmp_path) is False
            assert stranger.poll() is None
            assert not paths.state_file.exists()
        finally:
            stranger.kill()
            stranger.wait()


def test_touch_creates_the_marker(tmp_path: Path) -> None:
    embedded.touch(tmp_path / "fresh")
    assert EmbeddedPaths.for_home(tmp_path / "fresh").last_used.exists()


def test_resolve_prefers_configured_uri(tmp_path: Path) -> None:
    settings = load_settings(
        CliOverrides(tracking_uri="http://127.0.0.1:9", home=str(tmp_path / "h"))
    )
    assert resolve_tracking_uri(settings) == "http://127.0.0.1:9"
    assert not (tmp_path / "h").exists()  # nothing was started


def test_cli_status_json_when_stopped(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "embedded", "status", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["running"] is False
    assert doc["home"] == str(tmp_path)
    assert {"tracking_uri", "pid", "home", "running"} <= set(doc)


def test_a_supervisor_started_under_the_old_module_name_is_still_found(tmp_path: Path) -> None:
    """A console from before the package layout ran ``python -m console.embedded_supervisor``;
    after an upgrade that process must still count as the home's supervisor (else a second
    server would start on the same store)."""
    from console.embedded import procs

    home = str(tmp_path / "home")
    stand_in = subprocess.Popen(  # argv as the old supervisor's: module name, then --home
        [sys.executable, "-c", "import time; time.sleep(60)",
         "console.embedded_supervisor", "--home", home],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while stand_in.pid not in procs.supervisors(procs.SUPERVISOR_MODULES, home):
            assert time.monotonic() < deadline, "the old-name supervisor was not found"
            time.sleep(0.1)
        assert procs.supervisors(procs.SUPERVISOR_MODULE, home) == []
        assert procs.supervisors(procs.SUPERVISOR_MODULES, str(tmp_path / "other")) == []
    finally:
        stand_in.kill()
        stand_in.wait()

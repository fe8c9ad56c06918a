"""A server that cannot start (its backend database is garbage): one line saying what to do."""

from __future__ import annotations

from pathlib import Path

from console.embedded import lifecycle as embedded
from console.embedded.lifecycle import EmbeddedPaths
from tests.embedded.conftest import owned_home, processes_of, run_cli


def test_unreadable_backend_db_is_one_line_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    paths = EmbeddedPaths.for_home(home)
    paths.mlflow_dir.mkdir(parents=True)
    paths.mlflow_db.write_bytes(b"this is not a sqlite database" * 100)
    with owned_home(home):
        out = run_cli(home, "embedded", "start", timeout=180)
        assert out.returncode == 1, out.stderr  # a ConsoleError, not an internal error (70)
        lines = out.stderr.strip().splitlines()
        # progress lines first, then exactly one error line and no traceback
        assert lines[-1].startswith("mlops-console: error: the embedded MLflow server failed")
        assert "file is not a database" in lines[-1]
        assert str(paths.mlflow_db) in lines[-1] and "move it aside" in lines[-1]
        assert "Traceback" not in out.stderr
        assert processes_of(home) == []
        assert not paths.state_file.exists()
        assert not embedded.status(home).running

"""Real services for tests: an ``mlflow server`` subprocess on 127.0.0.1 and PostgreSQL databases.

Each server is a real MLflow tracking server (sqlite or PostgreSQL backend, artifacts served by the
server) started in its own process group so a test can stop it — and everything it spawned — at
once, or kill it to simulate a crash.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MLFLOW_BIN = str(Path(sys.executable).with_name("mlflow"))


# generous: on a machine shared by many test runs an mlflow server can take minutes to answer
HEALTH_TIMEOUT_S = float(os.environ.get("MLOPS_CONSOLE_TEST_SERVER_TIMEOUT", "300"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(
    url: str, timeout: float = HEALTH_TIMEOUT_S, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"mlflow server at {url} not healthy after {timeout}s")


@dataclass
class MlflowServer:
    """A running ``mlflow server``; ``stop()`` ends its whole process group."""

    url: str
    port: int
    workdir: Path
    backend_uri: str
    app_name: str | None = None
    proc: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)

    def start(self, timeout: float = HEALTH_TIMEOUT_S) -> MlflowServer:
        cmd = [
            MLFLOW_BIN,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--backend-store-uri",
            self.backend_uri,
            "--artifacts-destination",
            str(self.workdir / "artifacts"),
            "--workers",
            "1",
        ]
        if self.app_name:
            cmd += ["--app-name", self.app_name]
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **self.env}
        for var in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"):
            env.pop(var, None)
        log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(self.url, timeout, self.proc)
        except BaseException:
            self.kill()  # never leave a half-started server behind
            raise
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def kill(self) -> None:
        """Simulate a crash: SIGKILL the whole process group."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def start_mlflow_server(
    workdir: Path,
    *,
    backend_uri: str | None = None,
    app_name: str | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
    timeout: float = 180.0,
) -> MlflowServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    server = MlflowServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        workdir=workdir,
        backend_uri=backend_uri or f"sqlite:///{workdir / 'mlflow.db'}",
        app_name=app_name,
        env=env or {},
    )
    return server.start(timeout)


# --- PostgreSQL --------------------------------------------------------------------------------

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_available() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        try:
            sock.connect(("127.0.0.1", 5432))
        except OSError:
            return False
    return True


def create_postgres_database(prefix: str = "mlc") -> tuple[str, str]:
    """Create a fresh database; return (name, SQLAlchemy URI for MLflow)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def git_available() -> bool:
    return shutil.which("git") is not None


@contextlib.contextmanager
def postgres_mlflow_server(
    workdir: Path, prefix: str = "mlc"
) -> Iterator[tuple[MlflowServer, str]]:
    """An ``mlflow server`` on a fresh PostgreSQL database; yields (server, database name).

    On exit the server is stopped and the database dropped, even if the server never came up.
    """
    name, uri = create_postgres_database(prefix)
    server = None
    try:
        server = start_mlflow_server(workdir, backend_uri=uri)
        yield server, name
    finally:
        if server is not None:
            server.stop()
        drop_postgres_database(name)

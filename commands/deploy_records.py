"""Embedded deployments on disk: ``<home>/deployments/<name>.json`` records, their lock, and
whether the processes they name are still ours.

Shared by the ``deploy`` commands and the deployment supervisor process, so it stays light
(stdlib, pydantic, ``console.embedded.procs``). Records are replaced atomically and every
read-modify-write holds the directory's lock, so the supervisor (pids, restarts) and a console
(version after a rollout) never overwrite each other's fields.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from console.deployment_model import DeploymentRecord
from console.embedded import procs
from console.errors import ConsoleError

SUPERVISOR_MODULE = "commands.deploy_supervisor"
SERVICE_MODULE = "commands.serve"

# the only variables a supervisor and its service inherit: nothing secret, no proxies
ENV_ALLOW = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "MLOPS_CONSOLE_DEPLOY_POLL_SECONDS",
)


class DeployError(ConsoleError):
    """A deployment could not be started, found, stopped or changed."""


def deployments_dir(home: Path | str) -> Path:
    return Path(home).expanduser().resolve() / "deployments"


def record_path(home: Path | str, name: str) -> Path:
    return deployments_dir(home) / f"{name}.json"


def log_path(home: Path | str, name: str) -> Path:
    return deployments_dir(home) / f"{name}.log"


def token_path(home: Path | str, name: str) -> Path:
    """The deployment's reload token: 0600, written by its supervisor, read by the service (at
    start, from ``--reload-token-file``) and by a console that rolls it out."""
    return deployments_dir(home) / f"{name}.reload-token"


def ensure_token(home: Path | str, name: str) -> Path:
    """The reload token file of deployment ``name``, created (random, 0600) when missing."""
    import secrets

    from console.private_files import write_private

    path = token_path(home, name)
    if not read_token(path):
        write_private(path, secrets.token_urlsafe(32))
    return path


def read_token(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def reload_headers(home: Path | str, name: str) -> dict[str, str]:
    """The ``Authorization`` header ``POST /reload`` of deployment ``name`` needs (empty when
    it has no token file: such a service refuses every reload)."""
    token = read_token(token_path(home, name))
    return {"Authorization": f"Bearer {token}"} if token else {}


@contextlib.contextmanager
def locked(home: Path | str, timeout: float = 30.0) -> Iterator[None]:
    """Hold the deployments directory's lock (records are small: it is held for milliseconds)."""
    directory = deployments_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DeployError(f"{directory}/.lock is held by another process") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def read(path: Path) -> DeploymentRecord | None:
    """The record at ``path``; None if missing or unreadable (a corrupt record is no deployment)."""
    try:
        return DeploymentRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def write(path: Path, record: DeploymentRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(record.model_dump_json(indent=2))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def update(path: Path, **changes: Any) -> DeploymentRecord | None:
    """Change some fields of the record under the lock; None if the record is gone."""
    with locked(path.parent.parent):
        current = read(path)
        if current is None:
            return None
        fresh = current.model_copy(update=changes)
        write(path, fresh)
        return fresh


def remove(path: Path) -> None:
    """Remove a deployment record, and its reload token with it."""
    for gone in (path, path.with_suffix(".reload-token")):
        with contextlib.suppress(FileNotFoundError):
            gone.unlink()


def all_records(home: Path | str) -> list[tuple[Path, DeploymentRecord | None]]:
    """Every ``*.json`` under the deployments directory, sorted by name (None: unreadable)."""
    directory = deployments_dir(home)
    if not directory.is_dir():
        return []
    return [(p, read(p)) for p in sorted(directory.glob("*.json"))]


def is_our_supervisor(pid: int, path: Path) -> bool:
    args = procs.cmdline(pid)
    return procs.is_alive(pid) and SUPERVISOR_MODULE in args and str(path) in args


def is_our_service(pid: int, record: DeploymentRecord) -> bool:
    """Alive and really this deployment's service (a recycled pid runs something else)."""
    args = procs.cmdline(pid)
    if not procs.is_alive(pid) or SERVICE_MODULE not in args:
        return False
    try:
        return args[args.index("--name") + 1] == record.name and str(record.port) in args
    except (ValueError, IndexError):
        return False


def child_env(pythonpath: str) -> dict[str, str]:
    """The allow-listed environment for a supervisor and its service (no credentials)."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOW}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    return env


def project_root() -> str:
    """The directory holding the ``commands`` package, so a child finds it from any cwd."""
    return str(Path(__file__).resolve().parents[1])


def python() -> str:
    return sys.executable

"""The model worker's files and wire protocol, shared by the client and the worker (stdlib only).

One worker per console home lives in ``HOME/model-worker/`` (mode 0700): ``worker.lock`` (held
by the running worker for its whole life: one per home), ``start.lock`` (held by whoever is
starting one), ``worker.json`` (its pid, code fingerprint and socket), ``worker.sock`` (a unix
``SOCK_SEQPACKET`` socket, mode 0600; when the home's path is too long for a socket address it
lives under ``$TMPDIR/mlops-console-UID/``, mode 0700), ``worker.log`` (what it served; never an
environment value) and ``models/`` (the download cache of ``commands.model_cache``).

Every message is one JSON object in one packet. The client sends one request per connection:

- ``{"op": "ping"}`` → ``{"event": "pong", "pid", "fingerprint"}``;
- ``{"op": "stop"}`` → ``{"event": "stopping"}``, and the worker exits (its children killed);
- ``{"op": "retire"}`` → ``{"event": "retiring"}``: it takes no more requests, releases the
  socket and the lock (a worker of newer code may start) and exits once its children end;
- ``{"op": "run", "fingerprint", "module", "args", "env", "cwd"}`` with three file descriptors
  attached (the child's stdin, stdout, stderr) → ``{"event": "started", "pid"}`` then
  ``{"event": "exit", "code"}``; or ``{"event": "refused", "reason"}``.

The child of a ``run`` leads a new session (its pid is its process group), so the client stops it
with ``killpg`` as it would a child of its own; closing the connection early kills it too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOME_VAR = "MLOPS_CONSOLE_HOME"
ENABLE_VAR = "MLOPS_CONSOLE_MODEL_WORKER"  # "0" or "off": every request a plain subprocess
IDLE_VAR = "MLOPS_CONSOLE_WORKER_IDLE_S"
DEFAULT_IDLE_S = 900.0
MAX_PACKET = 1 << 20
SERVER_MODULE = "commands.model_worker_server"
# the modules the worker runs (each offers ``main(argv) -> int``); any other is a plain process
SERVED = frozenset(
    {
        "commands.probe",
        "commands.invariance_gate",
        "commands.invariance_signature",
        "commands.invariance",
    }
)
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes


class ProtocolError(ValueError):
    """A message that is not one of the protocol's."""


def enabled(env: dict[str, str] | os._Environ[str]) -> bool:
    return env.get(ENABLE_VAR, "").strip().lower() not in ("0", "off", "false", "no")


def idle_seconds(env: dict[str, str] | os._Environ[str]) -> float:
    try:
        return max(1.0, float(env.get(IDLE_VAR, "") or DEFAULT_IDLE_S))
    except ValueError:
        return DEFAULT_IDLE_S


@dataclass(frozen=True)
class WorkerPaths:
    directory: Path
    socket: Path

    @classmethod
    def for_home(cls, home: Path | str) -> WorkerPaths:
        directory = Path(home).expanduser().resolve() / "model-worker"
        sock = directory / "worker.sock"
        if len(os.fsencode(sock)) > _SOCKET_PATH_MAX:
            digest = hashlib.sha256(os.fsencode(directory)).hexdigest()[:20]
            sock = Path(tempfile.gettempdir()) / f"mlops-console-{os.getuid()}" / f"{digest}.sock"
        return cls(directory, sock)

    @property
    def lock(self) -> Path:
        return self.directory / "worker.lock"

    @property
    def start_lock(self) -> Path:
        return self.directory / "start.lock"

    @property
    def state(self) -> Path:
        return self.directory / "worker.json"

    @property
    def log(self) -> Path:
        return self.directory / "worker.log"

    @property
    def models(self) -> Path:
        return self.directory / "models"

    def prepare(self) -> None:
        """Create the directories, private to this user (refusing one another user owns)."""
        for folder in {self.directory, self.socket.parent}:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(folder)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                raise PermissionError(f"{folder} is not a directory of this user")
            if stat.S_IMODE(info.st_mode) != 0o700:
                os.chmod(folder, 0o700)

    def read_state(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.state.read_text())
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None


def log_line(paths: WorkerPaths, message: str) -> None:
    """One line in the worker's log (what ran, never an environment value)."""
    try:
        fd = os.open(paths.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        os.write(fd, f"{stamp} [{os.getpid()}] {message}\n".encode("utf-8", "replace"))
    finally:
        os.close(fd)


def fingerprint() -> str:
    """What the worker's imported code depends on: the interpreter, the venv's packages and the
    console's own sources. A worker whose fingerprint differs from its client's is replaced."""
    digest = hashlib.sha256()
    digest.update(f"{sys.executable}\0{sys.version}\0{sys.prefix}\0".encode())
    for key in ("purelib", "platlib"):
        folder = sysconfig.get_paths()[key]
        with contextlib.suppress(OSError):
            digest.update(f"{folder}\0{os.stat(folder).st_mtime_ns}\0".encode())
    for package in ("commands", "console"):
        for dirpath, dirnames, filenames in os.walk(ROOT / package):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    digest.update(f"{path}\0{info.st_mtime_ns}\0{info.st_size}\0".encode())
    return digest.hexdigest()[:32]


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) > MAX_PACKET:
        raise ProtocolError("message too large")
    return data


def decode(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        raise ProtocolError("not JSON") from None
    if not isinstance(doc, dict):
        raise ProtocolError("not an object")
    return doc


@dataclass(frozen=True)
class RunRequest:
    """A request to run ``module.main(args)`` in a forked child with ``env`` and ``cwd``."""

    fingerprint: str
    module: str
    args: list[str]
    env: dict[str, str]
    cwd: str | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "op": "run",
            "fingerprint": self.fingerprint,
            "module": self.module,
            "args": self.args,
            "env": self.env,
            "cwd": self.cwd,
        }

    @classmethod
    def from_wire(cls, doc: dict[str, Any]) -> RunRequest:
        args, env, cwd = doc.get("args"), doc.get("env"), doc.get("cwd")
        ok = (
            isinstance(doc.get("fingerprint"), str)
            and doc.get("module") in SERVED
            and isinstance(args, list)
            and all(isinstance(a, str) for a in args)
            and isinstance(env, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
            and (cwd is None or isinstance(cwd, str))
        )
        if not ok or not isinstance(args, list) or not isinstance(env, dict):
            raise ProtocolError("malformed run request")
        return cls(
            doc["fingerprint"],
            doc["module"],
            [str(a) for a in args],
            {str(k): str(v) for k, v in env.items()},
            cwd,
        )


def served_module(argv: list[str]) -> tuple[str, list[str]] | None:
    """(module, its arguments) when ``argv`` is ``[python, -m, MODULE, …]`` for a served module
    run by this interpreter, else None."""
    if len(argv) >= 3 and argv[0] == sys.executable and argv[1] == "-m" and argv[2] in SERVED:
        return argv[2], list(argv[3:])
    return None

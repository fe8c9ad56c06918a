"""Start model work in the home's warm worker, or as a plain subprocess: ``spawn``.

``spawn(argv, env=…, cwd=…)`` takes the command line of a served module
(``[sys.executable, "-m", "commands.probe", …]``, see ``model_worker_protocol.SERVED``) and the
child's environment. When the environment names a console home (``MLOPS_CONSOLE_HOME``) and the
worker is not turned off (``MLOPS_CONSOLE_MODEL_WORKER=0``), the home's worker
(``commands.model_worker_server``) forks the child — started first if none runs, replaced if its
code fingerprint is not this process's — and the caller gets a ``WorkerChild``: ``pid`` (its own
process group), ``stdout``/``stderr`` streams, ``wait()``, ``communicate()``. Anything that goes
wrong before the child has started falls back to ``asyncio.create_subprocess_exec`` with the
same arguments, which returns the same interface. Either way the caller cancels with
``os.killpg(child.pid, …)``.

The worker is started with the allow-listed environment of ``console.child_env`` and no
credentials; the request's environment (credentials included) goes over the socket to the
forked child only. Standard library only: the console imports this without importing mlflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from commands.model_worker_protocol import (
    HOME_VAR,
    IDLE_VAR,
    MAX_PACKET,
    ROOT,
    SERVER_MODULE,
    ProtocolError,
    RunRequest,
    WorkerPaths,
    decode,
    enabled,
    encode,
    fingerprint,
    idle_seconds,
    served_module,
)

START_TIMEOUT_S = 300.0  # the first start imports mlflow and scikit-learn: slow on a busy machine
PING_TIMEOUT_S = 2.0
# Popen objects of workers this process started, kept so they are reaped and never warned about
_STARTED: list[subprocess.Popen[bytes]] = []


class WorkerUnavailable(Exception):
    """The worker could not take the request (the caller falls back to a plain process)."""


class WorkerChild:
    """A child forked by the worker, seen as ``asyncio.subprocess.Process`` is."""

    served_by_worker = True

    def __init__(
        self,
        pid: int,
        conn: socket.socket,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
        transports: list[asyncio.BaseTransport],
    ) -> None:
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self._conn = conn
        self._transports = transports  # each closes itself at its pipe's end
        self._exit: asyncio.Future[int] | None = None

    async def _read_exit(self) -> int:
        loop = asyncio.get_running_loop()
        try:
            data = await loop.sock_recv(self._conn, 4096)
            doc = decode(data) if data else {}
        except (OSError, ProtocolError):
            doc = {}
        finally:
            self._conn.close()
        if doc.get("event") == "exit" and isinstance(doc.get("code"), int):
            return doc["code"]
        # the worker died under its child: the child is an orphan now; wait for its pipes
        while _alive(self.pid):  # noqa: ASYNC110 - no event to wait on: another's orphan
            await asyncio.sleep(0.1)
        return 2

    async def wait(self) -> int:
        if self._exit is None:
            self._exit = asyncio.ensure_future(self._read_exit())
        code: int = await asyncio.shield(self._exit)
        self.returncode = code
        return code

    async def communicate(self) -> tuple[bytes, bytes]:
        out, err = await asyncio.gather(self.stdout.read(), self.stderr.read())
        await self.wait()
        return out, err

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie of the dead worker's is gone for us
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


async def spawn(
    argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike[str] | None = None,
    limit: int = 2**16,
) -> Any:  # fmt: skip
    """The child running ``argv``: a ``WorkerChild`` from the home's worker, or a plain
    ``asyncio.subprocess.Process`` (its own session, stdin from /dev/null, stdout/stderr piped)."""
    served = served_module(argv)
    home = env.get(HOME_VAR)
    if served is not None and home and enabled(env) and enabled(os.environ):
        try:
            return await _in_worker(Path(home), served, env, cwd, limit)
        except (WorkerUnavailable, OSError, ProtocolError):
            pass
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
        limit=limit,
    )


async def _in_worker(
    home: Path,
    served: tuple[str, list[str]],
    env: dict[str, str],
    cwd: str | os.PathLike[str] | None,
    limit: int,
) -> WorkerChild:
    paths = WorkerPaths.for_home(home)
    mark = fingerprint()
    await ensure(paths, mark, idle_seconds(env))
    request = RunRequest(mark, served[0], served[1], dict(env), str(cwd) if cwd else None)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    devnull = os.open(os.devnull, os.O_RDONLY)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.settimeout(PING_TIMEOUT_S)
        conn.connect(os.fsencode(paths.socket))
        socket.send_fds(conn, [encode(request.to_wire())], [devnull, out_w, err_w])
        reply = decode(conn.recv(MAX_PACKET))
    except BaseException:
        conn.close()
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in (devnull, out_w, err_w):
            os.close(fd)
    if reply.get("event") != "started" or not isinstance(reply.get("pid"), int):
        conn.close()
        for fd in (out_r, err_r):
            os.close(fd)
        raise WorkerUnavailable(str(reply.get("reason") or "refused"))
    conn.setblocking(False)
    loop = asyncio.get_running_loop()
    streams, transports = [], []
    for fd in (out_r, err_r):
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        transport, _ = await loop.connect_read_pipe(
            lambda r=reader: asyncio.StreamReaderProtocol(r, loop=loop), os.fdopen(fd, "rb", 0)
        )
        streams.append(reader)
        transports.append(transport)
    return WorkerChild(reply["pid"], conn, streams[0], streams[1], transports)


def _ask(paths: WorkerPaths, message: dict[str, Any], timeout: float = PING_TIMEOUT_S) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
        conn.settimeout(timeout)
        conn.connect(os.fsencode(paths.socket))
        conn.send(encode(message))
        return decode(conn.recv(MAX_PACKET))


def ping(paths: WorkerPaths) -> dict[str, Any] | None:
    """The running worker's ``pong`` (pid, fingerprint), or None when none answers."""
    try:
        reply = _ask(paths, {"op": "ping"})
    except (OSError, ProtocolError):
        return None
    return reply if reply.get("event") == "pong" else None


async def ensure(paths: WorkerPaths, mark: str, idle_s: float) -> int:
    """The pid of a worker of this home running this code, started (and waited for) if need be."""
    pong = ping(paths)
    if pong is not None and pong.get("fingerprint") == mark:
        return int(pong["pid"])
    paths.prepare()
    deadline = time.monotonic() + START_TIMEOUT_S
    lock = os.open(paths.start_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:  # async-friendly flock: the TUI's event loop keeps running meanwhile
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WorkerUnavailable("another process is starting the worker") from None
                await asyncio.sleep(0.05)
        pong = ping(paths)  # started by whoever held the lock
        if pong is not None and pong.get("fingerprint") == mark:
            return int(pong["pid"])
        if pong is not None:  # older code: it takes no more requests, exits once its children end
            with contextlib.suppress(OSError, ProtocolError):
                _ask(paths, {"op": "retire"})
        return await _start(paths, mark, idle_s, deadline)
    finally:
        os.close(lock)


async def _start(paths: WorkerPaths, mark: str, idle_s: float, deadline: float) -> int:
    from console.child_env import child_env

    env = child_env()  # the allow-list, no credentials: they travel with each request
    env[IDLE_VAR] = f"{idle_s:g}"
    log = os.open(paths.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # a quick fork/exec, not waited for: the worker outlives this process
        argv = [sys.executable, "-m", SERVER_MODULE, "--home", str(paths.directory.parent)]
        proc = subprocess.Popen(  # noqa: ASYNC220
            [*argv, "--idle-seconds", f"{idle_s:g}"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    finally:
        os.close(log)
    _STARTED[:] = [p for p in _STARTED if p.poll() is None]  # reap the ones that ended
    _STARTED.append(proc)
    while time.monotonic() < deadline:
        pong = ping(paths)
        if pong is not None and pong.get("fingerprint") == mark:
            return int(pong["pid"])
        if proc.poll() is not None:
            raise WorkerUnavailable(f"the worker exited ({proc.returncode})")
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise WorkerUnavailable("the worker did not start in time")


def stop(home: Path | str, timeout: float = 10.0) -> bool:
    """Stop the home's worker (its running children are killed); True when one was running."""
    paths = WorkerPaths.for_home(home)
    pong = ping(paths)
    if pong is None:
        return False
    with contextlib.suppress(OSError, ProtocolError):
        _ask(paths, {"op": "stop"})
    pid = int(pong["pid"])
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return True

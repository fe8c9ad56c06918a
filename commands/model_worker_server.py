"""The model worker of a console home: a fork server that keeps mlflow and scikit-learn imported.

``python -m commands.model_worker_server --home HOME [--idle-seconds S]`` is started by
``commands.model_worker`` on first use, with the allow-listed environment of
``console.child_env`` and no credentials. It imports what model work needs (mlflow's pyfunc,
scikit-learn, pandas, pyiceberg and the console's own check and probe modules), then serves the
requests of ``commands.model_worker_protocol`` on its socket: for each ``run`` it forks a child
that starts a new session, takes the request's stdin/stdout/stderr, environment (credentials
travel here, to the child only) and working directory, runs ``module.main(args)`` and exits with
its code. The worker reports the child's pid, then its exit code, to the requester; a requester
that goes away takes its child with it (the worker kills the child's process group).

One per home (``worker.lock`` held for life); it exits after ``--idle-seconds`` with no request
and no child running, on ``stop`` or SIGTERM (its running children are killed), and when another
user connects nothing is served (``SO_PEERCRED``). It never logs environment values.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from commands.model_worker_protocol import (
    MAX_PACKET,
    SERVER_MODULE,
    ProtocolError,
    RunRequest,
    WorkerPaths,
    decode,
    encode,
    fingerprint,
    log_line,
)

LOG_LIMIT = 1 << 20
# imported before the first fork: what every model job pays for (the heavy part of each job)
PRELOAD = (
    "numpy",
    "pandas",
    "sklearn",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.preprocessing",
    "mlflow",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "mlflow.artifacts",
    "skops.io",
    "pyarrow",
    "pyiceberg.catalog.sql",
    "commands.model_cache",
    "commands.probe",
    "commands.invariance_gate",
    "commands.invariance_signature",
    "commands.invariance",
)


def preload(paths: WorkerPaths) -> None:
    started = time.monotonic()
    missing = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a missing optional package is the child's business
            missing.append(f"{name} ({type(exc).__name__})")
    try:  # what every pyfunc load_model computes once per process: the venv's package map
        from mlflow.utils.requirements_utils import _init_modules_to_packages_map

        _init_modules_to_packages_map()
    except Exception as exc:  # noqa: BLE001 - a private helper of MLflow's: the child does it then
        missing.append(f"the package map ({type(exc).__name__})")
    if missing:
        log_line(paths, f"not preloaded: {', '.join(missing)}")
    log_line(paths, f"preloaded in {time.monotonic() - started:.2f} s")


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _send(conn: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        conn.send(encode(message))


class Worker:
    def __init__(self, paths: WorkerPaths, idle_s: float, lock_fd: int) -> None:
        self.paths = paths
        self.idle_s = idle_s
        self.lock_fd = lock_fd
        self.fingerprint = fingerprint()
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket] = {}  # child pid -> its requester's connection
        self.last_active = time.monotonic()
        self.stopping = False
        self.draining = False
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.wake_r, self.wake_w = os.pipe()

    # --- setup and teardown ---------------------------------------------------------------------

    def bind(self) -> None:
        path = self.paths.socket
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        old = os.umask(0o177)
        try:
            self.listener.bind(os.fsencode(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        self.listener.listen(16)
        self.listener.setblocking(False)
        state = {
            "pid": os.getpid(),
            "fingerprint": self.fingerprint,
            "socket": str(path),
            "started": time.time(),
        }
        tmp = self.paths.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.chmod(tmp, 0o600)
        tmp.replace(self.paths.state)

    def cleanup(self) -> None:
        for pid in list(self.children):
            self._kill_group(pid, signal.SIGKILL)
        self._release_files()

    def _release_files(self) -> None:
        doc = self.paths.read_state()
        if doc and doc.get("pid") == os.getpid():
            for path in (self.paths.state, self.paths.socket):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def _kill_group(self, pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)

    # --- the loop --------------------------------------------------------------------------------

    def serve(self) -> None:
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        while not self.stopping:
            timeout = None
            if not self.children and self.draining:
                break
            if not self.children:
                timeout = max(0.0, self.last_active + self.idle_s - time.monotonic())
                if timeout == 0.0:
                    log_line(self.paths, f"idle for {self.idle_s:g} s; exiting")
                    break
            for key, _ in self.selector.select(timeout):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    self._drain_wake()
                else:
                    self._peer_event(key.fileobj)  # type: ignore[arg-type]
            self._reap()
        if self.stopping:
            log_line(self.paths, "stopped")

    def _drain(self) -> None:
        """Take no more requests (a newer worker may bind the socket); exit once idle."""
        self.draining = True
        self.selector.unregister(self.listener)
        self.listener.close()
        self._release_files()
        os.close(self.lock_fd)  # the lock names the serving worker: a new one may start
        self.lock_fd = -1

    def _on_term(self, *_: object) -> None:
        self.stopping = True

    def _drain_wake(self) -> None:
        try:
            while os.read(self.wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            log_line(self.paths, f"child {pid} exited {code}")
            _send(conn, {"event": "exit", "code": code})
            with contextlib.suppress(KeyError):  # not when the requester went away first
                self.selector.unregister(conn)
            conn.close()
            self.last_active = time.monotonic()

    def _peer_event(self, conn: socket.socket) -> None:
        """A requester's connection became readable: it went away, so its child goes too."""
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        if data:
            return
        self.selector.unregister(conn)  # at its end: it would wake the loop until the reaping
        for pid, owner in list(self.children.items()):
            if owner is conn:
                log_line(self.paths, f"requester of child {pid} went away; killing it")
                self._kill_group(pid, signal.SIGKILL)

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        self.last_active = time.monotonic()
        try:
            conn.settimeout(5.0)
            if _peer_uid(conn) != os.getuid():
                log_line(self.paths, "refused a connection from another user")
                conn.close()
                return
            data, fds, _flags, _addr = socket.recv_fds(conn, MAX_PACKET, 3)
        except OSError:
            conn.close()
            return
        try:
            self._handle(conn, decode(data), fds)
        except ProtocolError as exc:
            _send(conn, {"event": "refused", "reason": str(exc)})
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _handle(self, conn: socket.socket, doc: dict, fds: list[int]) -> None:
        op = doc.get("op")
        if op == "ping":
            _send(conn, {"event": "pong", "pid": os.getpid(), "fingerprint": self.fingerprint})
            conn.close()
            return
        if op == "stop":
            _send(conn, {"event": "stopping"})
            conn.close()
            self.stopping = True
            return
        if op == "retire":
            self._drain()
            _send(conn, {"event": "retiring"})
            conn.close()
            log_line(self.paths, "retired by a client of newer code; exiting once idle")
            return
        if op != "run":
            raise ProtocolError(f"unknown op {op!r}")
        request = RunRequest.from_wire(doc)
        if request.fingerprint != self.fingerprint:
            _send(conn, {"event": "refused", "reason": "stale"})
            conn.close()
            log_line(self.paths, "the code or the venv changed; exiting once its children end")
            self._drain()
            return
        if len(fds) != 3:
            raise ProtocolError("a run needs stdin, stdout and stderr")
        pid = os.fork()
        if pid == 0:
            conn.close()  # the requester sees the worker's end close when the worker goes
            self._child(request, fds)  # never returns
        conn.setblocking(False)
        self.children[pid] = conn
        self.selector.register(conn, selectors.EVENT_READ, "peer")
        log_line(self.paths, f"served {request.module} as child {pid}")
        _send(conn, {"event": "started", "pid": pid})

    # --- in the forked child ---------------------------------------------------------------------

    def _child(self, request: RunRequest, fds: list[int]) -> None:
        code = 70
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            os.setsid()
            for fd in (self.lock_fd, self.wake_r, self.wake_w):
                if fd >= 0:
                    os.close(fd)
            self.selector.close()
            self.listener.close()
            for conn in self.children.values():
                conn.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
            if request.cwd:
                os.chdir(request.cwd)
            os.environ.clear()
            os.environ.update(request.env)
            sys.argv = [request.module, *request.args]
            code = _run_main(request.module, request.args)
        except BaseException:  # noqa: BLE001 - the child must never return into the worker loop
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)


def _run_main(module: str, args: list[str]) -> int:
    try:
        result = importlib.import_module(module).main(args)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - as the interpreter would: the traceback on stderr, exit 1
        traceback.print_exc()
        return 1
    return int(result or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {SERVER_MODULE}", description="the model worker of a console home"
    )
    parser.add_argument("--home", required=True)
    parser.add_argument("--idle-seconds", type=float, default=900.0)
    args = parser.parse_args(argv)
    paths = WorkerPaths.for_home(Path(args.home))
    paths.prepare()
    lock_fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("a model worker of this home is running", file=sys.stderr)
        return 3
    os.set_inheritable(lock_fd, False)
    with contextlib.suppress(OSError):  # one older log kept; stderr follows to the new one
        if paths.log.stat().st_size > LOG_LIMIT:
            paths.log.replace(paths.log.with_name("worker.log.1"))
            fd = os.open(paths.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.dup2(fd, 2)
            os.close(fd)
    log_line(paths, "starting")
    preload(paths)
    if threading.active_count() > 1:  # forking with threads could deadlock a child
        log_line(paths, f"{threading.active_count() - 1} threads after preload; not serving")
        return 4
    worker = Worker(paths, args.idle_seconds, lock_fd)
    try:
        worker.bind()
        worker.serve()
    finally:
        worker.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

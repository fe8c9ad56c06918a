"""Supervisor of the embedded MLflow server: runs it, stops it when idle or asked (stdlib only).

Started by ``console.embedded.lifecycle`` in a new session so it outlives the console. It runs
``mlflow server`` in its own process group (or adopts one already running), and stops that whole
group and exits when ``last-used`` is older than the idle limit, on SIGTERM/SIGINT/SIGHUP, or
when the server dies — a killed ``mlflow server`` leaves its uvicorn worker serving the port, so
the group is always taken down, never left behind. It never restarts a server: the next
``ensure_server`` does that. Files it and the server create are private (umask 077). It also
runs the registry history's webhook receiver (``console.history.receiver``) for the server's
lifetime.

    python -m console.embedded.supervisor --home H --port P --idle-minutes M [--pid-fd N]
        (--adopt PID | -- MLFLOW-COMMAND...)

"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from console.embedded import procs
from console.history import receiver as history_receiver
from console.private_files import PRIVATE_UMASK

POLL_ENV = "MLOPS_CONSOLE_EMBEDDED_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 2.0
STOP_GRACE_SECONDS = 10.0


class _StopRequested(Exception):
    """Raised from the signal handler so a sleeping loop wakes up at once."""


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} supervisor[{os.getpid()}]: {message}", flush=True)


def _idle_seconds(last_used: Path) -> float:
    try:
        return time.time() - last_used.stat().st_mtime
    except OSError:
        return float("inf")  # nobody has marked use: treat as idle


def _stop_group(pgid: int, exited: Callable[[], bool]) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after a grace period."""
    procs.signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline and not (exited() and not procs.group_alive(pgid)):
        time.sleep(0.1)
    if procs.group_alive(pgid):
        procs.signal_group(pgid, signal.SIGKILL)
    exited()


def _forget_state(state_file: Path) -> None:
    """Remove the state file if it still describes this supervisor (a newer one may own it)."""
    try:
        data = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return
    if isinstance(data, dict) and data.get("supervisor_pid") == os.getpid():
        with contextlib.suppress(OSError):
            state_file.unlink()


@contextlib.contextmanager
def _try_lock(lock_file: Path) -> Iterator[bool]:
    """Hold the console's lock if it is free; yield whether we got it (never wait for it)."""
    with open(lock_file, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # a console holds it: it is using or (re)starting the server
            return
        yield True


def _start_receiver(home: str, port: int) -> history_receiver.Receiver | None:
    """The history webhook receiver; the server runs fine without it (history then observes)."""
    try:
        return history_receiver.Receiver(home, port, _log).start()
    except OSError as exc:
        _log(f"history receiver not started: {exc}")
        return None


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="embedded_supervisor")
    parser.add_argument("--home", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-minutes", type=float, default=60.0)
    parser.add_argument("--pid-fd", type=int, default=None)
    parser.add_argument("--adopt", type=int, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if (args.adopt is None) == (not args.command):
        parser.error("give either --adopt PID or -- MLFLOW-COMMAND")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    os.umask(PRIVATE_UMASK)  # mlflow.db, artifacts and logs the server writes: 0600 / 0700
    mlflow_dir = Path(args.home) / "mlflow"
    poll = float(os.environ.get(POLL_ENV) or DEFAULT_POLL_SECONDS)
    idle_limit = args.idle_minutes * 60.0

    def _on_signal(signum: int, _frame: object) -> None:
        raise _StopRequested(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    proc: subprocess.Popen[bytes] | None = None
    receiver: history_receiver.Receiver | None = None
    try:
        if args.adopt is not None:
            server_pid = args.adopt
            _log(f"adopted mlflow server pid {server_pid} on port {args.port}")
        else:
            # its own process group, so a stop reaches mlflow and its uvicorn worker together
            proc = subprocess.Popen(args.command, stdin=subprocess.DEVNULL, process_group=0)
            server_pid = proc.pid
            _log(f"started mlflow server pid {server_pid} on port {args.port}")
        if args.pid_fd is not None:
            with contextlib.suppress(OSError):
                os.write(args.pid_fd, f"{server_pid}\n".encode())
                os.close(args.pid_fd)
        receiver = _start_receiver(args.home, args.port)

        def exited() -> bool:
            if proc is not None:
                return proc.poll() is not None
            return not procs.is_alive(server_pid)

        while True:
            if exited():
                code = proc.returncode if proc is not None else None
                # the server's workers outlive a killed server: take the whole group down
                if procs.group_alive(server_pid):
                    _log("mlflow server died; stopping what is left of its process group")
                    _stop_group(server_pid, exited)
                _log(f"mlflow server exited (code {code}); supervisor exits")
                _forget_state(mlflow_dir / "server.json")
                return 1 if code is None else (code or 0)
            if idle_limit > 0 and _idle_seconds(mlflow_dir / "last-used") > idle_limit:
                # decide and stop under the lock, so a console reusing the server right now wins
                # the race and one starting a new server waits until this one is gone
                with _try_lock(mlflow_dir / "lock") as locked:
                    if locked and _idle_seconds(mlflow_dir / "last-used") > idle_limit:
                        _log(f"idle for more than {args.idle_minutes:g} min; stopping the server")
                        _forget_state(mlflow_dir / "server.json")
                        _stop_group(server_pid, exited)
                        return 0
            time.sleep(poll)
    except _StopRequested as why:
        _log(f"{why}: stopping the server")
        pid = proc.pid if proc is not None else args.adopt
        if pid is not None:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the stop
            _stop_group(pid, lambda: proc.poll() is not None if proc else not procs.is_alive(pid))
        _forget_state(mlflow_dir / "server.json")
        return 0
    finally:
        if receiver is not None:
            receiver.stop()


if __name__ == "__main__":
    raise SystemExit(main())

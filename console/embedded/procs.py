"""Process and port facts for the embedded server, from ``/proc`` and raw sockets (stdlib only).

Shared by ``console.embedded.lifecycle`` and its supervisor process, so it must stay free of
third-party imports: the supervisor runs for hours next to the server and should cost almost
nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state, ppid, pgrp, session, ...)."""
    try:
        raw = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    return raw[raw.rfind(b")") + 2 :].decode("ascii", "replace").split()


def is_alive(pid: int | None) -> bool:
    """True if ``pid`` is a running process (a zombie awaiting its reaping counts as dead)."""
    if not pid or pid <= 0:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return False
    if fields[0] in ("Z", "X"):
        reap(pid)
        return False
    return True


def reap(pid: int) -> None:
    """Collect the exit status of ``pid`` if it is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def cmdline(pid: int) -> list[str]:
    """The arguments of ``pid`` (empty if it is gone or unreadable)."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def session_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[3]) if fields else None


def _listening_sockets() -> Iterator[tuple[str, str]]:
    """(local address ``HEX:PORT``, socket inode) of every listening TCP socket, IPv4 and IPv6."""
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            # cols: sl local_address rem_address st ... inode; st 0A is LISTEN
            if len(cols) > 9 and cols[3] == "0A":
                yield cols[1], cols[9]


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on TCP ``port`` on any local address (IPv4 and IPv6)."""
    wanted = f":{port:04X}"
    return {inode for address, inode in _listening_sockets() if address.endswith(wanted)}


def _session_socket_inodes(session: int) -> set[str]:
    """Socket inodes held open by any process of ``session``."""
    found: set[str] = set()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if not fields or fields[3] != str(session):
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    found.add(target[8:-1])
    return found


def port_owner(port: int, session: int) -> str:
    """Who listens on ``port``: ``"free"``, ``"ours"`` (in ``session``) or ``"foreign"``."""
    listening = _listening_inodes(port)
    if not listening:
        return "free"
    return "ours" if listening & _session_socket_inodes(session) else "foreign"


def health_ok(port: int, timeout: float = 0.5) -> bool:
    """One ``GET /health`` on 127.0.0.1 over a raw socket; True on HTTP 200.

    A raw socket rather than an HTTP library: the warm path must cost milliseconds, and the
    supervisor must not import anything heavy.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except OSError:
        return False
    parts = head.split(b" ", 2)
    return len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1] == b"200"


def free_port(avoid: set[int] | frozenset[int] = frozenset()) -> int:
    """A TCP port on 127.0.0.1 that is free right now (another process may still take it)."""
    port = 0
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port
    return port


def group_alive(pgid: int) -> bool:
    """True while any process of process group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def signal_pid(pid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


# --- finding a home's processes by what they serve ---------------------------------------------

SERVER_STORE_ENV = b"_MLFLOW_SERVER_FILE_STORE="  # how `mlflow server` hands the store to uvicorn
SUPERVISOR_MODULE = "console.embedded.supervisor"  # its command line names the store too
# the name a console before the package layout started it under: still found, so an upgrade does
# not lose the running supervisor (and start a second server on the same store)
SUPERVISOR_MODULES = (SUPERVISOR_MODULE, "console.embedded_supervisor")


def _pids() -> list[int]:
    return [int(e.name) for e in _PROC.iterdir() if e.name.isdigit()]


def _environ_has(pid: int, entry: bytes) -> bool:
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return entry in raw.split(b"\0")


def group_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[2]) if fields else None


def parent_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def serving(backend_uri: str) -> list[int]:
    """Live pids serving ``backend_uri``: ``mlflow server`` processes naming it on their command
    line, and their workers (uvicorn) that received it in their environment.

    Found from ``/proc`` whatever any state file says, so a crashed parent's orphaned worker or a
    server recorded in a file since overwritten is still found.
    """
    me = os.getpid()
    entry = SERVER_STORE_ENV + backend_uri.encode()
    found = []
    for pid in _pids():
        if pid == me or not is_alive(pid):
            continue
        args = cmdline(pid)
        if not args or not any("mlflow" in a or "uvicorn" in a for a in args):
            continue
        if any(m in args for m in SUPERVISOR_MODULES):
            continue
        if backend_uri in args or _environ_has(pid, entry):
            found.append(pid)
    return found


def supervisors(modules: str | tuple[str, ...], home: str) -> list[int]:
    """Live pids running ``python -m MODULE --home home`` for one of ``modules``."""
    names = (modules,) if isinstance(modules, str) else modules
    me = os.getpid()
    found = []
    for pid in _pids():
        if pid == me:
            continue
        args = cmdline(pid)
        if any(m in args for m in names) and "--home" in args:
            i = args.index("--home")
            if i + 1 < len(args) and args[i + 1] == home and is_alive(pid):
                found.append(pid)
    return found


def listening_ports(pids: list[int]) -> set[int]:
    """TCP ports any of ``pids`` listens on (IPv4 and IPv6)."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in (_PROC / str(pid) / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    return {
        int(address.rsplit(":", 1)[1], 16)
        for address, inode in _listening_sockets()
        if inode in inodes
    }

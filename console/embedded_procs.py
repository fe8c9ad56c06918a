"""Process and port facts for the embedded server, from ``/proc`` and raw sockets (stdlib only).

Shared by ``console.embedded`` and its supervisor process, so it must stay free of third-party
imports: the supervisor runs for hours next to the server and should cost almost nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
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


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on TCP ``port`` on any local address (IPv4 and IPv6)."""
    inodes: set[str] = set()
    wanted = f":{port:04X}"
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            # cols: sl local_address rem_address st ... inode; st 0A is LISTEN
            if len(cols) > 9 and cols[3] == "0A" and cols[1].endswith(wanted):
                inodes.add(cols[9])
    return inodes


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

"""The embedded lifecycle's paths and its MLflow tracking server: start once, reuse, stop (sync).

``ensure_server`` starts ``mlflow server`` on 127.0.0.1 under a small supervisor process (see
``console.embedded.supervisor``) that outlives the console and stops the server after an idle
period; later calls reuse it in milliseconds. A lock file serialises consoles starting at once.
Called from CLI handlers and TUI worker threads; imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from console.embedded import procs
from console.errors import EmbeddedError
from console.private_files import open_private, private_dir, touch_private, write_private

Progress = Callable[[str], object]  # what it returns is ignored

SUPERVISOR_MODULE = procs.SUPERVISOR_MODULE
PORT_ATTEMPTS = 3
LOG_TAIL_BYTES = 64_000


def _no_progress(message: str) -> None:
    return None


@dataclass(frozen=True)
class EmbeddedPaths:
    """Every path of the embedded lifecycle under the console's home directory."""

    home: Path
    mlflow_db: Path
    artifacts: Path
    state_file: Path
    server_log: Path
    lock_file: Path
    last_used: Path
    iceberg_catalog_db: Path
    iceberg_warehouse: Path
    datahub_lite_db: Path
    openlineage_events: Path
    git_repo: Path
    audit_dir: Path
    transcripts_dir: Path

    @classmethod
    def for_home(cls, home: Path | str) -> EmbeddedPaths:
        home = Path(home).expanduser().resolve()  # one spelling per home: pids are matched by it
        mlflow = home / "mlflow"
        return cls(
            home=home,
            mlflow_db=mlflow / "mlflow.db",
            artifacts=mlflow / "artifacts",
            state_file=mlflow / "server.json",
            server_log=mlflow / "server.log",
            lock_file=mlflow / "lock",
            last_used=mlflow / "last-used",
            iceberg_catalog_db=home / "iceberg" / "catalog.db",
            iceberg_warehouse=home / "iceberg" / "warehouse",
            datahub_lite_db=home / "datahub" / "lite.db",
            openlineage_events=home / "openlineage" / "events.jsonl",
            git_repo=home / "git" / "training-code",
            audit_dir=home / "audit",
            transcripts_dir=home / "transcripts",
        )

    @property
    def mlflow_dir(self) -> Path:
        return self.state_file.parent

    @property
    def backend_uri(self) -> str:
        return f"sqlite:///{self.mlflow_db}"

    def create_server_dirs(self) -> None:
        """Create what the MLflow server needs (a fresh machine has no home yet), private (0700)."""
        try:
            private_dir(self.home)
            private_dir(self.mlflow_dir)
            private_dir(self.artifacts)
        except OSError as exc:
            raise EmbeddedError(
                f"cannot create the console home {self.home}: {exc.strerror}",
                hint="choose a writable directory with --home or MLOPS_CONSOLE_HOME",
            ) from None


class ServerState(BaseModel):
    """What ``server.json`` records about the running server."""

    supervisor_pid: int
    server_pid: int
    port: int
    tracking_uri: str
    started_at: datetime
    home: str
    idle_minutes: float


class EmbeddedStatus(BaseModel):
    """What is running where; ``detail`` is one human sentence."""

    running: bool
    tracking_uri: str | None = None
    pid: int | None = None
    supervisor_pid: int | None = None
    port: int | None = None
    home: str
    started_at: datetime | None = None
    idle_minutes: float | None = None
    detail: str


# --- state file, liveness -----------------------------------------------------------------------


def _read_state(paths: EmbeddedPaths) -> tuple[ServerState | None, str | None]:
    """The recorded state, or (None, why it was ignored); a missing file is not worth a note."""
    try:
        raw = paths.state_file.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"state file unreadable ({exc.strerror}); ignored"
    try:
        return ServerState.model_validate_json(raw), None
    except ValidationError:
        return None, "state file was corrupt; ignored"


def _write_state(paths: EmbeddedPaths, state: ServerState) -> None:
    write_private(paths.state_file, state.model_dump_json(indent=2))


def _remove_state(paths: EmbeddedPaths) -> None:
    with contextlib.suppress(FileNotFoundError):
        paths.state_file.unlink()


def _is_our_supervisor(pid: int, paths: EmbeddedPaths) -> bool:
    args = procs.cmdline(pid)
    ours = any(m in args for m in procs.SUPERVISOR_MODULES)
    return procs.is_alive(pid) and ours and str(paths.home) in args


def _is_our_server(pid: int, paths: EmbeddedPaths) -> bool:
    """Alive and really our ``mlflow server`` (a recycled pid runs something else)."""
    args = procs.cmdline(pid)
    return (
        procs.is_alive(pid)
        and "server" in args
        and any("mlflow" in a for a in args[:3])
        and paths.backend_uri in args
    )


def _healthy(port: int, attempts: int = 1) -> bool:
    # a first quick try keeps the warm path fast; later ones allow for a busy machine
    return any(procs.health_ok(port, timeout=0.5 if i == 0 else 2.0) for i in range(attempts))


def touch(home: Path | str) -> None:
    """Mark the embedded server as in use now; the supervisor stops it after the idle period."""
    paths = EmbeddedPaths.for_home(home)
    try:
        touch_private(paths.last_used)
    except FileNotFoundError:
        private_dir(paths.mlflow_dir)
        touch_private(paths.last_used)


@contextlib.contextmanager
def _locked(paths: EmbeddedPaths, timeout: float, progress: Progress) -> Iterator[None]:
    """Hold the home's lock, waiting (with progress) while another console starts or stops."""
    with open_private(paths.lock_file, "ab") as lock:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EmbeddedError(
                        f"another process has held {paths.lock_file} for over {timeout:.0f} s",
                        hint="wait for the other console to finish starting the server, "
                        "or run `mlops-console embedded status`",
                    ) from None
                if not told:
                    progress("another console is starting the embedded MLflow server; waiting…")
                    told = True
                time.sleep(0.1)
        yield


# --- status --------------------------------------------------------------------------------------


def _status_from(state: ServerState, paths: EmbeddedPaths, detail: str) -> EmbeddedStatus:
    return EmbeddedStatus(
        running=True,
        tracking_uri=state.tracking_uri,
        pid=state.server_pid,
        supervisor_pid=state.supervisor_pid,
        port=state.port,
        home=str(paths.home),
        started_at=state.started_at,
        idle_minutes=state.idle_minutes,
        detail=detail,
    )


def _stopped(paths: EmbeddedPaths, detail: str) -> EmbeddedStatus:
    return EmbeddedStatus(running=False, home=str(paths.home), detail=detail)


def _idle_note(state: ServerState) -> str:
    if state.idle_minutes <= 0:
        return "never stopped for idling"
    return f"stops after {state.idle_minutes:g} min idle"


def status(home: Path | str) -> EmbeddedStatus:
    """What runs in ``home`` right now. Never starts, stops or writes anything."""
    paths = EmbeddedPaths.for_home(home)
    state, note = _read_state(paths)
    if state is None:
        return _unrecorded(paths) or _stopped(paths, f"not running{f' ({note})' if note else ''}")
    if not _is_our_server(state.server_pid, paths):
        return _unrecorded(paths) or _stopped(
            paths, f"not running (recorded server pid {state.server_pid} is gone; stale state)"
        )
    if not _healthy(state.port):
        return _stopped(
            paths,
            f"server pid {state.server_pid} is alive but not answering on port {state.port}",
        )
    supervised = _is_our_supervisor(state.supervisor_pid, paths)
    detail = f"running since {state.started_at:%Y-%m-%d %H:%M:%S} UTC, " + (
        _idle_note(state) if supervised else "its supervisor is gone (no idle stop until reused)"
    )
    return _status_from(state, paths, detail)


# --- processes found by what they serve -----------------------------------------------------------
#
# server.json is a cache, not the truth: a killed server leaves its uvicorn worker serving, and a
# garbage or overwritten record hides a live server. The truth is /proc: every process serving this
# home's mlflow.db (its command line or, for uvicorn, its environment names the backend store).


def _found_server(paths: EmbeddedPaths, servers: list[int]) -> tuple[int, int] | None:
    """(leader pid, port) of a healthy ``mlflow server`` group of this home among ``servers``."""
    groups: dict[int, list[int]] = {}
    for pid in servers:
        pgid = procs.group_of(pid)
        if pgid is not None:
            groups.setdefault(pgid, []).append(pid)
    for pgid, members in sorted(groups.items()):
        if pgid not in members or not _is_our_server(pgid, paths):
            continue  # an orphaned worker whose server was killed: never reused
        for port in sorted(procs.listening_ports(members)):
            if _healthy(port, attempts=2):
                return pgid, port
    return None


def _owner(leader: int, supervisors: list[int]) -> int | None:
    """The supervisor of ``leader``: its parent, or one that adopted it."""
    parent = procs.parent_of(leader)
    if parent in supervisors:
        return parent
    for pid in supervisors:
        args = procs.cmdline(pid)
        if "--adopt" in args and str(leader) in args:
            return pid
    return None


def _unrecorded(paths: EmbeddedPaths) -> EmbeddedStatus | None:
    """Status of a server of this home that server.json does not (correctly) record."""
    servers = procs.serving(paths.backend_uri)
    if not servers:
        return None
    found = _found_server(paths, servers)
    if found is None:
        return _stopped(
            paths,
            f"not running, but {len(servers)} leftover process(es) still hold this home's "
            f"database (pids {', '.join(map(str, sorted(servers)))}); "
            "`mlops-console embedded stop` ends them, the next start replaces them",
        )
    leader, port = found
    return EmbeddedStatus(
        running=True,
        tracking_uri=f"http://127.0.0.1:{port}",
        pid=leader,
        supervisor_pid=_owner(leader, procs.supervisors(procs.SUPERVISOR_MODULES, str(paths.home))),
        port=port,
        home=str(paths.home),
        detail="running, but not recorded in server.json (the next command re-records it)",
    )


def _stop_all(
    paths: EmbeddedPaths, keep: int | None = None, keep_supervisor: int | None = None
) -> bool:
    """Stop every server group and supervisor of this home except the kept ones; True if any."""
    servers = procs.serving(paths.backend_uri)
    groups = {procs.group_of(pid) for pid in servers} - {None, keep}
    sups = procs.supervisors(procs.SUPERVISOR_MODULES, str(paths.home))
    sups = [s for s in sups if s != keep_supervisor]
    for sup in sups:
        _terminate(sup, None, grace=10.0)
    for pgid in groups:
        _terminate(None, pgid, grace=10.0)
    return bool(groups or sups)


def _recover(paths: EmbeddedPaths, idle_minutes: float, progress: Progress) -> ServerState | None:
    """No usable record: reuse a healthy server of this home found on /proc, stop every other one.

    This is what keeps one database under one server: whatever happened to server.json, a second
    server is never started next to a live one.
    """
    servers = procs.serving(paths.backend_uri)
    sups = procs.supervisors(procs.SUPERVISOR_MODULES, str(paths.home))
    if not servers and not sups:
        return None
    found = _found_server(paths, servers)
    state = None
    if found is not None:
        leader, port = found
        owner = _owner(leader, sups)
        state = ServerState(
            supervisor_pid=owner or 0,
            server_pid=leader,
            port=port,
            tracking_uri=f"http://127.0.0.1:{port}",
            started_at=datetime.now(UTC).replace(microsecond=0),
            home=str(paths.home),
            idle_minutes=idle_minutes,
        )
        progress(f"found this home's MLflow server unrecorded (pid {leader}, port {port})")
    leftovers = _stop_all(
        paths,
        keep=state.server_pid if state else None,
        keep_supervisor=state.supervisor_pid if state else None,
    )
    if leftovers:
        progress("stopped leftover processes of this home's MLflow server")
    if state is not None:
        if not state.supervisor_pid:
            return _adopt(state, paths, idle_minutes)
        _write_state(paths, state)
    return state


# --- start ---------------------------------------------------------------------------------------


def _mlflow_command() -> list[str]:
    """The venv's own MLflow: ``python -m mlflow`` if importable, else the script beside python."""
    if importlib.util.find_spec("mlflow") is not None:
        return [sys.executable, "-m", "mlflow"]
    script = Path(sys.executable).with_name("mlflow")
    if script.exists():
        return [str(script)]
    raise EmbeddedError(
        f"MLflow is not installed for {sys.executable}",
        hint="run `uv sync` in the project, or set MLFLOW_TRACKING_URI to an existing server",
    )


def _server_command(paths: EmbeddedPaths, port: int) -> list[str]:
    return [
        *_mlflow_command(),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        paths.backend_uri,
        "--artifacts-destination",
        str(paths.artifacts),
        "--workers",
        "1",
    ]


def _server_env(paths: EmbeddedPaths) -> dict[str, str]:
    """The supervisor's (and so the server's) environment: allow-listed, no secret of the shell.

    Both run for hours after the console exits; neither needs any credential. Registry webhooks
    to the history receiver on loopback are allowed for this server only.
    """
    from console.child_env import child_env
    from console.history.receiver import server_env

    env = child_env({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PYTHONUNBUFFERED": "1"})
    env.update(server_env(paths.home))
    return env


def _rotate_log(paths: EmbeddedPaths) -> None:
    """Keep the previous start's log as ``server.log.1``; this start writes a fresh one."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(paths.server_log, paths.server_log.with_suffix(".log.1"))
        os.chmod(paths.server_log.with_suffix(".log.1"), 0o600)


_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b.*")


def _log_summary(paths: EmbeddedPaths) -> str:
    """The line of ``server.log`` that says why the server failed (the last exception line)."""
    try:
        with open(paths.server_log, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
            lines = log.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "no server log was written"
    errors = [ln.strip() for ln in lines if _ERROR_LINE.match(ln)]
    if errors:
        return errors[-1][:300]
    meaningful = [ln.strip() for ln in lines if ln.strip() and "supervisor[" not in ln]
    return meaningful[-1][:300] if meaningful else "the server log is empty"


def _failure_hint(paths: EmbeddedPaths, summary: str) -> str:
    lowered = summary.lower()
    if "not a database" in lowered or "malformed" in lowered or "unable to open" in lowered:
        return (
            f"the backend database {paths.mlflow_db} is damaged or unreadable: move it aside "
            "and run `mlops-console embedded start` (or `mlops-console demo --reset`)"
        )
    if "readonly" in lowered or "permission" in lowered:
        return f"make {paths.mlflow_dir} writable, then run `mlops-console embedded start`"
    return f"see {paths.server_log}, then run `mlops-console embedded start` again"


@dataclass
class _Attempt:
    port: int
    supervisor: subprocess.Popen[bytes]
    pid_pipe: int
    server_pid: int | None = None

    def read_server_pid(self) -> int | None:
        if self.server_pid is None:
            with contextlib.suppress(BlockingIOError, OSError):
                data = os.read(self.pid_pipe, 64)
                if data.strip().isdigit():
                    self.server_pid = int(data.strip())
        return self.server_pid

    def abandon(self) -> None:
        """Stop this attempt's supervisor (it stops its server) and wait for both to go."""
        _terminate(self.supervisor.pid, self.read_server_pid(), grace=15.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.supervisor.wait(timeout=1)
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.pid_pipe)


# Popen objects of supervisors we started, kept so they are reaped and never warned about.
_CHILDREN: list[subprocess.Popen[bytes]] = []


def _launch_supervisor(
    paths: EmbeddedPaths,
    port: int,
    idle_minutes: float,
    extra: list[str],
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start our supervisor in a session of its own, so it outlives the console and its terminal."""
    cmd = [
        sys.executable,
        "-m",
        SUPERVISOR_MODULE,
        "--home",
        str(paths.home),
        "--port",
        str(port),
        "--idle-minutes",
        repr(float(idle_minutes)),
        *extra,
    ]
    with open_private(paths.server_log, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=paths.mlflow_dir,
            env=_server_env(paths),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=pass_fds,
            start_new_session=True,
        )
    _CHILDREN[:] = [c for c in _CHILDREN if c.poll() is None]
    _CHILDREN.append(proc)
    return proc


def _spawn(paths: EmbeddedPaths, port: int, idle_minutes: float) -> _Attempt:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    extra = ["--pid-fd", str(write_fd), "--", *_server_command(paths, port)]
    try:
        proc = _launch_supervisor(paths, port, idle_minutes, extra, pass_fds=(write_fd,))
    except OSError as exc:
        os.close(read_fd)
        raise EmbeddedError(f"cannot start the embedded MLflow server: {exc}") from None
    finally:
        os.close(write_fd)
    return _Attempt(port=port, supervisor=proc, pid_pipe=read_fd)


def _log_mentions(paths: EmbeddedPaths, text: str) -> bool:
    try:
        with open(paths.server_log, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
            return text in log.read().decode("utf-8", "replace").lower()
    except OSError:
        return False


def _wait_ready(
    paths: EmbeddedPaths, attempt: _Attempt, deadline: float, started: float, progress: Progress
) -> str:
    """Poll until the server answers: ``ready``, ``port-taken``, ``exited`` or ``timeout``."""
    session = attempt.supervisor.pid  # the supervisor leads its own session
    next_report = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        if attempt.supervisor.poll() is not None:
            bind_failed = _log_mentions(paths, "address already in use")
            return "port-taken" if bind_failed else "exited"
        owner = procs.port_owner(attempt.port, session)
        if owner == "foreign":
            return "port-taken"
        if owner == "ours" and attempt.read_server_pid() and procs.health_ok(attempt.port, 1.0):
            return "ready"
        if time.monotonic() >= next_report:
            progress(
                f"waiting for the MLflow server on 127.0.0.1:{attempt.port}… "
                f"{time.monotonic() - started:.0f} s"
            )
            next_report += 3.0
        time.sleep(0.2)
    return "timeout"


def _start(
    paths: EmbeddedPaths, idle_minutes: float, timeout: float, progress: Progress
) -> ServerState:
    _rotate_log(paths)
    started = time.monotonic()
    deadline = started + timeout
    tried: set[int] = set()
    for _ in range(PORT_ATTEMPTS):
        port = _pick_port(tried)
        tried.add(port)
        progress(f"starting MLflow server on 127.0.0.1:{port} (first start takes 10–15 s)…")
        attempt = _spawn(paths, port, idle_minutes)
        try:
            outcome = _wait_ready(paths, attempt, deadline, started, progress)
        except BaseException:
            attempt.abandon()  # interrupted: leave nothing half-started behind
            raise
        if outcome == "ready":
            attempt.close()
            state = ServerState(
                supervisor_pid=attempt.supervisor.pid,
                server_pid=attempt.server_pid or 0,
                port=port,
                tracking_uri=f"http://127.0.0.1:{port}",
                started_at=datetime.now(UTC).replace(microsecond=0),
                home=str(paths.home),
                idle_minutes=idle_minutes,
            )
            _write_state(paths, state)
            progress(
                f"MLflow server ready at {state.tracking_uri} ({time.monotonic() - started:.1f} s)"
            )
            return state
        attempt.abandon()
        if outcome == "port-taken":
            progress(f"port {port} was taken by another process; trying another port")
            continue
        summary = _log_summary(paths)
        if outcome == "timeout":
            raise EmbeddedError(
                f"the embedded MLflow server did not answer within {timeout:.0f} s "
                f"(last log line: {summary})",
                hint=f"see {paths.server_log}; the machine may be busy — try again",
            )
        raise EmbeddedError(
            f"the embedded MLflow server failed to start: {summary}",
            hint=_failure_hint(paths, summary),
        )
    raise EmbeddedError(
        f"every port tried for the embedded MLflow server was taken ({sorted(tried)})",
        hint="another program is grabbing local ports; try again",
    )


def _pick_port(avoid: set[int]) -> int:
    """A free port for the next start (tests replace this to simulate a port race)."""
    return procs.free_port(avoid)


# --- stop ----------------------------------------------------------------------------------------


def _terminate(supervisor_pid: int | None, server_pid: int | None, grace: float) -> None:
    """Ask the supervisor to stop the server; kill both (server's whole group) if they linger."""
    if supervisor_pid and procs.is_alive(supervisor_pid):
        procs.signal_pid(supervisor_pid, signal.SIGTERM)
    elif server_pid:
        procs.signal_group(server_pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        sup_gone = not supervisor_pid or not procs.is_alive(supervisor_pid)
        srv_gone = not server_pid or not procs.group_alive(server_pid)
        if sup_gone and srv_gone:
            return
        time.sleep(0.1)
    if server_pid:
        procs.signal_group(server_pid, signal.SIGKILL)
    if supervisor_pid and procs.is_alive(supervisor_pid):
        procs.signal_pid(supervisor_pid, signal.SIGKILL)
    time.sleep(0.1)
    if supervisor_pid:
        procs.reap(supervisor_pid)


def _clear_stale(state: ServerState, paths: EmbeddedPaths) -> None:
    """Stop whatever of a broken recorded server is still ours, then forget it."""
    sup = state.supervisor_pid if _is_our_supervisor(state.supervisor_pid, paths) else None
    srv = state.server_pid if _is_our_server(state.server_pid, paths) else None
    if sup or srv:
        _terminate(sup, srv, grace=15.0)
    _remove_state(paths)


def stop(home: Path | str, timeout: float = 20.0) -> bool:
    """Stop the embedded server of ``home``; True if one was running."""
    paths = EmbeddedPaths.for_home(home)
    if not paths.mlflow_dir.exists():
        return False
    with _locked(paths, timeout, _no_progress):
        state, _ = _read_state(paths)
        srv = None
        if state is not None:
            sup = state.supervisor_pid if _is_our_supervisor(state.supervisor_pid, paths) else None
            srv = state.server_pid if _is_our_server(state.server_pid, paths) else None
            if sup or srv:
                _terminate(sup, srv, grace=timeout)
            _remove_state(paths)
        # and whatever serves this home's database without being recorded (orphans, lost records)
        leftovers = _stop_all(paths)
        return bool(srv) or leftovers


# --- ensure --------------------------------------------------------------------------------------


def _adopt(state: ServerState, paths: EmbeddedPaths, idle_minutes: float) -> ServerState:
    """Put a new supervisor over a healthy server whose supervisor was killed."""
    proc = _launch_supervisor(paths, state.port, idle_minutes, ["--adopt", str(state.server_pid)])
    adopted = state.model_copy(update={"supervisor_pid": proc.pid, "idle_minutes": idle_minutes})
    _write_state(paths, adopted)
    return adopted


def ensure_server(
    home: Path | str,
    *,
    progress: Progress = _no_progress,
    idle_minutes: float = 60.0,
    timeout: float = 120.0,
) -> EmbeddedStatus:
    """Return the running embedded server of ``home``, starting it first if needed.

    Warm (a healthy server of ours is recorded): a few milliseconds. Cold: 10–20 s, reported
    through ``progress``. Raises ``EmbeddedError`` with what to do when the server cannot start.
    """
    paths = EmbeddedPaths.for_home(home)
    paths.create_server_dirs()
    touch(paths.home)  # before the check: an idle supervisor must not stop what we reuse
    with _locked(paths, timeout, progress):
        state, note = _read_state(paths)
        if note:
            progress(f"embedded server: {note}")
        if state is not None:
            if _is_our_server(state.server_pid, paths) and _healthy(state.port, attempts=3):
                if not _is_our_supervisor(state.supervisor_pid, paths):
                    state = _adopt(state, paths, idle_minutes)
                return _status_from(
                    state, paths, f"reusing the server started {state.started_at:%H:%M:%S} UTC"
                )
            progress("the recorded embedded server is gone; starting a new one")
            _clear_stale(state, paths)
        elif paths.state_file.exists():
            _remove_state(paths)
        recovered = _recover(paths, idle_minutes, progress)
        if recovered is not None:
            return _status_from(recovered, paths, "reusing an unrecorded server of this home")
        state = _start(paths, idle_minutes, timeout, progress)
        # the start may have taken longer than a short idle limit; still under the lock, so the
        # new supervisor cannot decide the server is idle before this
        touch(paths.home)
        return _status_from(state, paths, "started")

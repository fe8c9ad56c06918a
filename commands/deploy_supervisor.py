"""Supervisor of one embedded deployment: runs its predict service, restarts it when it dies.

Started by ``deploy`` in a session of its own (it outlives the console), with an allow-listed
environment. Each (re)start builds the service command from the record, so a restart after a
rollout serves the rolled-out version; for a deployment on the embedded MLflow server the
tracking URI is re-resolved (that server may have idled out and come back on another port). The
service runs in its own process group. SIGTERM stops the group and removes the record; five quick
deaths in a row mark the record ``failed`` and end the supervisor.

    python -m commands.deploy_supervisor --record HOME/deployments/NAME.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from commands import deploy_records as records
from commands.serve import options
from console.embedded import procs

POLL_ENV = "MLOPS_CONSOLE_DEPLOY_POLL_SECONDS"
QUICK_DEATH_SECONDS = 20.0
MAX_QUICK_DEATHS = 5
STOP_GRACE_SECONDS = 10.0


class _Stop(Exception):
    pass


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} deploy-supervisor[{os.getpid()}]: {message}", flush=True)


def _tracking_uri(record) -> str:
    if not record.embedded_tracking:
        return record.tracking_uri
    from console.embedded.lifecycle import ensure_server

    status = ensure_server(record.home, progress=_log, idle_minutes=60.0)
    return status.tracking_uri or record.tracking_uri


def _start(path: Path) -> subprocess.Popen[bytes]:
    record = records.read(path)
    if record is None:
        raise _Stop("the record is gone")
    uri = _tracking_uri(record)
    cmd = options.command(
        records.python(),
        model=record.model,
        version=record.version,
        alias=record.alias,
        name=record.name,
        port=record.port,
        tracking_uri=uri,
        home=record.home,
        reload_token_file=str(records.ensure_token(record.home, record.name)),
    )
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, process_group=0)
    records.update(path, pid=proc.pid, tracking_uri=uri)
    _log(f"started service pid {proc.pid}: models:/{record.model}/{record.version} on {record.url}")
    return proc


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    procs.signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        procs.signal_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy_supervisor")
    parser.add_argument("--record", required=True)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path = Path(args.record)
    poll = float(os.environ.get(POLL_ENV) or 0.5)

    def on_signal(signum: int, _frame: object) -> None:
        raise _Stop(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    proc: subprocess.Popen[bytes] | None = None
    quick_deaths = 0
    try:
        records.update(path, supervisor_pid=os.getpid())
        proc = _start(path)
        started = time.monotonic()
        while True:
            time.sleep(poll)
            record = records.read(path)
            if record is None or record.supervisor_pid != os.getpid():
                raise _Stop("the record was removed or taken over")
            if record.state == "starting" and procs.health_ok(record.port):
                records.update(path, state="running", detail=None)
            code = proc.poll()
            if code is None:
                continue
            lived = time.monotonic() - started
            quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 1
            _log(f"service pid {proc.pid} exited with code {code} after {lived:.0f} s")
            if quick_deaths >= MAX_QUICK_DEATHS:
                records.update(
                    path,
                    state="failed",
                    pid=0,
                    detail=f"the service died {quick_deaths} times in a row (exit code {code}); "
                    f"see {records.log_path(record.home, record.name)}",
                )
                _log("giving up")
                return 1
            records.update(
                path,
                state="restarting",
                restarts=record.restarts + 1,
                detail=f"restarting after exit code {code}",
            )
            time.sleep(min(10.0, 0.5 * 2 ** (quick_deaths - 1)))
            proc = _start(path)
            started = time.monotonic()
            records.update(path, started=datetime.now(UTC).replace(microsecond=0))
            # "running" again once it answers (checked at the top of the loop)
            records.update(path, state="starting")
    except _Stop as why:
        _log(f"{why}: stopping the service")
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the stop
        _stop(proc)
        record = records.read(path)
        if record is not None and record.supervisor_pid == os.getpid():
            with records.locked(record.home):
                records.remove(path)
        return 0
    finally:
        with contextlib.suppress(Exception):
            if proc is not None and proc.poll() is None:
                _stop(proc)


if __name__ == "__main__":
    raise SystemExit(main())

"""The model worker of a home (``commands.model_worker``), with real parts: a real MLflow server,
a scikit-learn model logged with MLflow's own client, the installed CLI in new processes and the
worker a real fork server. What is held: a second request is forked by the worker (and its
models come from the download cache); a version re-registered under the same number is
downloaded again; cancelling kills the request's child and not the worker; a killed worker, or
one of older code, is replaced, and one that cannot start leaves the work to a plain process;
the idle timeout ends it; no secret reaches its environment or command line; its socket and
directory are this user's only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from commands.model_worker import ping, stop
from commands.model_worker_protocol import WorkerPaths
from commands.probe_runner import ProbeRequest, child_env, run_probe
from console.settings import Settings
from tests.promote.sklearn_models import ROOT, seed

API = "/api/2.0/mlflow/"


@pytest.fixture(scope="module")
def model(mlflow_server) -> str:
    """v1 and v2 of a plain scikit-learn forest, logged with mlflow.sklearn."""
    name = f"wk-{uuid.uuid4().hex[:8]}"
    seed(mlflow_server.url, name, [0.9, 0.5])
    return name


@pytest.fixture
def home(tmp_path: Path):
    path = tmp_path / "h"
    yield path
    stop(path)


def invariance(server, home: Path, model: str, version: str = "1", **env: str):
    full = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"} | env
    argv = [sys.executable, "-m", "console", "invariance", model, version, "--json",
            "--home", str(home), "--tracking-uri", server.url]  # fmt: skip
    out = subprocess.run(argv, cwd=ROOT, env=full, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def log_lines(home: Path, marker: str) -> list[str]:
    log = WorkerPaths.for_home(home).log
    return [line for line in log.read_text().splitlines() if marker in line] if log.exists() else []


def worker_pid(home: Path) -> int:
    pong = ping(WorkerPaths.for_home(home))
    assert pong is not None, "no worker answers"
    return int(pong["pid"])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != b"Z"


def wait_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_the_second_request_is_forked_by_the_worker_from_cached_models(
    mlflow_server, model, home
) -> None:
    first = invariance(mlflow_server, home, model)
    pid = worker_pid(home)
    second = invariance(mlflow_server, home, model)
    assert first["passed"] and second["passed"]
    assert first["checks"] == second["checks"]
    assert worker_pid(home) == pid  # the same worker, still running
    served = log_lines(home, "served commands.invariance_signature as child")
    assert len(served) == 2 and all(f"[{pid}]" in line for line in served)
    # one download, then every load (load_twice's included) from the home's copy
    assert len(log_lines(home, "model cache miss")) == 1
    assert len(log_lines(home, "model cache hit")) == 3


def test_a_version_registered_again_under_the_same_number_is_not_served_stale(
    mlflow_server, home
) -> None:
    name = f"wk-{uuid.uuid4().hex[:8]}"
    seed(mlflow_server.url, name, [0.9, 0.5])
    http = httpx.Client(base_url=mlflow_server.url + API, timeout=30)
    versions = {
        v: http.get("model-versions/get", params={"name": name, "version": v}).json()
        for v in ("1", "2")
    }
    invariance(mlflow_server, home, name, "1")
    models = WorkerPaths.for_home(home).models
    [before] = [p for p in models.iterdir() if not p.name.startswith(".")]
    assert f"run_id: {versions['1']['model_version']['run_id']}" in (before / "MLmodel").read_text()

    # the model is deleted and registered again: version 1 is now what version 2 was
    http.request("DELETE", "registered-models/delete", json={"name": name}).raise_for_status()
    http.post("registered-models/create", json={"name": name}).raise_for_status()
    old = versions["2"]["model_version"]
    body = {"name": name, "source": old["source"], "run_id": old["run_id"]}
    if old["source"].startswith("models:/m-"):  # a logged model of MLflow 3: it names itself
        body["model_id"] = old["source"].removeprefix("models:/")
    assert http.post("model-versions/create", json=body).json()["model_version"]["version"] == "1"

    invariance(mlflow_server, home, name, "1")
    assert len(log_lines(home, "model cache miss")) == 2
    newest = max((p for p in models.iterdir() if not p.name.startswith(".")), key=os.path.getmtime)
    assert newest != before
    assert f"run_id: {old['run_id']}" in (newest / "MLmodel").read_text()


def test_cancelling_kills_the_requests_child_not_the_worker(mlflow_server, model, home) -> None:
    settings = Settings(home=home, tracking_uri=mlflow_server.url)
    request = ProbeRequest(
        tracking_uri=mlflow_server.url, model=model, left="1", right="2",
        synthetic_rows=3_000_000, no_datasets=True,
    )  # fmt: skip
    started: list[int] = []
    running = asyncio.Event()

    async def scenario() -> None:
        def progress(message: str, _fraction: float | None) -> None:
            if message.startswith("loading models:/"):
                running.set()

        task = asyncio.ensure_future(
            run_probe(request, progress, env=child_env(settings), on_start=started.append)
        )
        await asyncio.wait_for(running.wait(), 300)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    [child] = started
    zygote = worker_pid(home)
    assert f"served commands.probe as child {child}" in "\n".join(log_lines(home, "served"))
    assert wait_gone(child, 10), "the cancelled probe is still running"
    assert alive(zygote) and worker_pid(home) == zygote
    invariance(mlflow_server, home, model)  # and the worker serves the next request


def test_a_killed_worker_is_replaced(mlflow_server, model, home) -> None:
    invariance(mlflow_server, home, model)
    first = worker_pid(home)
    os.kill(first, signal.SIGKILL)
    assert wait_gone(first, 10)
    assert invariance(mlflow_server, home, model)["passed"]
    assert worker_pid(home) != first
    assert len(log_lines(home, "served commands.invariance_signature")) == 2


def test_a_worker_of_older_code_is_retired_and_replaced(mlflow_server, model, home) -> None:
    invariance(mlflow_server, home, model)
    first = worker_pid(home)
    source = ROOT / "commands" / "model_worker_protocol.py"  # any .py of commands/ or console/
    before = os.stat(source)
    try:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        assert invariance(mlflow_server, home, model)["passed"]
        assert worker_pid(home) != first
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert wait_gone(first, 20), "the retired worker did not exit"
    assert log_lines(home, "retired by a client of newer code")


def test_a_worker_that_cannot_start_leaves_the_work_to_a_plain_process(
    mlflow_server, model, home
) -> None:
    home.mkdir(parents=True)
    (home / "model-worker").write_text("not a directory")
    assert invariance(mlflow_server, home, model)["passed"]
    assert ping(WorkerPaths.for_home(home)) is None


def test_the_idle_timeout_ends_the_worker(mlflow_server, model, home) -> None:
    invariance(mlflow_server, home, model, MLOPS_CONSOLE_WORKER_IDLE_S="2")
    pid = worker_pid(home)
    assert wait_gone(pid, 30), "the idle worker did not exit"
    paths = WorkerPaths.for_home(home)
    assert not paths.socket.exists() and not paths.state.exists()
    assert log_lines(home, "idle for 2 s; exiting")


def test_no_secret_in_the_workers_environment_or_command_line(mlflow_server, model, home) -> None:
    token, aws = f"tok-{uuid.uuid4().hex}", f"aws-{uuid.uuid4().hex}"
    invariance(
        mlflow_server, home, model,
        MLFLOW_TRACKING_TOKEN=token, AWS_SECRET_ACCESS_KEY=aws, DATAHUB_GMS_TOKEN=token,
    )  # fmt: skip
    pid = worker_pid(home)
    for part in ("environ", "cmdline"):
        seen = Path(f"/proc/{pid}/{part}").read_bytes()
        assert token.encode() not in seen and aws.encode() not in seen, part
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    names = {entry.split(b"=", 1)[0] for entry in environ if entry}
    assert not names & {b"MLFLOW_TRACKING_TOKEN", b"AWS_SECRET_ACCESS_KEY", b"DATAHUB_GMS_TOKEN"}
    assert token not in WorkerPaths.for_home(home).log.read_text()


def test_the_socket_and_its_directory_are_private(mlflow_server, model, home) -> None:
    invariance(mlflow_server, home, model)
    paths = WorkerPaths.for_home(home)
    sock = os.stat(paths.socket)
    assert stat.S_ISSOCK(sock.st_mode) and stat.S_IMODE(sock.st_mode) == 0o600
    assert sock.st_uid == os.getuid()
    for folder in {paths.directory, paths.socket.parent, paths.models}:
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder


def test_a_long_home_keeps_its_socket_in_a_private_temporary_directory(tmp_path: Path) -> None:
    paths = WorkerPaths.for_home(tmp_path / ("x" * 120))
    assert len(os.fsencode(paths.socket)) <= 100
    paths.prepare()
    assert stat.S_IMODE(os.stat(paths.socket.parent).st_mode) == 0o700

"""Test helpers for the deploy → monitor loop: MLflow's own scoring server and the inference log.

``start_scoring_server`` runs ``mlflow models serve`` (the MLflow scoring protocol) for a version;
``log_traffic`` sends rows to a server and appends what it answered to ``lake.ml.inference_log``
following the contract, as the console's predict service does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.servers import free_port

MLFLOW_BIN = str(Path(sys.executable).with_name("mlflow"))


@dataclass
class ScoringServer:
    url: str
    proc: subprocess.Popen

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_scoring_server(
    tracking_uri: str, model_uri: str, workdir: Path, timeout: float = 180.0
) -> ScoringServer:
    """``mlflow models serve`` on 127.0.0.1 with the local environment, waited for on /ping."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "scoring.log", "wb")  # noqa: SIM115 - handed to the child
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    proc = subprocess.Popen(
        [
            *(MLFLOW_BIN, "models", "serve", "-m", model_uri, "--env-manager", "local"),
            *("--host", "127.0.0.1", "-p", str(port), "--workers", "1"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=workdir,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    server = ScoringServer(url, proc)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited {proc.returncode}: see {log.name}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise TimeoutError(f"scoring server for {model_uri} not up after {timeout:g} s")


def write_deployment_record(
    home: Path, name: str, url: str, model: str, version: str, *, tracking_uri: str = ""
) -> Path:
    """A deployment record as the console keeps it (``<home>/deployments/<name>.json``), for a
    service the test started itself (MLflow's scoring server, a stand-in): no supervisor."""
    from console.deployment_model import DeploymentRecord

    path = home / "deployments" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = DeploymentRecord(
        name=name,
        url=url,
        model=model,
        version=version,
        alias="champion",
        port=int(url.rsplit(":", 1)[1]),
        started=datetime.now(UTC),
        tracking_uri=tracking_uri,
        home=str(home),
        state="running",
    )
    path.write_text(record.model_dump_json())
    return path


def log_traffic(
    catalog,
    url: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    deployment: str,
    model: str,
    version: str,
    alias: str = "champion",
    when: datetime | None = None,
) -> int:
    """Score ``rows`` on ``url`` and append the answered ones to the inference log; count them."""
    from commands import inference_log
    from commands.traffic import send_traffic

    sent = send_traffic(url, rows)
    assert sent.failed_requests == 0, sent.errors
    request = inference_log.LoggedRequest(
        request_id=uuid.uuid4().hex,
        deployment=deployment,
        model=model,
        version=version,
        alias=alias,
        inputs=list(rows),
        outputs=[{"bucket": p} for p in sent.predictions],
        latency_ms=sum(sent.latencies_ms),
        time=when,
    )
    inference_log.append(catalog, inference_log.to_records([request]))
    return sent.answered

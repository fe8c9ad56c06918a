"""A deployment record left behind by a crash, and production endpoints declared in the profile."""

from __future__ import annotations

import json
import os
import signal

from console.embedded import procs
from tests.serve.conftest import record, run_cli, wait_for
from tests.support.servers import free_port


def test_profile_endpoints_and_a_stale_record_after_a_crash(mlflow_server, sklearn_model, tmp_path):
    home = tmp_path / "home"
    started = run_cli(
        home, mlflow_server.url, "deploy", sklearn_model, "--alias", "live", "--name", "crashy"
    )
    assert started.returncode == 0, started.stderr
    rec = record(home, "crashy")
    dead_port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
default_profile = "prod"
[profiles.prod.deployments.prod-api]
url = "{rec["url"]}"
protocol = "mlops"
model = "{sklearn_model}"
alias = "live"
[profiles.prod.deployments.legacy]
url = "http://127.0.0.1:{dead_port}"
protocol = "mlflow"
model = "{sklearn_model}"
alias = "live"
version = "1"
"""
    )
    env = {"MLOPS_CONSOLE_CONFIG": str(config)}
    listed = run_cli(home, mlflow_server.url, "deployments", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["prod-api"]["kind"] == "production" and rows["prod-api"]["healthy"]
    assert rows["prod-api"]["served_version"] == rows["prod-api"]["alias_version"]
    assert rows["legacy"]["state"] == "unreachable" and rows["legacy"]["healthy"] is False
    assert rows["legacy"]["served_version"] == "1" and rows["legacy"]["requests"] is None

    # the machine "crashes": both processes die at once, the record stays
    os.kill(rec["supervisor_pid"], signal.SIGKILL)
    os.kill(rec["pid"], signal.SIGKILL)
    assert wait_for(lambda: not procs.is_alive(rec["pid"]), timeout=10)
    listed = run_cli(home, mlflow_server.url, "deployments", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["state"] == "stale" and row["healthy"] is False
    assert "stale record" in row["detail"] and "deploy stop crashy" in row["detail"]
    assert "stale record" in run_cli(home, mlflow_server.url, "deployments").stdout
    rollout = run_cli(home, mlflow_server.url, "deploy", "rollout", "crashy", "--yes")
    assert rollout.returncode == 1 and "stale" in rollout.stderr

    stopped = run_cli(home, mlflow_server.url, "deploy", "stop", "crashy")
    assert stopped.returncode == 0
    assert not (home / "deployments" / "crashy.json").exists()
    assert json.loads(run_cli(home, mlflow_server.url, "deployments", "--json").stdout) == []


def test_a_bad_profile_deployment_is_one_line(mlflow_server, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.p.deployments.x]\nurl = "http://127.0.0.1:1"\nprotocol = "grpc"\nmodel = "m"\n'
    )
    result = run_cli(
        tmp_path / "home",
        mlflow_server.url,
        "--profile",
        "p",
        "deployments",
        env={"MLOPS_CONSOLE_CONFIG": str(config)},
    )
    assert result.returncode == 2
    assert "deployments.x.protocol" in result.stderr and len(result.stderr.splitlines()) == 1

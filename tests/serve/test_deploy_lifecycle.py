"""One deployment through its whole life, as an operator drives it from the CLI, against a real
MLflow server: deploy, score (valid, invalid, hostile, oversized), the inference log read back
from Iceberg, metrics, in/out of sync, rollout and rollback verified by ``/version``, a kill -9
of the service restarted by its supervisor, read-only refusals, stop."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import alias_of, record, run_cli, set_alias, wait_for

TOKEN = "s3cret-token-never-in-a-child"
ROWS = [{"petal length": 3.5, "count": 4}, {"petal length": 5.5, "count": 40}]


@pytest.fixture(scope="module")
def deployed(mlflow_server, sklearn_model, tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-home")
    result = run_cli(
        home,
        mlflow_server.url,
        "deploy",
        sklearn_model,
        "--alias",
        "live",
        "--name",
        "iris-live",
        "--json",
        env={"MLFLOW_TRACKING_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    yield home, info
    run_cli(home, mlflow_server.url, "deploy", "stop", "iris-live")


def http(info) -> httpx.Client:
    return httpx.Client(base_url=info["url"], timeout=30)


def test_deploy_prints_the_contract_and_writes_the_record(deployed, sklearn_model):
    home, info = deployed
    assert set(info) == {"name", "url", "model", "version", "alias"}
    assert info["model"] == sklearn_model and info["version"] == "1" and info["alias"] == "live"
    assert info["url"].startswith("http://127.0.0.1:")
    rec = record(home, "iris-live")
    for key in ("name", "url", "model", "version", "alias", "pid", "port", "started"):
        assert key in rec
    with http(info) as c:
        assert c.get("/ping").status_code == 200
        assert c.get("/version").json() | {} == {
            **c.get("/version").json(),
            "model": sklearn_model,
            "version": "1",
            "alias": "live",
            "deployment": "iris-live",
        }


def test_no_secret_in_the_supervisor_or_service_environment(deployed):
    home, _ = deployed
    rec = record(home, "iris-live")
    for pid in (rec["supervisor_pid"], rec["pid"]):
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert TOKEN.encode() not in environ
        assert b"MLFLOW_TRACKING_TOKEN" not in environ


def test_valid_requests_in_both_formats(deployed):
    _, info = deployed
    with http(info) as c:
        records = c.post("/invocations", json={"dataframe_records": ROWS})
        assert records.status_code == 200, records.text
        assert records.headers["x-model-version"] == "1"
        predictions = records.json()["predictions"]
        assert len(predictions) == 2 and all(p in (0, 1) for p in predictions)
        split = c.post(
            "/invocations",
            json={
                "dataframe_split": {
                    "columns": ["petal length", "count"],
                    "data": [[r["petal length"], r["count"]] for r in ROWS],
                }
            },
        )
        assert split.status_code == 200 and split.json()["predictions"] == predictions


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"dataframe_records": [{"petal length": "x", "count": 1}]}, 422, ["petal length"]),
        ({"dataframe_records": [{"petal length": 1.0}]}, 422, ["count", "required"]),
        ({"dataframe_records": [{"petal length": 1.0, "count": 1.5}]}, 422, ["count"]),
        ({"dataframe_records": [{"petal length": 1.0, "count": True}]}, 422, ["count"]),
        # issue 20: JSON true/false is no number, for a double column too (lax float took 1.0)
        (
            {"dataframe_records": [{"petal length": True, "count": 1}]},
            422,
            ["field 'petal length'", "must be a number, not true"],
        ),
        (
            {"dataframe_split": {"columns": ["petal length", "count"], "data": [[False, 1]]}},
            422,
            ["field 'petal length'", "must be a number, not false"],
        ),
        (
            {"dataframe_records": [{"petal length": 1.0, "count": 1, "colour": "red"}]},
            422,
            ["colour", "unknown column"],
        ),
        ({"dataframe_records": []}, 400, ["no rows"]),
        ({"dataframe_records": {"a": 1}}, 400, ["dataframe_records"]),
        ({"instances": [[1, 2]]}, 400, ["instances"]),
        ({"dataframe_split": {"columns": ["petal length"], "data": [[1, 2]]}}, 400, ["row 0"]),
        ([1, 2, 3], 400, ["JSON object"]),
    ],
)
def test_invalid_requests_are_4xx_naming_the_field(deployed, body, status, words):
    _, info = deployed
    with http(info) as c:
        response = c.post("/invocations", json=body)
    assert response.status_code == status, response.text
    message = response.json()["message"]
    for word in words:
        assert word in message


def test_hostile_requests(deployed):
    _, info = deployed
    with http(info) as c:
        evil = "\x1b]0;pwned\x07\u202e" + "k" * 5000
        response = c.post(
            "/invocations", json={"dataframe_records": [{"petal length": 1.0, "count": 1, evil: 1}]}
        )
        assert response.status_code == 422
        message = response.json()["message"]
        assert "\x1b" not in message and "\u202e" not in message and len(message) < 400
        for raw, why in (
            (b'{"dataframe_records": [{"petal length": NaN, "count": 1}]}', "NaN"),
            (b'{"dataframe_records": [{"petal length": 1e999, "count": 1}]}', "out of range"),
            (b'{"dataframe_records": [', "not valid JSON"),
            (b"[" * 100_000, "not valid JSON"),
        ):
            response = c.post(
                "/invocations", content=raw, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400, (raw[:40], response.text)
            assert why in response.json()["message"]
        huge_int = {"dataframe_records": [{"petal length": 1.0, "count": 10**30}]}
        assert c.post("/invocations", json=huge_int).status_code == 422
        not_json = c.post("/invocations", content=b"a,b\n1,2", headers={"content-type": "text/csv"})
        assert not_json.status_code == 415
        assert c.get("/invocations").status_code == 405


def test_reload_needs_the_deployments_token(deployed):
    """Issue 20: ``POST /reload`` swaps the model a service scores with; only a holder of the
    token its supervisor wrote (0600, beside the record) may ask for it."""
    home, info = deployed
    token_file = home / "deployments" / "iris-live.reload-token"
    token = token_file.read_text().strip()
    assert len(token) >= 32 and token_file.stat().st_mode & 0o777 == 0o600
    rec = record(home, "iris-live")
    assert token not in json.dumps(rec)
    for pid in (rec["supervisor_pid"], rec["pid"]):
        assert token.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        assert token.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
    with http(info) as c:
        served = c.get("/version").json()["version"]
        other = "2" if served == "1" else "1"
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-of-the-same-length-" + "x" * 11},
            {"Authorization": f"Basic {token}"},
            {"Authorization": "Bearer"},
            {"Authorization": f"Bearer {token[:-1]}"},
        ):
            refused = c.post("/reload", json={"version": other}, headers=headers)
            assert refused.status_code == 401, (headers, refused.text)
            assert refused.json()["error_code"] == "UNAUTHENTICATED"
            assert token not in refused.text
        assert c.get("/version").json()["version"] == served  # nothing was reloaded
        # the right token is accepted (the rollout tests below reload through the CLI)
        same = c.post(
            "/reload", json={"version": served}, headers={"Authorization": f"Bearer {token}"}
        )
        assert same.status_code == 200, same.text
        assert same.json()["version"] == served


def test_a_service_without_a_token_file_refuses_every_reload(mlflow_server, sklearn_model):
    """A service started by hand (or from the image) without --reload-token-file: 403."""
    import subprocess
    import sys

    from commands.serve import options
    from console.embedded.procs import free_port

    port = free_port()
    cmd = options.command(
        sys.executable, model=sklearn_model, version="1", alias="live", name="no-token",
        port=port, tracking_uri=mlflow_server.url, home="",
    )  # fmt: skip
    proc = subprocess.Popen([*cmd, "--no-inference-log"], stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/ping", timeout=1).status_code == 200
            except httpx.HTTPError:
                return proc.poll() is not None

        assert wait_for(up, timeout=240) and proc.poll() is None
        for headers in ({}, {"Authorization": "Bearer anything-at-all-here"}):
            refused = httpx.post(f"{url}/reload", json={"version": "2"}, headers=headers)
            assert refused.status_code == 403, refused.text
            assert "--reload-token-file" in refused.json()["message"]
        assert httpx.get(f"{url}/version").json()["version"] == "1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_oversized_requests_are_413(deployed):
    _, info = deployed
    with http(info) as c:
        too_many = {"dataframe_records": [{"petal length": 1.0, "count": 1}] * 10_001}
        response = c.post("/invocations", json=too_many)
        assert response.status_code == 413 and "10001 rows" in response.json()["message"]
        big = b'{"dataframe_records": [' + b" " * (6 * 1024 * 1024) + b"]}"
        response = c.post("/invocations", content=big, headers={"content-type": "application/json"})
        assert response.status_code == 413

        def chunks():  # no Content-Length: the limit is enforced while streaming
            yield b'{"dataframe_records": ['
            for _ in range(7):
                yield b" " * (1024 * 1024)
            yield b"]}"

        response = c.post(
            "/invocations", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert c.get("/ping").status_code == 200  # still serving


def test_inference_log_is_read_back_from_iceberg(deployed, sklearn_model):
    home, info = deployed
    from commands.serve.inference_log import open_catalog

    with http(info) as c:
        c.post(
            "/invocations",
            json={"dataframe_records": ROWS},
            headers={"x-request-id": "req-log-check"},
        ).raise_for_status()

    def logged() -> list[dict]:
        table = open_catalog(home).load_table(("ml", "inference_log"))
        rows = table.scan().to_arrow().to_pylist()
        return [r for r in rows if r["request_id"] == "req-log-check"]

    assert wait_for(lambda: len(logged()) == 2, timeout=30)
    rows = logged()
    assert {r["deployment"] for r in rows} == {"iris-live"}
    assert {r["model"] for r in rows} == {sklearn_model}
    assert {r["version"] for r in rows} == {"1"} and {r["alias"] for r in rows} == {"live"}
    assert [json.loads(r["inputs"]) for r in rows] == ROWS
    assert all(json.loads(r["outputs"]) in (0, 1) for r in rows)
    assert all(r["latency_ms"] > 0 and r["time"].tzinfo is not None for r in rows)


def test_metrics_and_deployments_listing(deployed, mlflow_server, sklearn_model):
    home, info = deployed
    with http(info) as c:
        text = c.get("/metrics").text
    assert "mlops_predict_requests_total" in text and "mlops_predict_latency_seconds_bucket" in text
    result = run_cli(home, mlflow_server.url, "deployments", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in json.loads(result.stdout) if r["name"] == "iris-live"]
    for key in ("name", "url", "model", "alias", "served_version", "alias_version"):
        assert key in row
    assert row["served_version"] == "1" and row["alias_version"] == "1"
    assert row["in_sync"] is True and row["healthy"] is True and row["state"] == "running"
    assert row["requests"] >= 5 and row["errors"] >= 10 and 0 < row["error_rate"] < 1
    assert row["latency_p50_ms"] is not None and row["latency_p95_ms"] >= row["latency_p50_ms"]


def test_moving_the_alias_leaves_it_out_of_sync_until_a_rollout(
    deployed, mlflow_server, sklearn_model
):
    home, info = deployed
    set_alias(mlflow_server.url, sklearn_model, "live", "2")
    listed = json.loads(run_cli(home, mlflow_server.url, "deployments", "--json").stdout)
    (row,) = [r for r in listed if r["name"] == "iris-live"]
    assert (row["served_version"], row["alias_version"], row["in_sync"]) == ("1", "2", False)
    human = run_cli(home, mlflow_server.url, "deployments").stdout
    assert "OUT OF SYNC" in human

    refused = run_cli(home, mlflow_server.url, "--read-only", "deploy", "rollout", "iris-live")
    assert refused.returncode == 3 and "read-only" in refused.stderr
    no_terminal = run_cli(home, mlflow_server.url, "deploy", "rollout", "iris-live")
    assert no_terminal.returncode == 1 and "--yes" in no_terminal.stderr
    assert httpx.get(f"{info['url']}/version").json()["version"] == "1"

    done = run_cli(home, mlflow_server.url, "deploy", "rollout", "iris-live", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["outcome"], result["served_before"], result["served_after"]) == (
        "succeeded",
        "1",
        "2",
    )
    assert httpx.get(f"{info['url']}/version").json()["version"] == "2"
    assert record(home, "iris-live")["version"] == "2"
    again = json.loads(
        run_cli(home, mlflow_server.url, "deploy", "rollout", "iris-live", "--yes", "--json").stdout
    )
    assert again["outcome"] == "noop"
    audit = [json.loads(line) for line in (home / "audit" / "audit.jsonl").read_text().splitlines()]
    rollouts = [a for a in audit if a["action"] == "deploy.rollout"]
    assert rollouts[-1]["outcome"] == "succeeded" and rollouts[-1]["after"]["served"] == "2"


def test_rollback_moves_the_alias_back_and_rolls_out(deployed, mlflow_server, sklearn_model):
    home, info = deployed
    done = run_cli(home, mlflow_server.url, "deploy", "rollback", "iris-live", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["action"] == "rollback" and result["outcome"] == "succeeded"
    assert result["promotion"]["outcome"] == "succeeded"
    assert alias_of(mlflow_server.url, sklearn_model, "live") == "1"
    assert httpx.get(f"{info['url']}/version").json()["version"] == "1"
    audit = [json.loads(line) for line in (home / "audit" / "audit.jsonl").read_text().splitlines()]
    actions = [a["action"] for a in audit]
    assert "promote.set_alias" in actions and actions[-1] == "deploy.rollback"


def test_a_refused_rollback_is_audited_as_refused(deployed, mlflow_server, sklearn_model):
    """Issue 21/8b: another team's tool leaves a lease tag no console writes; the rollback is
    refused at its promotion and the audit says so, not ``change v1 → v1``."""
    import mlflow

    home, _ = deployed
    client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
    client.set_registered_model_tag(sklearn_model, "mlops.promotion_lease", "held by a cron job")
    try:
        done = run_cli(
            home, mlflow_server.url, "deploy", "rollback", "iris-live", "--to", "2", "--yes",
            "--json",
        )  # fmt: skip
    finally:
        client.delete_registered_model_tag(sklearn_model, "mlops.promotion_lease")
    assert done.returncode == 4, (done.stdout, done.stderr)
    result = json.loads(done.stdout)
    assert result["outcome"] == "refused" and result["promotion"]["outcome"] == "refused"
    assert alias_of(mlflow_server.url, sklearn_model, "live") == "1"
    listing = run_cli(home, mlflow_server.url, "audit", "--json")
    records = json.loads(listing.stdout)["records"]
    promotion, rollback = records[-2:]
    assert (promotion["action"], promotion["outcome"]) == ("promote.set_alias", "refused")
    assert promotion["id"] == result["promotion"]["audit_id"]
    assert promotion["after"] == {} and promotion["before"]["alias_holder"] == "1"
    assert promotion["reason"] == "rollback of deployment iris-live to v2 (serving v1)"
    assert (rollback["action"], rollback["outcome"]) == ("deploy.rollback", "refused")
    assert rollback["after"] == {} and rollback["before"]["served"] == "1"
    text = run_cli(home, mlflow_server.url, "audit", "--limit", "2").stdout
    assert "v1 → v1" not in text, text
    lines = [line for line in text.splitlines() if "refused" in line]
    assert len(lines) == 2 and "unchanged (v1)" in lines[0], text
    assert "unchanged (serves v1)" in lines[1], text


def test_a_killed_service_is_restarted_by_its_supervisor(deployed, mlflow_server):
    home, info = deployed
    before = record(home, "iris-live")
    os.kill(before["pid"], signal.SIGKILL)

    def restarted() -> bool:
        rec = record(home, "iris-live")
        if rec["pid"] in (0, before["pid"]) or rec["restarts"] < before["restarts"] + 1:
            return False
        try:
            return httpx.get(f"{info['url']}/version", timeout=2).json()["version"] == "1"
        except httpx.HTTPError:
            return False

    assert wait_for(restarted, timeout=240, step=1.0)
    rec = record(home, "iris-live")
    assert rec["supervisor_pid"] == before["supervisor_pid"] and rec["url"] == before["url"]
    listed = json.loads(run_cli(home, mlflow_server.url, "deployments", "--json").stdout)
    (row,) = [r for r in listed if r["name"] == "iris-live"]
    assert row["healthy"] and row["restarts"] >= 1
    assert row["requests"] == 0  # a new process: its counters start again


def test_a_second_deploy_under_the_same_name_is_refused(deployed, mlflow_server, sklearn_model):
    home, _ = deployed
    result = run_cli(
        home, mlflow_server.url, "deploy", sklearn_model, "--alias", "live", "--name", "iris-live"
    )
    assert result.returncode == 1 and "already exists" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_model_or_alias_is_one_line(deployed, mlflow_server, sklearn_model):
    home, _ = deployed
    for args in (("no-such-model", "--alias", "live"), (sklearn_model, "--alias", "nope")):
        result = run_cli(home, mlflow_server.url, "deploy", *args)
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
        assert "cannot resolve" in result.stderr
    refused = run_cli(
        home, mlflow_server.url, "--read-only", "deploy", sklearn_model, "--alias", "live"
    )
    assert refused.returncode == 3


def test_stop(deployed, mlflow_server):
    home, info = deployed
    rec = record(home, "iris-live")
    result = run_cli(home, mlflow_server.url, "deploy", "stop", "iris-live")
    assert result.returncode == 0, result.stderr
    assert not (home / "deployments" / "iris-live.json").exists()
    assert not (home / "deployments" / "iris-live.reload-token").exists()
    assert (
        not Path(f"/proc/{rec['pid']}").exists()
        or b"commands.serve" not in Path(f"/proc/{rec['pid']}/cmdline").read_bytes()
    )
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{info['url']}/ping", timeout=2)

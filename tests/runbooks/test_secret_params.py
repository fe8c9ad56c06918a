"""Issue 20, finding 9: a user runbook's parameter fed from ``MLFLOW_TRACKING_PASSWORD`` (or any
credential-looking variable: ``*TOKEN*``, ``*SECRET*``, ``*KEY*``, ``*PASSWORD*``, credentials) is
masked in the transcript (``.md`` and ``.json``), in what the run prints and in ``runbook show``,
while the step still gets the real value — run through the real CLI against a real server.

The step proves it got the real value: its ``model`` argument is the token parameter, and the
token's value is the name of a model registered on the server, so the check only passes if the
unmasked value reached it.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from commands.runbooks.format import secret_looking
from tests.safety.conftest import console_cli

RUNBOOK = """\
---
name: uses-secrets
title: A runbook with credential parameters
summary: masks them
when_to_use: in tests
parameters:
  password:
    description: the tracking server's password
    env: MLFLOW_TRACKING_PASSWORD
  api_token:
    description: a token, also the model to look at
    env: MY_SERVICE_API_TOKEN
  tracking:
    description: a URL with credentials in it
    default: http://someone:url-secret-9@127.0.0.1:9/
  signing_key:
    default: default-key-value-42
  plain:
    default: shown-as-is
---

## Look at the model named by the token

```step
id: look
kind: check
command: registry.find_problems
args:
  model: "{{ params.api_token }}"
on_failure: the token did not reach the step
```

## Fail with the password in the message

```step
id: fail
kind: check
command: registry.find_problems
args:
  model: "{{ params.api_token }}"
  alias_stages: "x={{ params.password }}"
on_failure:
  advice: expected
  continue: true
```
"""

PASSWORD = "hunter2-pw-" + uuid.uuid4().hex[:6]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("MLFLOW_TRACKING_PASSWORD", True),
        ("DATAHUB_GMS_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("api-key", True),
        ("dbToken", True),
        ("PGPASSWORD", True),
        ("MLFLOW_TRACKING_URI", False),
        ("MONKEY_COUNT", False),
        ("model", False),
        ("reason", False),
    ],
)
def test_secret_looking_names(name, secret):
    assert secret_looking(name) is secret


def test_credential_parameters_are_masked_everywhere_but_reach_the_step(tmp_path, mlflow_server):
    token = f"tok-{uuid.uuid4().hex[:10]}"  # also the name of a registered model
    httpx.post(
        f"{mlflow_server.url}/api/2.0/mlflow/registered-models/create", json={"name": token}
    ).raise_for_status()
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "uses-secrets.md").write_text(RUNBOOK)
    home = tmp_path / "home"
    env = {
        "MLOPS_CONSOLE_RUNBOOKS": str(directory),
        "MLFLOW_TRACKING_PASSWORD": PASSWORD,
        "MY_SERVICE_API_TOKEN": token,
    }
    secrets = [PASSWORD, token, "url-secret-9", "default-key-value-42"]

    def run(*args):
        return console_cli(home, "--tracking-uri", mlflow_server.url, *args, env=env)

    done = run("runbook", "run", "uses-secrets", "--yes")
    as_json = run("runbook", "run", "uses-secrets", "--yes", "--json")
    shown = run("runbook", "show", "uses-secrets")
    shown_json = run("runbook", "show", "uses-secrets", "--json")
    for out in (done, as_json, shown, shown_json):
        for secret in secrets:
            assert secret not in out.stdout and secret not in out.stderr, (secret, out.stdout)
    assert done.returncode == 0, done.stderr
    assert "[ok] look" in done.stdout  # the step looked at the model named by the real token
    assert "[FAILED] fail" in done.stdout and "********" in done.stdout
    doc = json.loads(as_json.stdout)
    assert doc["params"]["password"] == doc["params"]["api_token"] == "********"
    assert doc["params"]["signing_key"] == "********"
    assert doc["params"]["tracking"] == "http://someone:********@127.0.0.1:9/"
    assert doc["params"]["plain"] == "shown-as-is"
    assert "default ********" in shown.stdout and "shown-as-is" in shown.stdout

    files = [p for p in home.rglob("*") if p.is_file()]
    transcripts = [p for p in files if p.parent.name == "transcripts"]
    assert {p.suffix for p in transcripts} == {".md", ".json"}
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, (secret, path)
    markdown = next(p for p in transcripts if p.suffix == ".md").read_text()
    assert "| password | `********` |" in markdown and "| plain | `shown-as-is` |" in markdown


def test_a_resumed_run_takes_a_masked_secret_from_the_environment_again(tmp_path, mlflow_server):
    """The saved transcript holds ``********``, never the value: ``--resume`` reads the variable
    again rather than running the step with the mask."""
    token = f"tok-{uuid.uuid4().hex[:10]}"
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "uses-secrets.md").write_text(RUNBOOK.replace("continue: true", "continue: false"))
    home = tmp_path / "home"
    env = {"MLOPS_CONSOLE_RUNBOOKS": str(directory), "MY_SERVICE_API_TOKEN": token}
    first = console_cli(
        home, "--tracking-uri", mlflow_server.url, "runbook", "run", "uses-secrets", "--yes",
        env=env,
    )  # fmt: skip
    assert first.returncode == 1 and "[FAILED] look" in first.stdout  # no such model yet
    httpx.post(
        f"{mlflow_server.url}/api/2.0/mlflow/registered-models/create", json={"name": token}
    ).raise_for_status()
    resumed = console_cli(
        home, "--tracking-uri", mlflow_server.url, "runbook", "run", "uses-secrets", "--resume",
        "--yes", env=env,
    )  # fmt: skip
    assert "[ok] look" in resumed.stdout, resumed.stdout + resumed.stderr
    for path in home.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path

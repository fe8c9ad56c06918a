"""Issue 16 item 3: server text written into files under the home keeps its controls escaped.

Hostile names, descriptions and tags are stored through MLflow's own client on a real server; a
real runbook run writes its transcripts and a real CLI promotion writes the audit log. ``cat`` of
either file must replay nothing: no raw ESC, C1 control (U+009B), DEL or bidi override.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commands.runbooks.catalog import load_runbook
from commands.runbooks.engine import run_runbook
from tests.runbooks.conftest import ScriptedDriver, settings_for
from tests.safety.conftest import console_cli
from tests.support.hostile import raw_control_bytes

# MLflow forbids only '/' and ':' in model names
HOSTILE_NAME = "hx\x1b]2;PWNED\x1b\\\x1b]52;c;aGVsbG8=\x07\u009b2J\u202eman\x7f"
HOSTILE_TEXT = "t\x1b[2J\u009b31m\u202e\x7f\x1b]8;;http://evil\x1b\\"


def _read(path: Path | str) -> bytes:
    return Path(path).read_bytes()


@pytest.fixture(scope="module")
def hostile_model(mlflow_server) -> str:
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server.url)
    experiment = client.create_experiment("hostile-files")
    client.create_registered_model(HOSTILE_NAME, description=HOSTILE_TEXT)
    for _ in range(2):
        run = client.create_run(experiment, tags={"note": HOSTILE_TEXT})
        client.create_model_version(HOSTILE_NAME, f"{run.info.artifact_uri}/model", run.info.run_id)
    client.set_model_version_tag(HOSTILE_NAME, "1", "note", HOSTILE_TEXT)
    # an alias on an archived version: the runbook reports it, naming the model
    client.set_registered_model_alias(HOSTILE_NAME, "prod", "1")
    client.transition_model_version_stage(HOSTILE_NAME, "1", "Archived")
    return HOSTILE_NAME


async def test_runbook_transcripts_hold_no_raw_control(mlflow_server, hostile_model, tmp_path):
    home = tmp_path / "home"
    _, json_path, md_path = await run_runbook(
        load_runbook("model-registry-promotion-stuck"),
        settings_for(home, mlflow_server.url),
        ScriptedDriver(),
        dry_run=True,
        overrides={"model": hostile_model, "reason": HOSTILE_TEXT},
    )
    md = _read(md_path)
    assert b"PWNED" in md  # the hostile text is there, shown ...
    assert raw_control_bytes(md) == []  # ... but inert
    assert b"\\x1b]2;PWNED" in md and b"\\x9b" in md and b"\\u202e" in md
    raw_json = _read(json_path)
    assert raw_control_bytes(raw_json) == []
    # JSON keeps the exact value, escaped
    assert json.loads(raw_json)["params"]["model"] == hostile_model


def test_audit_log_holds_no_raw_control(mlflow_server, hostile_model, tmp_path):
    home = tmp_path / "home"
    done = console_cli(
        home,
        "--tracking-uri",
        mlflow_server.url,
        "promote",
        hostile_model,
        "2",
        "--alias",
        "prod",
        "--reason",
        HOSTILE_TEXT,
        "--force",
        "--yes",
    )
    assert done.returncode in (0, 4), done.stderr
    raw = (home / "audit" / "audit.jsonl").read_bytes()
    assert raw_control_bytes(raw) == []
    assert raw.isascii()
    record = json.loads(raw.splitlines()[-1])
    assert record["model"] == hostile_model and record["reason"] == HOSTILE_TEXT
    # the CLI's own output is inert as well
    assert raw_control_bytes((done.stdout + done.stderr).encode()) == []

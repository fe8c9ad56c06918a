"""``mlops-console promote`` and ``audit`` end to end, and audit records free of secrets."""

from __future__ import annotations

import json

import pytest

from console.audit import Actor, AuditFilter, AuditLog, AuditRecord
from console.cli import main

NO_GATES_TOML = "[gates.default]\nrequire = []\n[gates.alias.champion]\nrequire = []\n"


@pytest.fixture
def cli(mlflow_server, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(NO_GATES_TOML)
    monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(config))
    home = tmp_path / "home"

    def run(*argv: str) -> int:
        return main([*argv, "--tracking-uri", mlflow_server.url, "--home", str(home)])

    run.home = home
    return run


def test_promote_json_and_audit_listing(cli, seeder, capsys):
    name = seeder.model([{}, {}])
    assert (
        cli(
            "promote",
            name,
            "2",
            "--alias",
            "champion",
            "--expect",
            "none",
            "--yes",
            "--reason",
            "first champion",
            "--json",
        )
        == 0
    )
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["outcome"] == "succeeded" and doc["current"]["alias_holder"] == "2"
    assert doc["plan"]["gates"] == [] and doc["plan"]["typed_confirmation"] == name
    assert "set alias champion of" in err  # the plan goes to stderr
    assert seeder.aliases(name) == {"champion": "2"}

    # a stale expectation: refused (exit 4), the current state shown, nothing written
    assert cli("promote", name, "1", "--alias", "champion", "--expect", "1", "--yes") == 4
    out, _ = capsys.readouterr()
    assert out.startswith("refused: alias:champion moved: you expected v1, it is v2 now")
    assert seeder.aliases(name) == {"champion": "2"}

    assert cli("audit", "--model", name, "--json") == 0
    read = json.loads(capsys.readouterr().out)
    assert [r["outcome"] for r in read["records"]] == ["succeeded", "refused"]
    assert read["records"][0]["reason"] == "first champion"
    # the refusal wrote nothing: no "after" that would read as a change v2 → v2 (issue 21/8b)
    refused = read["records"][1]
    assert refused["after"] == {} and refused["before"]["alias_holder"] == "2"
    assert refused["details"]["seen"]["alias_holder"] == "2"
    assert cli("audit", "--model", name) == 0
    text = capsys.readouterr().out
    assert "promote.set_alias" in text and "- → v2" in text and "first champion" in text
    [refused_line] = [line for line in text.splitlines() if "refused" in line]
    assert "unchanged (v2)" in refused_line and "v2 → v2" not in text


def test_a_gate_refusal_names_the_override_flags(cli, seeder, capsys, tmp_path, monkeypatch):
    config = tmp_path / "gates.toml"
    config.write_text('[gates.alias.champion]\nrequire = ["metric"]\n')
    monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(config))
    name = seeder.model([{"accuracy": 0.9}, {"accuracy": 0.5}])
    seeder.alias(name, "champion", "1")
    assert cli("promote", name, "2", "--alias", "champion", "--yes") == 4
    out, _ = capsys.readouterr()
    assert out.startswith(
        "refused: gate(s) failed: metric (override with --force and a --reason)"
    ), out
    assert seeder.aliases(name) == {"champion": "1"}


def test_no_terminal_and_no_yes_refuses_to_confirm(cli, seeder, capsys, monkeypatch):
    name = seeder.model([{}])
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115
    assert cli("promote", name, "1", "--alias", "canary") == 1
    out, err = capsys.readouterr()
    assert "no terminal to confirm on" in err and out.startswith("cancelled")
    assert seeder.aliases(name) == {}


def test_argument_errors_are_one_line(cli, capsys):
    # usage errors (exit 2): nothing is read or written
    assert cli("promote", "m", "1", "--alias", "champion", "--force", "--yes") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlops-console: error: promote: force needs a reason")
    assert "\n" not in err
    assert cli("promote", "m", "1", "--stage", "prod", "--yes") == 2
    assert "unknown stage 'prod'" in capsys.readouterr().err
    assert cli("promote", "m", "1", "--alias", "latest", "--yes") == 2
    assert "reserved" in capsys.readouterr().err
    assert cli("promote", "m", "1", "--alias", "a", "--expect", "two", "--yes") == 2
    assert "must be a version number or 'none'" in capsys.readouterr().err


def test_read_only_refuses_with_exit_3(cli, seeder, capsys):
    name = seeder.model([{}])
    assert cli("promote", name, "1", "--alias", "champion", "--yes", "--read-only") == 3
    assert "read-only" in capsys.readouterr().err
    assert seeder.aliases(name) == {}


def test_audit_records_never_contain_secrets(cli, seeder, monkeypatch, capsys):
    secrets = {
        "MLFLOW_TRACKING_TOKEN": "tok-SECRET-1234",
        "MLFLOW_TRACKING_PASSWORD": "pw-SECRET-5678",
        "DATAHUB_GMS_TOKEN": "gms-SECRET-9012",
    }
    for var, value in secrets.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ops")  # the server has no auth: ignored
    name = seeder.model([{}, {}])
    # even a reason that quotes a secret is masked, in the audit and in the version tags
    assert (
        cli(
            "promote",
            name,
            "2",
            "--alias",
            "champion",
            "--yes",
            "--reason",
            "rotated pw-SECRET-5678 today",
        )
        == 0
    )
    assert cli("promote", name, "1", "--alias", "champion", "--expect", "1", "--yes") == 4
    capsys.readouterr()
    raw = (cli.home / "audit" / "audit.jsonl").read_text()
    assert raw.count("\n") == 3  # the intent, the success, the refusal: all masked
    for value in secrets.values():
        assert value not in raw
    assert "rotated ******** today" in raw
    tags = seeder.version(name, "2")["tags"]
    assert tags["mlops.promotion_reason"] == "rotated ******** today"
    assert all(value not in json.dumps(tags) for value in secrets.values())


def test_audit_log_is_generic_append_only_and_tolerant(tmp_path):
    log = AuditLog(tmp_path / "audit", secrets=["hunter22"])
    who = Actor(name="ops", source="os")
    log.append(
        AuditRecord(
            action="runbook.step",
            outcome="succeeded",
            actor=who,
            details={"step": "drain", "note": "pw hunter22"},
        )
    )
    log.append(AuditRecord(action="promote.set_alias", outcome="refused", actor=who, model="m"))
    with log.path.open("a") as handle:
        handle.write("not json\n")
    read = log.read()
    assert [r.action for r in read.records] == ["runbook.step", "promote.set_alias"]
    assert read.unreadable_lines == 1
    assert read.records[0].details["note"] == "pw ********"
    assert [r.action for r in log.read(AuditFilter(action_prefix="runbook.")).records] == [
        "runbook.step"
    ]
    assert log.read(AuditFilter(model="m", limit=1)).records[0].outcome == "refused"
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"


def test_audit_filters_by_operator(cli, capsys):
    log = AuditLog(cli.home / "audit")
    for name in ("ann", "bob", "ann"):
        log.append(
            AuditRecord(
                action="promote.set_alias",
                outcome="succeeded",
                actor=Actor(name=name, source="os"),
                model="m",
                reason=f"by {name}",
            )
        )
    assert cli("audit", "--operator", "ann", "--json") == 0
    read = json.loads(capsys.readouterr().out)
    assert [r["actor"]["name"] for r in read["records"]] == ["ann", "ann"]
    assert cli("audit", "--operator", "nobody") == 0
    assert "no audit records" in capsys.readouterr().out

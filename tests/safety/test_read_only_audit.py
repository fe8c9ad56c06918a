"""Issue 16 item 11: a CLI promotion refused in read-only mode is audited, like the TUI's."""

from __future__ import annotations

import json

from tests.safety.conftest import console_cli


def test_cli_read_only_refusal_is_audited(mlflow_server, seeder, tmp_path):
    name = seeder.model([{}, {}])
    seeder.alias(name, "champion", "1")
    home = tmp_path / "home"
    common = ["--tracking-uri", mlflow_server.url]
    done = console_cli(
        home, *common, "--read-only", "promote", name, "2", "--alias", "champion", "--yes"
    )
    assert done.returncode == 3, done.stderr
    assert "read-only" in done.stderr and done.stderr.count("\n") == 1
    assert seeder.aliases(name) == {"champion": "1"}
    shown = console_cli(home, *common, "audit", "--model", name, "--json")
    assert shown.returncode == 0, shown.stderr
    [record] = json.loads(shown.stdout)["records"]
    assert record["outcome"] == "refused" and record["action"] == "promote.set_alias"
    assert record["target"] == "alias:champion" and record["version"] == "2"
    assert "read-only" in record["message"]

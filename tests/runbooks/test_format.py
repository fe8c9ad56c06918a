"""The runbook format: the shipped runbooks parse; malformed ones are refused with file and line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from commands.runbooks import template
from commands.runbooks.catalog import list_runbooks
from commands.runbooks.format import RunbookFormatError, parse_runbook
from commands.runbooks.secrets import MASK, Masker, mask_dsn

GOOD = """\
---
name: {name}
title: A test runbook
summary: checks the format
when_to_use: in tests
parameters:
  dsn:
    type: dsn
    required: true
  days:
    type: int
    default: 3
---

# A test runbook

## Count deleted runs

Explains what the step does.

```step
id: deleted
kind: check
command: postgres.deleted_runs
args:
  dsn: "{{{{ params.dsn }}}}"
  older_than_days: "{{{{ params.days }}}}"
on_failure: check the DSN
```
"""


def write(tmp_path: Path, text: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.md"
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_runbooks_parse():
    entries = {e.name: e for e in list_runbooks()}
    assert set(entries) >= {
        "mlflow-postgres-bloat",
        "model-registry-promotion-stuck",
        "lineage-broken-from-mlflow-side",
    }
    assert not [e.error for e in entries.values() if e.error]


def test_good_runbook(tmp_path):
    runbook = parse_runbook(write(tmp_path, GOOD.format(name="sample")))
    step = runbook.steps[0]
    assert (step.id, step.title, step.kind) == ("deleted", "Count deleted runs", "check")
    assert step.explanation == "Explains what the step does."
    assert step.on_failure.advice == "check the DSN" and step.line == 22


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        (lambda t: t.replace("kind: check", "kind: chek"), 23, "kind"),
        (
            lambda t: t.replace("command: postgres.deleted_runs", "command: nope.nothing"),
            22,
            "unknown command 'nope.nothing'",
        ),
        (lambda t: t.replace("kind: check", "kind: action"), 22, "is a check, not a action"),
        (lambda t: t.replace("params.days", "params.weeks"), 22, "unknown parameter 'weeks'"),
        (lambda t: t.replace("on_failure: check the DSN\n", ""), 22, "needs 'on_failure'"),
        (
            lambda t: t.replace("  older_than_days", "  older_than_dayz"),
            22,
            "no argument 'older_than_dayz'",
        ),
        (lambda t: t.replace("id: deleted", "id: Deleted_Runs"), 22, "step ids"),
        (lambda t: t.replace("    type: int", "    type: integer"), 11, "parameters.days.type"),
        (lambda t: t.replace("title: A test runbook\n", ""), 2, "needs 'title'"),
        (lambda t: t.replace("kind: check", "kind: check: x"), 23, "not valid YAML"),
        (lambda t: t.replace("```\n", "", 2), 21, "never closed"),
        (
            lambda t: t.replace("id: deleted", "id: deleted\ntitle: x"),
            23,
            "comes from the markdown",
        ),
        (lambda t: t.replace("---\nname", "name", 1), 1, "front matter"),
        (lambda t: t.replace("name: sample", "name: other"), 2, "must match the file name"),
    ],
)
def test_malformed_runbooks_name_file_and_line(tmp_path, edit, line, words):
    path = write(tmp_path, edit(GOOD.format(name="sample")))
    with pytest.raises(RunbookFormatError) as caught:
        parse_runbook(path)
    assert caught.value.line == line, str(caught.value)
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_forward_reference_refused(tmp_path):
    text = GOOD.format(name="sample").replace(
        '  older_than_days: "{{ params.days }}"', '  older_than_days: "{{ steps.later.x }}"'
    )
    with pytest.raises(RunbookFormatError, match="step 'later', which does not come before"):
        parse_runbook(write(tmp_path, text))


def test_template_keeps_types_and_refuses_missing_values():
    scope = {"params": {"n": 3}, "steps": {"a": {"ids": ["x", "y"], "count": 0}}}
    assert template.render("{{ steps.a.ids }}", scope) == ["x", "y"]
    assert template.render("n={{ params.n }} ids={{ steps.a.ids }}", scope) == "n=3 ids=x,y"
    assert template.evaluate("steps.a.count", scope) is False
    assert template.evaluate("not steps.a.count", scope) is True
    with pytest.raises(template.TemplateError, match=r"steps\.b is missing"):
        template.render("{{ steps.b.x }}", scope)


def test_masking_dsn_passwords_and_secrets():
    assert (
        mask_dsn("postgresql+psycopg://u:pw1234@h:5432/db")
        == f"postgresql+psycopg://u:{MASK}@h:5432/db"
    )
    assert mask_dsn("host=h password=pw1234 dbname=x") == f"host=h password={MASK} dbname=x"
    masker = Masker(["tok-abcdef"])
    masker.add_dsn("postgresql://u:pw1234@h/db")
    shown = masker.data({"a": ["Bearer tok-abcdef", "login failed for pw1234"]})
    assert "tok-abcdef" not in json.dumps(shown) and "pw1234" not in json.dumps(shown)


def test_cli_list_show_and_refusals(tmp_path, capsys, monkeypatch):
    from console import cli

    assert cli.main(["runbook", "list", "--json"]) == 0
    names = [e["name"] for e in json.loads(capsys.readouterr().out)["runbooks"]]
    assert "mlflow-postgres-bloat" in names

    assert cli.main(["runbook", "show", "mlflow-postgres-bloat"]) == 0
    out = capsys.readouterr().out
    assert "backend_dsn (dsn env $MLFLOW_BACKEND_STORE_URI) (required)" in out
    assert "3. [action] Purge runs deleted long ago — mlflow.gc_runs" in out

    assert cli.main(["runbook", "run", "no-such-runbook"]) == 1
    assert "no runbook named 'no-such-runbook'" in capsys.readouterr().err

    assert cli.main(["runbook", "run", "mlflow-postgres-bloat", "--home", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "needs parameter backend_dsn" in err and "--set backend_dsn=" in err

    bad = write(tmp_path, GOOD.format(name="broken").replace("kind: check", "kind: chek"), "broken")
    monkeypatch.setenv("MLOPS_CONSOLE_RUNBOOKS", str(tmp_path))
    assert cli.main(["runbook", "list"]) == 1
    assert f"{bad}:23:" in capsys.readouterr().err
    assert cli.main(["runbook", "show", "broken"]) == 2
    assert f"error: {bad}:23: " in capsys.readouterr().err

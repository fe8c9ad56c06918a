"""A rollback from the deployments view when the CLI would ask for a flag: against a real MLflow
server and a real deployment started through the CLI (its own, so it starts with no previously
served version).

- no previous version on record: the console offers the model's versions (the CLI says
  ``--to VERSION``), then the plan and its gates;
- a gate refuses the rollback's promotion: the plan, its failing gate and the refusal in the
  override form under the rollback's line (the CLI says ``--force and a --reason``); closing it
  changes nothing, the typed reason and model name override it: the alias moves back, the service
  reloads, verified through ``/version``, and the audit has the forced promotion with the reason.

The tests run in order: the second rolls back the version the first rolled back to.
"""

from __future__ import annotations

import json

import pytest
from textual.widgets import Button, Input, OptionList

from tests.serve.conftest import alias_of, record, run_cli, set_alias
from tests.tui.support import plain, showing, wait_for
from tests.tui_deploy.test_deployments_view import WITHIN, _app, served
from widgets.deployments_screen import DeploymentsScreen
from widgets.promote_modal import PlanModal, PlanOverrideModal
from widgets.rollout_modal import RollbackVersionChooser
from widgets.text_viewer import TextViewer

ALIAS = "rb"
NAME = "iris-rb"
REASON = "INC-7: v2 mislabels everything, provenance of v1 is known"
# the rollback's gates for alias `rb`: provenance of the data, which this plain model has not
GATES = f"""
[gates.alias.{ALIAS}]
require = ["ready", "provenance"]
provenance_areas = ["data"]
"""


@pytest.fixture(scope="module")
def deployment(mlflow_server, sklearn_model, tmp_path_factory):
    """(home, info): ``iris-rb`` serving v1 behind alias ``rb``; no previous version yet."""
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")
    home = tmp_path_factory.mktemp("tui-rollback-home")
    result = run_cli(
        home, mlflow_server.url, "deploy", sklearn_model, "--alias", ALIAS, "--name", NAME, "--json"
    )
    assert result.returncode == 0, result.stderr
    yield home, json.loads(result.stdout)
    run_cli(home, mlflow_server.url, "deploy", "stop", NAME)


@pytest.fixture
def no_gates(tmp_path, monkeypatch):
    """No profile file: the built-in gates (alias ``rb``: ``ready`` only)."""
    monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(tmp_path / "absent.toml"))
    return {"MLOPS_CONSOLE_CONFIG": str(tmp_path / "absent.toml")}


@pytest.fixture
def provenance_gate(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(GATES)
    monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(path))
    return {"MLOPS_CONSOLE_CONFIG": str(path)}


def _audit(home) -> list[dict]:
    path = home / "audit" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _open_view(pilot, app) -> None:
    await wait_for(pilot, lambda: app.connection.client is not None, within=WITHIN)
    await pilot.press("D")
    await wait_for(pilot, lambda: showing(app, DeploymentsScreen), within=WITHIN)
    await wait_for(pilot, lambda: NAME in app.deployments.rows and app.screen.loaded, within=WITHIN)
    app.screen.table.move_cursor(row=app.screen.table.get_row_index(NAME))
    await pilot.pause()


def _fits(screen, width: int = 80, height: int = 24) -> None:
    """Every field and button of the modal is on screen (nothing cut off at 80×24)."""
    for widget in screen.query("Input, Button, OptionList"):
        region = widget.region
        assert region.height > 0, widget
        assert region.y >= 0 and region.bottom <= height and region.right <= width, widget


def _no_cli_flags(text: str) -> None:
    for flag in ("--to", "--force", "--reason", "--yes"):
        assert flag not in text, text


async def test_rollback_without_a_previous_version_offers_the_versions(
    deployment, mlflow_server, sklearn_model, no_gates
) -> None:
    home, info = deployment
    assert record(home, NAME).get("previous_version") is None
    # the CLI keeps its hint
    cli = run_cli(home, mlflow_server.url, "deploy", "rollback", NAME, "--yes", env=no_gates)
    assert cli.returncode != 0 and "--to VERSION" in cli.stderr, cli.stderr

    app = _app(home, mlflow_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_view(pilot, app)
        view = app.screen

        # B: the versions to go back to, not a toast naming a flag
        await pilot.press("B")
        await wait_for(pilot, lambda: showing(app, RollbackVersionChooser), within=WITHIN)
        chooser = app.screen
        options = chooser.query_one("#rollback-versions", OptionList)
        labels = [plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels[0].startswith("v2") and labels[1].startswith("v1")
        assert f"served by {NAME} now" in labels[1] and f"{ALIAS} points here now" in labels[1]
        assert options.highlighted == 0  # the newest version that is neither served nor aliased
        assert app.focused is options
        why = plain(chooser.query_one("#rollback-choose-why").content)
        assert "no previously served version" in why
        _no_cli_flags(why + "".join(labels))
        _fits(chooser)

        # escape: nothing changes
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=WITHIN)
        assert app.screen is view
        assert alias_of(mlflow_server.url, sklearn_model, ALIAS) == "1" and served(info) == "1"

        # B again, v2: the plan (its gates) under the rollback's line, then yes
        await pilot.press("B")
        await wait_for(pilot, lambda: showing(app, RollbackVersionChooser), within=WITHIN)
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, PlanModal), within=WITHIN)
        plan = app.screen
        preface = plain(plan.query_one("#plan-preface").content)
        assert f"alias {ALIAS} moves back to v2" in preface
        body = plain(plan.query_one("#plan-body").content)
        assert "PASS ready" in body
        _fits(plan)
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=300)
        assert not [t for t in _toasts(app) if "--" in t], _toasts(app)
    assert alias_of(mlflow_server.url, sklearn_model, ALIAS) == "2"
    assert served(info) == "2"
    assert record(home, NAME)["previous_version"] == "1"
    ours = [a for a in _audit(home) if a["target"] == f"deployment:{NAME}"]
    assert [(a["action"], a["outcome"]) for a in ours][-2:] == [
        ("deploy.rollback", "pending"),
        ("deploy.rollback", "succeeded"),
    ]


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_a_gate_refusing_the_rollback_offers_the_override(
    deployment, mlflow_server, sklearn_model, provenance_gate
) -> None:
    home, info = deployment
    # after the test above: v2 served and behind the alias, v1 the previously served version
    assert served(info) == "2" and record(home, NAME)["previous_version"] == "1"
    # the CLI refuses with its flags named
    cli = run_cli(home, mlflow_server.url, "deploy", "rollback", NAME, "--yes", env=provenance_gate)
    assert cli.returncode == 4, cli.stderr
    assert "override with --force and a --reason" in cli.stdout, cli.stdout

    app = _app(home, mlflow_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_view(pilot, app)
        view = app.screen

        # B: the plan with its failing gate and the refusal, the override offered
        await pilot.press("B")
        await wait_for(pilot, lambda: showing(app, PlanOverrideModal), within=WITHIN)
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "plan-no", within=WITHIN)
        modal = app.screen
        preface = plain(modal.query_one("#plan-preface").content)
        assert f"rollback of deployment {NAME}" in preface and "moves back to v1" in preface
        body = plain(modal.query_one("#plan-body").content)
        assert "FAIL provenance" in body and "REFUSED:  gate(s) failed: provenance" in body
        title = plain(modal.query_one("#override-title").content)
        assert "Override failed gate(s) provenance?" in title
        _no_cli_flags(preface + body + title)
        _fits(modal)
        # at 80×24 the plan is taller than its part of the modal: it scrolls there (the form
        # stays on screen, checked above), and `v` shows it whole, the refusal included
        scroll = modal.query_one("#plan-scroll")
        assert scroll.region.height >= 3 and scroll.max_scroll_y > 0
        await pilot.press("v")
        await wait_for(pilot, lambda: showing(app, TextViewer), within=WITHIN)
        whole = app.screen.plain
        assert "REFUSED:  gate(s) failed: provenance" in whole and "FAIL provenance" in whole
        _no_cli_flags(whole)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is modal, within=WITHIN)

        # closing it: refused, nothing changed, said without a flag
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=WITHIN)
        assert app.screen is view
        assert alias_of(mlflow_server.url, sklearn_model, ALIAS) == "2" and served(info) == "2"
        refusals = [t for t in _toasts(app) if "gate(s) failed: provenance" in t]
        assert refusals, _toasts(app)
        _no_cli_flags(" ".join(_toasts(app)))

        # B again: a reason and the model name typed, then Override
        await pilot.press("B")
        await wait_for(pilot, lambda: showing(app, PlanOverrideModal), within=WITHIN)
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "plan-no", within=WITHIN)
        modal = app.screen
        override = modal.query_one("#override-yes", Button)
        modal.query_one("#override-reason", Input).focus()
        await pilot.pause()
        await _type(pilot, REASON)
        assert override.disabled  # the model name is still missing
        modal.query_one("#override-typed", Input).focus()
        await pilot.pause()
        await _type(pilot, sklearn_model)
        assert not override.disabled
        await pilot.click("#override-yes")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=300)
        assert not isinstance(app.screen, PlanModal | PlanOverrideModal)  # no second question
    assert alias_of(mlflow_server.url, sklearn_model, ALIAS) == "1"
    assert served(info) == "1"
    audit = _audit(home)
    promotion = [
        a for a in audit if a["model"] == sklearn_model and a["target"] == f"alias:{ALIAS}"
    ]
    assert promotion[-1]["outcome"] == "succeeded" and promotion[-1]["forced"]
    assert promotion[-1]["reason"] == REASON
    assert [g["status"] for g in promotion[-1]["gates"] if g["name"] == "provenance"] == ["failed"]
    # the closed form before it was audited as a refusal, not forced
    refused = [a for a in promotion if a["outcome"] == "refused"]
    assert refused and not refused[-1]["forced"]
    ours = [a for a in audit if a["target"] == f"deployment:{NAME}"]
    assert (ours[-1]["action"], ours[-1]["outcome"]) == ("deploy.rollback", "succeeded")
    assert ours[-1]["details"]["promotion"]["audit_id"] == promotion[-1]["id"]

"""Pilot tests of the deployments view against a real MLflow server and a real deployment started
through the CLI: the rows and their markers at 80×24 and 160×48, out of sync after an alias
moves, a rollout and a rollback from the TUI verified through the service's ``/version``, the
read-only refusals, and retrain opening the ``model-retrain`` runbook with the model filled in."""

from __future__ import annotations

import json

import httpx
import pytest

from console.settings import Settings
from console.tui.app import build_app
from tests.serve.conftest import alias_of, record, set_alias
from tests.tui.support import plain, showing, wait_for
from tests.tui_deploy.conftest import ALIAS, NAME
from widgets.deployments_screen import DeploymentsScreen
from widgets.promote_modal import PlanModal
from widgets.rollout_modal import RolloutConfirm
from widgets.runbook_chooser import RunbookForm

SIZES = [(80, 24), (160, 48)]
# a loaded machine: a service answering /version, a reload of a model, a worker round trip
WITHIN = 120.0


def _settings(home, url, **extra) -> Settings:
    return Settings(home=home, tracking_uri=url, **extra)


def _app(home, url, **extra):
    return build_app(_settings(home, url, **extra), build_demo=False)


def _row_text(app, name: str = NAME) -> str:
    screen = app.screen
    assert isinstance(screen, DeploymentsScreen)
    table = screen.table
    index = table.get_row_index(name)
    return " | ".join(plain(cell).strip() for cell in table.get_row_at(index))


def served(info) -> str:
    return httpx.get(f"{info['url']}/version", timeout=30).json()["version"]


async def _open_view(pilot, app) -> None:
    await wait_for(pilot, lambda: app.connection.client is not None, within=WITHIN)
    await pilot.press("D")
    await wait_for(pilot, lambda: showing(app, DeploymentsScreen), within=WITHIN)
    await wait_for(pilot, lambda: NAME in app.deployments.rows and app.screen.loaded, within=WITHIN)


def _shown(app, cls, selector: str) -> bool:
    """``cls`` is the screen on top and composed (``selector`` can be queried)."""
    return isinstance(app.screen, cls) and bool(app.screen.query(selector))


async def _wait_polled(pilot, app, condition) -> None:
    """Refresh (r) until ``condition`` holds for the newest poll."""
    await wait_for(pilot, lambda: not app.jobs.running("deployments"), within=WITHIN)
    before = app.deployments.polls
    await pilot.press("r")
    await wait_for(pilot, lambda: app.deployments.polls > before, within=WITHIN)
    await wait_for(pilot, condition, within=WITHIN)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_view_shows_the_deployment_and_out_of_sync(
    deployment, mlflow_server, sklearn_model, size
) -> None:
    home, info = deployment
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")
    app = _app(home, mlflow_server.url)
    async with app.run_test(size=size) as pilot:
        await _open_view(pilot, app)
        # the supervisor marks the record running just after the service first answers: on a
        # loaded machine the first poll can still read "starting" (the view polls every 5 s)
        await wait_for(pilot, lambda: "| running |" in _row_text(app), within=WITHIN)
        text = _row_text(app)
        assert text.startswith(NAME) and "in sync" in text and "| ok |" in text
        assert "v1 | v1" in text and f"{sklearn_model}@{ALIAS}" in text
        assert info["url"] in text
        # the real monitor command runs in the background: this plain model has no pinned
        # training snapshot to test drift against, and the row says so instead of "ok"
        await wait_for(pilot, lambda: "unchecked" in _row_text(app), within=WITHIN)

        # the alias moves: nothing served changes, the row says so in words
        set_alias(mlflow_server.url, sklearn_model, ALIAS, "2")
        await _wait_polled(pilot, app, lambda: "OUT OF SYNC" in _row_text(app))
        assert "v1 | v2" in _row_text(app)
        assert "OUT OF SYNC" in plain(app.screen.query_one("#deployments-status").content)
        assert served(info) == "1"

        # palette offers the view's actions for the selected deployment
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert f"Roll out {NAME}" in titles and f"Monitor {NAME}" in titles
        assert f"Retrain {sklearn_model}" in titles
        await pilot.press("escape")
        assert app.screen is app.main
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")


async def test_rollout_and_rollback_from_the_tui(deployment, mlflow_server, sklearn_model) -> None:
    home, info = deployment
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "2")
    assert served(info) == "1"
    app = _app(home, mlflow_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_view(pilot, app)
        await _wait_polled(pilot, app, lambda: "OUT OF SYNC" in _row_text(app))

        # R, then no: nothing changes
        await pilot.press("R")
        await wait_for(pilot, lambda: _shown(app, RolloutConfirm, "#rollout-no"), within=WITHIN)
        prompt = plain(app.screen.query_one("#rollout-body").content)
        assert "v1 → v2" in prompt and NAME in prompt
        assert app.screen.focused is app.screen.query_one("#rollout-no")
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=WITHIN)
        assert served(info) == "1"

        # R, then yes: reloaded on v2, verified through /version, in sync again
        await pilot.press("R")
        await wait_for(pilot, lambda: _shown(app, RolloutConfirm, "#rollout-no"), within=WITHIN)
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=300)
        assert served(info) == "2"
        assert record(home, NAME)["version"] == "2"
        await _wait_polled(pilot, app, lambda: "in sync" in _row_text(app))
        assert "v2 | v2" in _row_text(app)

        # B: the promotion's plan under the rollback's line, then the rollout without a question
        await pilot.press("B")
        await wait_for(pilot, lambda: _shown(app, PlanModal, "#plan-no"), within=WITHIN)
        preface = plain(app.screen.query_one("#plan-preface").content)
        assert "rollback of deployment" in preface and "v1" in preface
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.jobs.running("rollout"), within=300)
        assert alias_of(mlflow_server.url, sklearn_model, ALIAS) == "1"
        assert served(info) == "1"
    audit = [json.loads(line) for line in (home / "audit" / "audit.jsonl").read_text().splitlines()]
    actions = [(a["action"], a["outcome"]) for a in audit if a["target"] == f"deployment:{NAME}"]
    # each reload is preceded by its intent on disk (no registry or service change unaudited)
    assert actions[-4:] == [
        ("deploy.rollout", "pending"),
        ("deploy.rollout", "succeeded"),
        ("deploy.rollback", "pending"),
        ("deploy.rollback", "succeeded"),
    ]
    ours = [a for a in audit if a["target"] == f"deployment:{NAME}"][-4:]
    assert ours[1]["details"]["intent_id"] == ours[0]["id"]
    assert ours[3]["details"]["intent_id"] == ours[2]["id"]


async def test_read_only_refuses_rollout_rollback_and_retrain(
    deployment, mlflow_server, sklearn_model
) -> None:
    home, info = deployment
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "2")
    audit = home / "audit" / "audit.jsonl"
    audit_before = audit.read_text() if audit.exists() else ""
    app = _app(home, mlflow_server.url, read_only=True)
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **_: notes.append(message)  # type: ignore[method-assign]
        await _open_view(pilot, app)
        screen = app.screen
        for action in ("rollout", "rollback", "retrain"):
            assert screen.check_action("want", (action,)) is None  # greyed in the footer
        assert screen.check_action("want", ("monitor",)) is True
        assert "READ-ONLY" in plain(screen.query_one("#deployments-status").content)
        refusals = lambda: [n for n in notes if "read-only" in n]  # noqa: E731
        for count, key in enumerate(("R", "B", "T"), start=1):
            await pilot.press(key)
            await wait_for(pilot, lambda c=count: len(refusals()) == c, within=WITHIN)
        # the feature refuses too, whatever calls it (palette, :command)
        app.deployments.act("rollout", app.deployments.rows[NAME])
        await wait_for(pilot, lambda: len(refusals()) == 4, within=WITHIN)
        await pilot.pause(1.0)
        assert app.screen is screen  # no confirmation, no form
        assert not app.jobs.running("rollout") and not app.jobs.running("runbooks")
        titles = [c.title for c in app.get_system_commands(screen)]
        assert not [t for t in titles if t.startswith(("Roll out", "Roll back", "Retrain"))]
    assert served(info) == "1"
    assert (audit.read_text() if audit.exists() else "") == audit_before
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")


RETRAIN_RUNBOOK = """---
name: model-retrain
title: Retrain a model
summary: test stand-in for the retrain runbook
when_to_use: in the deployments view tests
parameters:
  model:
    type: string
    required: true
    description: the model to retrain
  alias:
    type: string
    default: champion
---

# Retrain

## Look

```step
id: look
kind: check
command: registry.find_problems
args:
  model: "{{ params.model }}"
on_failure: look at the registry
```
"""


async def test_retrain_opens_the_runbook_with_the_model(
    deployment, mlflow_server, sklearn_model, tmp_path, monkeypatch
) -> None:
    home, _ = deployment
    books = tmp_path / "runbooks"
    books.mkdir()
    (books / "model-retrain.md").write_text(RETRAIN_RUNBOOK)
    monkeypatch.setenv("MLOPS_CONSOLE_RUNBOOKS", str(books))
    app = _app(home, mlflow_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_view(pilot, app)
        await pilot.press("T")
        await wait_for(pilot, lambda: _shown(app, RunbookForm, "#param-model"), within=WITHIN)
        form = app.screen
        assert form.query_one("#param-model").value == sklearn_model
        assert form.query_one("#param-alias").value == ALIAS
        await pilot.press("escape")
        assert isinstance(app.screen, DeploymentsScreen)


async def test_retrain_without_the_runbook_says_so(
    deployment, mlflow_server, tmp_path, monkeypatch
) -> None:
    home, _ = deployment
    empty = tmp_path / "no-runbooks"
    empty.mkdir()
    monkeypatch.delenv("MLOPS_CONSOLE_RUNBOOKS", raising=False)
    monkeypatch.setattr("commands.runbooks.REPO_RUNBOOKS", empty)
    app = _app(home, mlflow_server.url)
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **_: notes.append(message)  # type: ignore[method-assign]
        await _open_view(pilot, app)
        await pilot.press("T")
        await wait_for(pilot, lambda: any("model-retrain" in n for n in notes), within=WITHIN)
        assert isinstance(app.screen, DeploymentsScreen)
    (note,) = [n for n in notes if "model-retrain" in n]
    assert "no runbook named model-retrain" in note and "\n" not in note

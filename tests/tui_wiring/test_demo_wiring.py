"""Pilot tests of the wired console on the demo lifecycle: a real MLflow server, a real DataHub
Lite store, real promotions with their audit records and a real runbook dry run.

Lineage of a version (run, dataset and snapshot) and enter on its run; ``a`` moving ``champion``
with the typed confirmation, checked on the server and in the audit log, then ``:audit``; ``s``
from the version detail; read-only greying ``a``/``s`` with the reason; ``b`` → chooser → form →
dry run to the end; a lineage problem shown in the pane.
"""

from __future__ import annotations

import pytest
from textual.notifications import Notify
from textual.widgets import Button, DataTable, Input, OptionList

from console.audit import AuditLog
from console.tui.app import build_app
from tests.tui.support import plain, showing, table_texts, wait_for
from tests.tui_wiring.conftest import Demo
from widgets.audit_screen import AuditScreen
from widgets.promote_modal import AliasChooser, PlanModal, StageChooser
from widgets.runbook_chooser import RunbookChooser, RunbookForm
from widgets.runbook_screen import RunbookScreen
from widgets.version_screen import VersionScreen

pytestmark = pytest.mark.slow

SIZE = (160, 48)


async def _on_version(pilot, app, model: str, version: str | None = None) -> None:
    registry = app.main.registry_pane
    await wait_for(pilot, lambda: model in registry.models, within=30)
    registry.select_model(model)
    app.main.focus_pane(1, registry.version_table)
    await wait_for(
        pilot,
        lambda: registry.model is not None and registry.model.name == model and registry.versions,
        within=30,
    )
    if version is not None:
        registry.select_version(version)
    await pilot.pause()


def _tree_nodes(tree):
    found = []

    def walk(node) -> None:
        found.append(node)
        for child in node.children:
            walk(child)

    walk(tree.root)
    return found


def _graph_of(tree, version: str) -> bool:
    graph = tree.graph
    if graph is None:
        return False
    root = graph.node(graph.root)
    return root is not None and root.properties.get("version") == version


async def _command(pilot, text: str) -> None:
    await pilot.press("colon")
    await pilot.press(*text, "enter")


async def test_lineage_pane_shows_run_and_snapshot_and_enter_selects_the_run(demo: Demo) -> None:
    result = demo.result
    version = result.champion_version
    app = build_app(demo.settings(), build_demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await _on_version(pilot, app, result.model, version)
        run_id = app.main.registry_pane.versions[version].run_id
        snapshot = next(r.snapshot_id for r in result.runs if r.run_id == run_id)
        pane = app.main.lineage_pane
        tree = pane.tree
        await wait_for(pilot, lambda: _graph_of(tree, version), within=20)
        await pilot.pause()
        labels = [node.label.plain for node in _tree_nodes(tree)]
        run_name = next(r.name for r in result.runs if r.run_id == run_id)
        assert any(label.startswith("RUN") and run_name in label for label in labels), labels
        data = [label for label in labels if label.startswith("DATA")]
        assert any(result.table in label and f"@ {snapshot}" in label for label in data)
        assert "no problems found" in plain(pane.query_one("#lineage-body").content)

        # enter on the run node selects that run in the runs pane
        await pilot.press("3")  # the lineage pane
        await pilot.pause()
        assert app.focused is tree
        run_node = next(n for n in _tree_nodes(tree) if n.data == f"mlflow-run:{run_id}")
        tree.move_cursor(run_node)
        await pilot.press("enter")
        runs = app.main.runs_pane.runs_table
        await wait_for(pilot, lambda: runs.current_key == run_id, within=20)

        # enter on the dataset shows it in the detail strip
        dataset = next(n for n in _tree_nodes(tree) if (n.data or "").startswith("urn:li:dataset"))
        tree.move_cursor(dataset)
        await pilot.press("enter")
        await pilot.pause()
        detail = plain(app.main.detail.content)
        assert "dataset" in detail and result.table in detail and "iceberg" in detail

        # d: another direction is fetched again
        await pilot.press("d")
        await wait_for(
            pilot, lambda: tree.graph is not None and tree.graph.direction == "upstream", within=20
        )
        labels = [node.label.plain for node in _tree_nodes(tree)]
        assert not any("downstream" in label for label in labels)


async def test_alias_move_with_typed_confirmation_is_written_and_audited(
    demo: Demo, isolated_env
) -> None:
    # only the ready gate for champion: the full gates are the promotions engineer's tests
    config = isolated_env / "xdg-config" / "mlops-console" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[gates.alias.champion]\nrequire = ["ready"]\n')
    model = demo.result.model
    settings = demo.settings()
    app = build_app(settings, build_demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await _on_version(pilot, app, model)
        registry = app.main.registry_pane
        holder = registry.models[model].aliases.get("champion")
        assert holder is not None
        target = next(v for v in sorted(registry.versions, key=int) if v != holder)
        registry.select_version(target)
        await pilot.pause()
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AliasChooser), within=20)
        options = app.screen.query_one("#alias-options", OptionList)
        options.focus()
        options.highlighted = options.get_option_index("champion")
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, PlanModal), within=30)
        modal = app.screen
        assert modal.typed == model  # champion is confirmed by typing the model name
        body = plain(modal.query_one("#plan-body").render())
        assert f"alias champion → v{holder}" in body and f"alias champion → v{target}" in body
        assert app.focused.id == "plan-no"
        modal.query_one("#plan-typed", Input).focus()
        await pilot.press(*model)
        assert not modal.query_one("#plan-yes", Button).disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: "promotion succeeded" in app.main.status.state, within=30)

        assert (await app.client.get_registered_model(model)).aliases["champion"] == target
        await wait_for(
            pilot, lambda: registry.models[model].aliases.get("champion") == target, within=20
        )
        record = AuditLog.for_settings(settings).read().records[-1]
        assert (record.model, record.version, record.target, record.outcome) == (
            model,
            target,
            "alias:champion",
            "succeeded",
        )

        await _command(pilot, "audit")
        await wait_for(pilot, lambda: showing(app, AuditScreen), within=20)
        await pilot.pause()
        cells = table_texts(app.screen.query_one(DataTable))
        assert record.id in app.screen.records[0].id
        assert "alias:champion" in cells and "succeeded" in cells and target in cells
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_stage_change_from_the_version_detail_screen(demo: Demo) -> None:
    model = demo.result.model
    app = build_app(demo.settings(), build_demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await _on_version(pilot, app, model)
        registry = app.main.registry_pane
        target = next(
            v
            for v in sorted(registry.versions, key=int)
            if registry.versions[v].current_stage != "Staging"
        )
        registry.select_version(target)
        await pilot.pause()
        await pilot.press("enter")  # the version's detail screen
        await wait_for(pilot, lambda: showing(app, VersionScreen), within=10)
        await pilot.press("s")
        await wait_for(pilot, lambda: showing(app, StageChooser), within=20)
        options = app.screen.query_one("#stage-options", OptionList)
        options.focus()
        options.highlighted = options.get_option_index("Staging")
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, PlanModal), within=30)
        assert app.screen.typed is None  # Staging needs no typed confirmation
        await pilot.press("y")
        await wait_for(pilot, lambda: "promotion succeeded" in app.main.status.state, within=30)
        assert isinstance(app.screen, VersionScreen)
        version = await app.client.get_model_version(model, target)
        assert version.current_stage == "Staging"


async def test_read_only_greys_out_alias_and_stage_and_says_why(demo: Demo) -> None:
    seen: list[object] = []
    app = build_app(demo.settings(read_only=True), build_demo=False)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await _on_version(pilot, app, demo.result.model)
        bindings = app.screen.active_bindings
        assert bindings["a"].enabled is False and bindings["s"].enabled is False
        await pilot.press("a")
        await pilot.press("s")
        await pilot.pause()
        assert app.screen is app.main
        said = [m.notification.message for m in seen if isinstance(m, Notify)]
        assert len([m for m in said if "read-only" in m]) == 2, said


async def test_runbook_chooser_form_and_dry_run_to_the_end(demo: Demo) -> None:
    app = build_app(demo.settings(), build_demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.runbooks.catalog is not None, within=30)
        await pilot.press("b")
        await wait_for(pilot, lambda: showing(app, RunbookChooser), within=10)
        options = app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("lineage-broken-from-mlflow-side")
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, RunbookForm), within=10)
        form = app.screen
        assert [f.name for f in form.fields] == ["model"]
        form.query_one("#param-model", Input).value = demo.result.model
        assert app.focused.id == "param-model"  # enter in a field is the safe choice: a dry run
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, RunbookScreen), within=10)
        screen = app.screen
        assert screen.dry_run
        await wait_for(pilot, lambda: screen.status is not None, within=60)
        assert screen.status == "dry-run"
        assert screen.query_one("#rb-steps", DataTable).row_count == len(screen.steps) >= 3
        assert screen.states["find"] == "ok"
        assert all(state != "pending" for state in screen.states.values()), screen.states
        assert "dry-run" in screen.transcript_text or "dry run" in screen.transcript_text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_lineage_problems_are_shown_in_the_pane(demo: Demo) -> None:
    import httpx

    # a version registered after the last lineage sync: DataHub does not know it
    model, base = demo.result.model, f"{demo.url}/api/2.0/mlflow"
    async with httpx.AsyncClient(timeout=30) as http:
        champion = (
            await http.get(
                f"{base}/model-versions/get",
                params={"name": model, "version": demo.result.champion_version},
            )
        ).json()["model_version"]
        created = (
            await http.post(
                f"{base}/model-versions/create",
                json={
                    "name": model,
                    "source": champion["source"],  # models:/m-<logged model id>
                    "model_id": champion["source"].rsplit("/", 1)[-1],
                    "run_id": champion["run_id"],
                },
            )
        ).json()["model_version"]["version"]
    app = build_app(demo.settings(), build_demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await _on_version(pilot, app, model, created)
        pane = app.main.lineage_pane
        await wait_for(pilot, lambda: _graph_of(pane.tree, created), within=20)
        await pilot.pause()
        kinds = {p.kind for p in pane.tree.graph.problems}
        assert "version_not_in_datahub" in kinds, kinds
        body = plain(pane.query_one("#lineage-body").content)
        assert "problem(s)" in body and "what to do" in body
        labels = [node.label.plain for node in _tree_nodes(pane.tree)]
        assert any("version_not_in_datahub" in label for label in labels)

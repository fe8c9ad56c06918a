"""What operators expect, driven through the real app against a real MLflow server at 80×24 and
160×48: zoom, marks in the versions table, whole text of what a line cuts, the audit view's
columns and filters, and a runbook step read in full."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from commands.runbooks.catalog import load_runbook
from console.audit import Actor, AuditLog, AuditRecord
from console.tui.app import build_app
from tests.tui.conftest import World
from tests.tui.support import plain, showing, table_texts, wait_for
from widgets.audit_screen import AuditScreen
from widgets.runbook_chooser import RunbookLaunch
from widgets.runbook_screen import RunbookScreen
from widgets.text_viewer import TextViewer

SIZES = [(80, 24), (160, 48)]
ids = [f"{w}x{h}" for w, h in SIZES]


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def command(pilot, text: str) -> None:
    await pilot.press("colon")
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def _loaded(pilot, app, world: World) -> None:
    await wait_for(pilot, lambda: world.main_experiment_id in app.main.runs_pane.experiments, 60)
    await wait_for(pilot, lambda: world.model in app.main.registry_pane.models, 60)


async def _on_versions(pilot, app, world: World) -> None:
    registry = app.main.registry_pane
    await command(pilot, f"model {world.model}")
    await wait_for(pilot, lambda: registry.model_table.current_key == world.model)
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            registry.model is not None
            and registry.model.name == world.model
            and len(registry.versions) == 3
            and app.main.focused is registry.version_table
        ),
        30,
    )


def _width(widget) -> int:
    return widget.region.width


@pytest.mark.parametrize("size", SIZES, ids=ids)
async def test_zoom_the_focused_pane_and_the_detail_strip(tui_world, settings_for, size) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot, app, tui_world)
        main = app.main
        runs, registry, lineage = main.runs_pane, main.registry_pane, main.lineage_pane
        await pilot.press("2")
        await pilot.pause()
        assert main.active_pane == 1
        wide = size[0] >= 120
        if wide:  # side by side: the registry shares the width
            assert 0 < _width(registry) < size[0] // 2
        await pilot.press("z")
        await pilot.pause()
        assert main.zoom == "pane" and main.has_class("-zoom")
        assert _width(registry) == size[0] and _width(runs) == 0 and _width(lineage) == 0
        assert not main.detail.display or main.detail.region.height == 0
        tabs = plain(main.query_one("#pane-tabs").render())
        assert "zoomed: Registry" in tabs and "z or escape" in tabs
        # tab moves between panes, still zoomed
        await pilot.press("tab")
        await pilot.pause()
        assert main.active_pane == 2 and _width(lineage) == size[0] and _width(registry) == 0
        await pilot.press("z")
        await pilot.pause()
        assert main.zoom is None and not main.has_class("-zoom")
        assert main.detail.region.height == 3
        if wide:
            assert all(_width(p) > 0 for p in (runs, registry, lineage))
        # the detail strip: the selection's facts whole, on the whole screen; escape returns
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("Z")
        await pilot.pause()
        assert main.zoom == "detail" and main.detail.expanded
        assert main.detail.region.height > size[1] // 2
        assert main.query_one("#panes").region.height == 0
        shown = plain(main.detail.render(), width=size[0]).splitlines()
        # expanded: one fact per line, whole
        assert any(line.startswith("id ") for line in shown) and len(shown) >= 3
        await pilot.press("escape")
        await pilot.pause()
        assert main.zoom is None and not main.detail.expanded and main.detail.region.height == 3


@pytest.mark.parametrize("size", SIZES, ids=ids)
async def test_marks_show_in_the_versions_table(tui_world, settings_for, size) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot, app, tui_world)
        await _on_versions(pilot, app, tui_world)
        table = app.main.registry_pane.version_table

        def marked() -> set[str]:
            return {
                key.value for key in table.rows if plain(table.get_cell(key, "mark")).strip() == "◆"
            }

        first = table.current_key
        assert marked() == set()
        await pilot.press("m")
        await pilot.pause()
        assert marked() == {first}
        await pilot.press("j")
        await pilot.pause()
        second = table.current_key
        await pilot.press("m")
        await pilot.pause()
        assert marked() == {first, second}
        # the news is on the top line, not in a toast that would cover the compare screen
        assert "c compares them" in app.main.status.message
        assert not any("marked" in str(n.message) for n in app._notifications)
        # a reload (r) keeps the marks on screen
        await pilot.press("r")
        await pilot.pause(0.5)
        await wait_for(pilot, lambda: len(table.rows) == 3 and marked() == {first, second}, 30)
        await pilot.press("m")  # unmark the second
        await pilot.pause()
        assert marked() == {first}
        # the column is on screen at this size
        assert table.region.width > 0 and "◆" in "".join(table_texts(table))


def _record(n: int, *, model: str, action: str, actor: str, reason: str, outcome="succeeded"):
    return AuditRecord(
        action=action,
        outcome=outcome,
        actor=Actor(name=actor, source="os"),
        model=model,
        version=str(n),
        target="alias:champion",
        before={"alias_holder": str(n - 1) if n > 1 else None},
        after={"alias_holder": str(n)},
        reason=reason,
        message=f"done: alias champion → v{n}",
    )


LONG_REASON = "incident 4711: " + "the holdout set drifted; " * 20 + "END-OF-REASON"


@pytest.mark.parametrize("size", SIZES, ids=ids)
async def test_audit_view_columns_filters_and_whole_record(tui_world, settings_for, size) -> None:
    settings = settings_for(tui_world.url)
    log = AuditLog.for_settings(settings)
    log.append(_record(1, model="alpha", action="promote.set_alias", actor="ann", reason="first"))
    log.append(_record(2, model="beta", action="promote.set_alias", actor="bob", reason="second"))
    log.append(
        _record(3, model="alpha", action="runbook.registry.repair", actor="bob", reason="third")
    )
    log.append(
        _record(
            4,
            model="alpha",
            action="promote.set_alias",
            actor="ann",
            reason=LONG_REASON,
            outcome="refused",
        )
    )
    app = build_app(settings, page_size=5)
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot, app, tui_world)
        await command(pilot, "audit")
        await wait_for(pilot, lambda: showing(app, AuditScreen), 30)
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 4
        # outcome and reason are on screen at this width: their columns start inside it
        starts, x = {}, 0
        for column in table.ordered_columns:
            starts[str(column.label)] = x
            x += column.get_render_width(table)
        assert starts["outcome"] + len("refused") < size[0]
        assert starts["reason"] + 10 < size[0]
        # the detail row: outcome, reason (wrapped) of the newest record
        detail = plain(screen.query_one("#audit-detail").render(), width=size[0])
        assert "refused" in detail and "incident 4711" in detail
        # enter: the whole record, nothing cut
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, TextViewer))
        assert "END-OF-REASON" in app.screen.plain and "(+" not in app.screen.plain
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        # j/k move like in every other list, and enter opens the row moved to
        await pilot.press("j", "j")
        await pilot.pause()
        assert screen.current is not None and screen.current.reason == "second"
        detail = plain(screen.query_one("#audit-detail").render(), width=size[0])
        assert "second" in detail
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, TextViewer))
        assert "second" in app.screen.plain and "END-OF-REASON" not in app.screen.plain
        await pilot.press("escape")
        await pilot.press("k")
        await pilot.pause()
        assert screen.current.reason == "third"
        await pilot.press("g")
        await pilot.pause()
        assert screen.current.reason == LONG_REASON

        async def filter_by(text: str) -> list[str]:
            await pilot.press("slash")
            await pilot.pause()
            box = screen.query_one("#audit-filter")
            box.value = ""
            await type_text(pilot, text)
            await pilot.press("enter")
            await pilot.pause()
            return [r.reason for r in screen.records]

        assert await filter_by("model=beta") == ["second"]
        assert await filter_by("operator=bob") == ["third", "second"]
        assert await filter_by("action=runbook") == ["third"]
        assert await filter_by("alpha operator=ann") == [LONG_REASON, "first"]
        title = plain(screen.query_one("#audit-title").render(), width=300)
        assert "2 of 4" in title and "operator=ann" in title
        assert await filter_by("") == [LONG_REASON, "third", "second", "first"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


@pytest.mark.parametrize("size", SIZES, ids=ids)
async def test_a_runbook_step_is_readable_whole(tui_world, settings_for, size) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot, app, tui_world)
        runbook = load_runbook("model-registry-promotion-stuck")
        launch = RunbookLaunch(dry_run=True, params={"model": tui_world.model})
        app.runbooks._launch_runbook(runbook, launch)
        await wait_for(pilot, lambda: showing(app, RunbookScreen), 30)
        screen = app.screen
        await wait_for(pilot, lambda: screen.status is not None, 120)
        table = screen.query_one("#rb-steps", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, TextViewer))
        text = app.screen.plain
        step = screen.steps[0]
        assert step.title in text and "state: ok" in text
        assert step.explanation.split()[0] in text
        assert "summary: " in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


SLOW_GATES = """
[gates.default]
require = ["ready", "invariance"]
invariance_module = "tests.promote.checks.slow"
invariance_timeout = 600
"""


def _slow_gate_running(model: str) -> bool:
    import subprocess

    found = subprocess.run(
        ["pgrep", "-f", f"tests.promote.checks.slow --model-uri models:/{model}/"],
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


@pytest.mark.parametrize("size", SIZES, ids=ids)
async def test_gates_show_while_they_run_and_escape_cancels(tui_world, settings_for, size):
    import os
    from pathlib import Path

    from textual.widgets import Input

    from widgets.promote_modal import AliasChooser, GatesRunning

    config = Path(os.environ["XDG_CONFIG_HOME"]) / "mlops-console" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(SLOW_GATES)
    alias = f"canary{size[0]}"
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await _loaded(pilot, app, tui_world)
        await _on_versions(pilot, app, tui_world)
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AliasChooser), 30)
        app.screen.query_one("#alias-typed", Input).focus()
        await type_text(pilot, alias)
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, GatesRunning), 60)
        gates = app.screen
        # which gate is running, and for how long; ready has passed meanwhile
        await wait_for(pilot, lambda: gates.gates.get("ready", None) is not None)
        await wait_for(pilot, lambda: _slow_gate_running(tui_world.model), 60)
        shown = plain(gates.query_one("#gates-body").render(), width=size[0])
        assert "invariance" in shown and "running…" in shown
        assert "escape or x cancels" in plain(gates.query_one("#gates-hint").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, 30)
        await wait_for(pilot, lambda: "cancelled while the gates ran" in app.main.status.state)
        # the gate's child process is gone and nothing was written
        await wait_for(pilot, lambda: not _slow_gate_running(tui_world.model), 30)
        model = await app.client.get_registered_model(tui_world.model)
        assert alias not in model.aliases

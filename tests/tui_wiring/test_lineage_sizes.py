"""The lineage pane shows what it is for at every size: the Iceberg snapshot pinned on the run's
input edge is on screen at 80×24, 160×48 and 200×50 (not cut), ``enter`` on the dataset shows
the pinned snapshot (not only the urn), ``j``/``k`` move in the tree; and a fresh console lands
on the experiment of the most recent run (the demo's, not the empty Default). Real demo
lifecycle, real MLflow server, real DataHub Lite store."""

from __future__ import annotations

import pytest

from console.tui.app import build_app
from tests.tui.support import plain, wait_for
from tests.tui_wiring.conftest import Demo

pytestmark = pytest.mark.slow


def _visible_lines(widget) -> list[str]:
    """What the widget shows on screen now, line by line."""
    return [
        "".join(segment.text for segment in widget.render_line(y))
        for y in range(widget.size.height)
    ]


def _nodes(tree):
    found = []

    def walk(node) -> None:
        found.append(node)
        for child in node.children:
            walk(child)

    walk(tree.root)
    return found


@pytest.mark.parametrize("size", [(80, 24), (160, 48), (200, 50)], ids=str)
async def test_snapshot_on_the_input_edge_is_readable(demo: Demo, size) -> None:
    result = demo.result
    version = result.champion_version
    app = build_app(demo.settings(), build_demo=False)
    async with app.run_test(size=size) as pilot:
        registry = app.main.registry_pane
        await wait_for(pilot, lambda: result.model in registry.models, within=60)
        # a fresh console lands on the experiment with the latest run: the demo's
        runs = app.main.runs_pane
        await wait_for(pilot, lambda: runs.experiment is not None, within=30)
        assert runs.experiment.name == result.model
        registry.select_model(result.model)
        app.main.focus_pane(1, registry.version_table)
        await wait_for(pilot, lambda: bool(registry.versions), within=30)
        registry.select_version(version)
        run_id = registry.versions[version].run_id
        snapshot = next(r.snapshot_id for r in result.runs if r.run_id == run_id)
        tree = app.main.lineage_pane.tree
        await wait_for(
            pilot,
            lambda: (
                tree.graph is not None
                and tree.graph.node(tree.graph.root).properties.get("version") == version
            ),
            within=30,
        )
        await pilot.press("3")
        await pilot.pause()
        assert app.focused is tree
        shown = _visible_lines(tree)
        data_lines = [line for line in shown if "DATA" in line]
        assert any(result.table in line and snapshot in line for line in data_lines), shown

        # j/k move in the tree
        tree.cursor_line = 0
        await pilot.press("j")
        assert tree.cursor_line == 1
        await pilot.press("k")
        assert tree.cursor_line == 0

        # enter on the dataset: the pinned snapshot in the detail strip
        dataset = next(n for n in _nodes(tree) if (n.data or "").startswith("urn:li:dataset"))
        tree.move_cursor(dataset)
        await pilot.press("enter")
        await pilot.pause()
        detail = app.main.detail
        text = plain(detail.content, width=detail.size.width or 80)
        assert f"pinned snapshot {snapshot}" in " ".join(text.split())
        first_lines = _visible_lines(detail)
        assert any(snapshot in line for line in first_lines), first_lines

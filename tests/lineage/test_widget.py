"""The lineage tree widget, driven with Textual's Pilot on a graph read from a real Lite store."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from console.lineage.lite import LiteSource
from console.lineage.reader import LineageReader
from tests.lineage.stores import MODEL
from widgets.lineage_tree import LineageTree


class Host(App):
    def __init__(self, graph) -> None:
        super().__init__()
        self.graph = graph
        self.chosen: list[LineageTree.NodeChosen] = []
        self.views: list[LineageTree.ViewChanged] = []

    def compose(self) -> ComposeResult:
        yield LineageTree(id="tree")

    def on_mount(self) -> None:
        tree = self.query_one(LineageTree)
        tree.show_graph(self.graph)
        tree.focus()

    def on_lineage_tree_node_chosen(self, message: LineageTree.NodeChosen) -> None:
        self.chosen.append(message)

    def on_lineage_tree_view_changed(self, message: LineageTree.ViewChanged) -> None:
        self.views.append(message)


def _labels(tree: LineageTree) -> list[str]:
    out = []

    def walk(node) -> None:
        out.append(node.label.plain)
        for child in node.children:
            walk(child)

    walk(tree.root)
    return out


async def test_tree_keys_and_messages(healthy_store: Path, make_store) -> None:
    async with LineageReader(LiteSource(healthy_store)) as reader:
        graph = await reader.lineage_for_version(MODEL, "1")
    app = Host(graph)
    async with app.run_test() as pilot:
        tree = app.query_one(LineageTree)
        labels = _labels(tree)
        assert any(label.startswith("GROUP") for label in labels)
        assert any(label.startswith("RUN") and "mlflow+openlineage" in label for label in labels)
        # the snapshot right after the dataset's name: the part a narrow pane keeps
        assert any("lake.git.commits @ 5123456789012345678" in label for label in labels)
        assert any(label.startswith("DATA") and "gh.public.commits" in label for label in labels)
        await pilot.press("minus", "minus")
        assert not any("gh.public.commits" in label for label in _labels(tree))
        await pilot.press("d")
        assert [(v.depth, v.direction) for v in app.views][-1] == (1, "upstream")
        assert not any("downstream" in label for label in _labels(tree))
        # move to the version line and press enter: the owner hears which node
        line = next(i for i, n in enumerate(_lines(tree)) if n.startswith("MODEL"))
        tree.cursor_line = line
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen and app.chosen[-1].node_type == "model_version"


def _lines(tree: LineageTree) -> list[str]:
    return [tree.get_node_at_line(i).label.plain for i in range(tree.last_line + 1)]

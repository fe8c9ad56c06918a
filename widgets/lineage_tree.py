"""A lineage graph rendered as a tree: upstream and downstream of one node, problems on top.

Self-contained: it renders any graph shaped like ``console.lineage.model.LineageGraph`` (nodes,
edges, problems; imported for typing only, widgets never import the lineage clients), shows node
types at a glance and the snapshot on the data edge, switches depth (``+``/``-``) and direction
(``d``) locally and posts ``ViewChanged`` so the owner can fetch more, and posts ``NodeChosen``
when enter is pressed on a node. Server strings are rendered literally with ``rich.text.Text``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

if TYPE_CHECKING:
    from console.lineage.model import LineageGraph

BADGES = {
    "model_group": ("GROUP", "bold magenta"),
    "model_version": ("MODEL", "bold cyan"),
    "run": ("RUN", "bold yellow"),
    "data_job": ("JOB", "bold blue"),
    "dataset": ("DATA", "bold green"),
}
DIRECTIONS = ("both", "upstream", "downstream")
MAX_DEPTH = 10


def _clean(value: object, limit: int = 80) -> str:
    """Control characters shown as escapes, long values cut (markup is never parsed: Text)."""
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in str(value))
    return text if len(text) <= limit else text[:limit] + "…"


def node_label(node: Any, snapshot: str | None = None, relationship: str | None = None) -> Text:
    """Badge, name, then the snapshot pinned on the edge (first: it must survive a narrow
    pane), then the extras that may be cut (origin, platform, relationship)."""
    badge, style = BADGES.get(node.type, ("ENTITY", "bold"))
    label = Text.assemble((f"{badge:<5}", style), " ", (_clean(node.name), ""))
    if snapshot:
        label.append(" @ ", style="dim")
        label.append(_clean(snapshot), style="bold")
    if node.type == "run" and node.properties.get("seen_by"):
        label.append(f"  {_clean(node.properties['seen_by'])}", style="dim")
    if node.type == "dataset" and node.properties.get("platform"):
        label.append(f"  {_clean(node.properties['platform'])}", style="dim")
    if relationship:
        label.append(f"  {_clean(relationship)}", style="dim italic")
    if not node.exists:
        label.append("  not in DataHub", style="bold red")
    return label


class LineageTree(Tree[str]):
    """Tree of a lineage graph. Data of each tree node is the graph node id (or None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("plus,equals_sign", "deeper", "Deeper", tooltip="show one more hop"),
        Binding("minus", "shallower", "Shallower", tooltip="show one hop less"),
        Binding("d", "cycle_direction", "Direction", tooltip="both / upstream / downstream"),
    ]

    class NodeChosen(Message):
        """Enter on a lineage node: the owner selects it in the other panes."""

        def __init__(
            self,
            node_id: str,
            node_type: str,
            urn: str,
            name: str,
            properties: dict,
            snapshot: str | None = None,
        ):
            super().__init__()
            # the snapshot pinned on the edge that led to this node (datasets), if any
            self.snapshot = snapshot
            self.node_id = node_id
            self.node_type = node_type
            self.urn = urn
            self.name = name
            self.properties = properties

    class ViewChanged(Message):
        """Depth or direction changed; the owner may fetch a deeper or other-side graph."""

        def __init__(self, depth: int, direction: str) -> None:
            super().__init__()
            self.depth = depth
            self.direction = direction

    def __init__(self, *, depth: int = 3, direction: str = "both", **kwargs: Any) -> None:
        super().__init__(Text("lineage"), **kwargs)
        self.graph: LineageGraph | None = None
        self.depth = depth
        self.direction = direction
        self.show_root = True
        # two columns per level (not four): the snapshot on a data edge five levels down must
        # fit in the pane
        self.guide_depth = 2
        # the snapshot pinned on the edge into each tree node (by tree node id)
        self.snapshots: dict[int, str] = {}

    def show_graph(self, graph: LineageGraph) -> None:
        self.graph = graph
        self._render_graph()

    def _render_graph(self) -> None:
        self.clear()
        self.snapshots = {}
        graph = self.graph
        if graph is None:
            return
        root = graph.node(graph.root)
        if root is None:
            return
        self.root.set_label(
            Text.assemble(
                ("lineage ", "bold"),
                (f"depth {self.depth} · {self.direction}", "dim"),
            )
        )
        if graph.problems:
            box = self.root.add(
                Text(f"⚠ {len(graph.problems)} problem(s)", style="bold red"), expand=True
            )
            for problem in graph.problems:
                line = Text.assemble(
                    (
                        f"{problem.severity.upper():<8}",
                        "bold red" if problem.severity == "error" else "yellow",
                    ),
                    (_clean(problem.kind), "bold"),
                    ": ",
                    _clean(problem.message, 200),
                )
                box.add_leaf(line, data=problem.node)
        parent = self.root
        for _edge, far in graph.children(root.id, "context"):
            group = graph.node(far)
            if group is not None:
                parent = parent.add(node_label(group), data=group.id, expand=True)
        top = parent.add(node_label(root), data=root.id, expand=True)
        sides = ["upstream", "downstream"] if self.direction == "both" else [self.direction]
        for side in sides:
            arrow = "↑ upstream" if side == "upstream" else "↓ downstream"
            branch = top.add(Text(arrow, style="dim"), expand=True)
            self._add_branch(branch, root.id, side, 1, {root.id})
            if not branch.children:
                branch.add_leaf(Text("(nothing)", style="dim"))
        self.root.expand()

    def _add_branch(
        self, parent: TreeNode[str], node_id: str, side: str, level: int, path: set[str]
    ) -> None:
        graph = self.graph
        if graph is None or level > self.depth:
            return
        for edge, far in graph.children(node_id, side):  # type: ignore[arg-type]
            node = graph.node(far)
            if node is None or far in path:
                continue
            child = parent.add(
                node_label(node, edge.snapshot_id, edge.relationship), data=far, expand=True
            )
            if edge.snapshot_id:
                self.snapshots[child.id] = str(edge.snapshot_id)
            self._add_branch(child, far, side, level + 1, path | {far})
            if not child.children:
                child.allow_expand = False

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        graph = self.graph
        node_id = event.node.data
        if graph is None or node_id is None:
            return
        node = graph.node(node_id)
        if node is not None:
            self.post_message(
                self.NodeChosen(
                    node.id,
                    node.type,
                    node.urn,
                    node.name,
                    dict(node.properties),
                    snapshot=self.snapshots.get(event.node.id),
                )
            )

    def _changed(self) -> None:
        self._render_graph()
        self.post_message(self.ViewChanged(self.depth, self.direction))

    def action_deeper(self) -> None:
        if self.depth < MAX_DEPTH:
            self.depth += 1
            self._changed()

    def action_shallower(self) -> None:
        if self.depth > 1:
            self.depth -= 1
            self._changed()

    def action_cycle_direction(self) -> None:
        self.direction = DIRECTIONS[(DIRECTIONS.index(self.direction) + 1) % len(DIRECTIONS)]
        self._changed()

"""The lineage pane: a status line over a ``LineageTree`` of what is selected in the other panes.

The shell fills it (``loading``, ``show_graph``, ``not_configured``, ``failed``); the tree posts
``LineageTree.NodeChosen`` and ``LineageTree.ViewChanged``, which bubble to the shell. No lineage
client is imported here: graphs arrive as data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.safe_text import printable
from widgets.lineage_tree import LineageTree
from widgets.text import literal

if TYPE_CHECKING:
    from console.lineage.model import LineageGraph

NOT_CONFIGURED = "Lineage is not configured."
NOTHING_SELECTED = "Select a model version (or a run) to see its lineage."


def _wrapped(value: object, limit: int) -> Text:
    """Server or settings text that may wrap over several lines, shown literally."""
    return Text(printable(value, limit=limit))


class LineagePane(Vertical):
    """Pane 3: lineage of the selected version or run, problems first."""

    HELP = (
        "Lineage\n"
        "  follows the version highlighted in the registry pane (or the run in the\n"
        "  runs pane, while the runs list has the focus): model group, version,\n"
        "  training run, input data @ its Iceberg snapshot, upstream jobs and data,\n"
        "  downstream users; problems on top\n"
        "  j/k, arrows   move\n"
        "  enter         on a run: select it in the runs pane; on a version: select\n"
        "                it in the registry; on a dataset: its pinned snapshot and\n"
        "                details below (a job: its details)\n"
        "  space         fold / unfold a node\n"
        "  + / -         one hop more / less     d       both / up / downstream\n"
        "  the store is DataHub GMS when DATAHUB_GMS_URL is set, else the embedded\n"
        "  DataHub Lite store of the console home (the demo or `lineage sync`)"
    )

    DEFAULT_CSS = """
    LineagePane #lineage-body { height: auto; max-height: 9; }
    LineagePane.-bare #lineage-body { max-height: 24; }
    LineagePane LineageTree { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")

    def compose(self) -> ComposeResult:
        yield Static(Text("Lineage"), id="lineage-title", classes="pane-title")
        yield Static(Text(NOTHING_SELECTED), id="lineage-body")
        yield LineageTree(id="lineage-tree")

    def on_mount(self) -> None:
        # enter chooses a node (selects it in the other panes); space folds it
        self.tree.auto_expand = False
        self._empty_tree()

    @property
    def tree(self) -> LineageTree:  # pyright: ignore[reportIncompatibleMethodOverride]
        return self.query_one(LineageTree)

    def _body(self, text: Text) -> None:
        self.query_one("#lineage-body", Static).update(text)

    def _title(self, subject: str, state: str = "") -> None:
        title = f"Lineage · {subject}" + (f" · {state}" if state else "")
        self.query_one("#lineage-title", Static).update(literal(title, limit=200))

    def _empty_tree(self) -> None:
        tree = self.tree
        tree.graph = None
        tree.clear()
        tree.root.set_label(Text("(no lineage shown)", style="dim"))
        tree.root.allow_expand = False

    def loading(self, subject: str) -> None:  # pyright: ignore[reportIncompatibleVariableOverride]
        """A request for ``subject`` is on its way; the last graph stays until it arrives."""
        self._title(subject, "loading…")

    def show_graph(self, graph: LineageGraph, subject: str) -> None:
        """The graph of ``subject``; its problems are counted here and listed atop the tree."""
        self._title(subject)
        self.remove_class("-bare")
        body = Text()
        body.append(f"{graph.backend} ", style="bold")
        body.append_text(literal(graph.location, limit=120))
        errors = [p for p in graph.problems if p.severity == "error"]
        if graph.problems:
            style = "bold red" if errors else "yellow"
            body.append(f"\n⚠ {len(graph.problems)} problem(s)", style=style)
            first = errors[0] if errors else graph.problems[0]
            body.append(": ")
            body.append_text(_wrapped(first.message, 200))
            if first.hint:
                body.append("\nwhat to do: ", style="dim")
                body.append_text(_wrapped(first.hint, 200))
        else:
            body.append("\nno problems found", style="dim")
        skipped = getattr(graph, "not_checked", None)
        if skipped:  # evidence not traversed: said, never a problem
            kinds = {item.kind for item in skipped}
            body.append(f"\nnot checked ({len(kinds)}): ", style="dim")
            body.append_text(_wrapped(skipped[0].message, 200))
            if skipped[0].hint:
                body.append(" — ", style="dim")
                body.append_text(_wrapped(skipped[0].hint, 120))
        self._body(body)
        self.tree.show_graph(graph)

    def not_configured(self, subject: str, how: str) -> None:
        """No lineage store exists: say so, and how to get one."""
        self._title(subject)
        body = Text(NOT_CONFIGURED, style="bold")
        body.append("\n")
        body.append_text(_wrapped(how, 600))
        body.append("\nSelected: ")
        body.append_text(literal(subject, limit=120))
        self._body(body)
        self.add_class("-bare")
        self._empty_tree()

    def failed(self, message: str) -> None:
        """Reading the lineage failed (the shell retries; r retries now)."""
        body = Text("Lineage could not be read: ", style="bold red")
        body.append_text(_wrapped(message, 400))
        self._body(body)
        self.add_class("-bare")
        self._empty_tree()

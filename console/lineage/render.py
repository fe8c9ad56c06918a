"""The lineage graph as indented text lines, for the CLI (the TUI has its own tree widget).

Node types are tagged at the start of each line; the snapshot sits on the data edge. Every server
string goes through ``printable`` so nothing a store holds can act on the terminal. After the
problems come the checks not made (their evidence was not traversed), never counted as problems.
"""

from __future__ import annotations

import textwrap

from console.lineage.model import LineageGraph, LineageNode
from console.safe_text import printable

TAGS = {
    "model_group": "group",
    "model_version": "version",
    "run": "run",
    "data_job": "job",
    "dataset": "data",
    "other": "entity",
}


def label(node: LineageNode) -> str:
    text = f"[{TAGS.get(node.type, node.type)}] {printable(node.name, limit=80)}"
    extra = []
    if node.type == "run":
        if node.properties.get("run_id"):
            extra.append(f"run {node.properties['run_id']}")
        if node.properties.get("seen_by"):
            extra.append(f"via {node.properties['seen_by']}")
    elif node.type == "dataset" and node.properties.get("platform"):
        extra.append(node.properties["platform"])
    if not node.exists:
        extra.append("not in DataHub")
    return text + (f"  ({printable(', '.join(extra))})" if extra else "")


def tree_lines(graph: LineageGraph) -> list[str]:
    root = graph.node(graph.root)
    if root is None:
        return []
    lines: list[str] = []
    for _edge, far in graph.children(root.id, "context"):
        group = graph.node(far)
        if group is not None:
            lines.append(label(group))
    indent = "  " if lines else ""
    lines.append(indent + label(root))
    sides = ["upstream", "downstream"] if graph.direction == "both" else [graph.direction]
    for side in sides:
        branches = graph.children(root.id, side)  # type: ignore[arg-type]
        lines.append(f"{indent}  {'upstream' if side == 'upstream' else 'downstream'}:")
        if not branches:
            lines.append(f"{indent}    (nothing)")
        _branch(graph, root.id, side, f"{indent}    ", lines, {root.id})
    if graph.problems:
        lines.append(f"problems ({len(graph.problems)}):")
        for problem in graph.problems:
            hint = f" — {problem.hint}" if problem.hint else ""
            lines.append(
                f"  {problem.severity:<7} {problem.kind}: {printable(problem.message)}{hint}"
            )
    else:
        lines.append("problems: none")
    lines += not_checked_lines(graph)
    return lines


def not_checked_lines(graph: LineageGraph, width: int = 100) -> list[str]:
    """The checks not made, grouped by why: the reason, the kinds, how to have them made."""
    if not graph.not_checked:
        return []
    groups: dict[tuple[str, str | None], list[str]] = {}
    for item in graph.not_checked:
        kinds = groups.setdefault((item.message, item.hint), [])
        if item.kind not in kinds:
            kinds.append(item.kind)
    count = sum(len(k) for k in groups.values())
    lines = [f"not checked ({count}; not problems):"]
    for (message, hint), kinds in groups.items():
        lines.append(f"  {printable(message)}")
        lines += textwrap.wrap(
            ", ".join(kinds), width, initial_indent="    ", subsequent_indent="    "
        )
        if hint:
            lines.append(f"    to check: {printable(hint)}")
    return lines


def _branch(
    graph: LineageGraph, node_id: str, side: str, prefix: str, lines: list[str], path: set[str]
) -> None:
    children = graph.children(node_id, side)  # type: ignore[arg-type]
    for index, (edge, far) in enumerate(children):
        node = graph.node(far)
        if node is None or far in path:
            continue
        last = index == len(children) - 1
        pin = f" @ snapshot {printable(edge.snapshot_id)}" if edge.snapshot_id else ""
        lines.append(f"{prefix}{'└─' if last else '├─'} {label(node)}{pin}  <{edge.relationship}>")
        _branch(graph, far, side, prefix + ("   " if last else "│  "), lines, path | {far})

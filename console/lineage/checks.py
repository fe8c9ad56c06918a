"""What is missing or inconsistent in a lineage graph, said as problems an operator can act on.

Checks read the graph the traversal built plus, optionally, what MLflow says about the version and
its run (the params ``data.iceberg.table`` and ``data.iceberg.snapshot_id``). Without MLflow they
fall back to the params DataHub's MLflow source copied into ``mlTrainingRunProperties``.

Each check judges only evidence the traversal read (``EVIDENCE``); when that evidence was not
traversed — the other direction, beyond the depth — or cannot exist, the check is recorded as not
checked, with the reason and how to have it made, and never becomes a problem:

================================  ==============================  ============================
problem kind                      from a model version            from a run
================================  ==============================  ============================
version_not_in_datahub/not_found  the root (every direction)      the root (every direction)
version_without_run               upstream, 1 hop                 —
run_mismatch                      upstream, 1 hop, and MLflow     —
events_never_sent,                upstream, 1 hop (the training   the root (both of its DataHub
run_not_ingested                  run's own DataHub names)        names are always read)
dataset_name_mismatch,            upstream, 2 hops (the training  upstream, 1 hop (the run's
snapshot_mismatch,                run's input edges)              input edges)
snapshot_not_pinned
================================  ==============================  ============================

No check reads downstream evidence: a downstream view judges the root alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from console.lineage import urns
from console.lineage.aspects import PARAM_SNAPSHOT, PARAM_TABLE
from console.lineage.model import LineageGraph, LineageNode, LineageProblem, NotChecked

SYNC_HINT = "run `mlops-console lineage sync` (embedded) or the DataHub MLflow ingestion"
EVENTS_HINT = (
    "check that the training pipeline's OpenLineage transport reaches DataHub "
    "(openlineage_client_config), then sync"
)
UPSTREAM_HINT = "--direction up or both (d in the lineage pane)"

# the kinds each group of checks reports
RUN_KINDS = ("events_never_sent", "run_not_ingested")
DATA_KINDS = ("dataset_name_mismatch", "snapshot_mismatch", "snapshot_not_pinned")
VERSION_KINDS = ("version_without_run", "run_mismatch", *RUN_KINDS, *DATA_KINDS)

# problem kind -> the evidence it judges (for help texts; the table above says it per root)
EVIDENCE = {
    "version_not_in_datahub": "the root version entity (read in every direction)",
    "not_found": "the root entity (read in every direction)",
    "version_without_run": "the version's upstream side, 1 hop",
    "run_mismatch": "the version's upstream side, 1 hop, and MLflow's run of the version",
    "events_never_sent": "the training run's DataHub entities (a version's upstream side)",
    "run_not_ingested": "the training run's DataHub entities (a version's upstream side)",
    "dataset_name_mismatch": "the run's input edges (upstream of the run)",
    "snapshot_mismatch": "the run's input edges (upstream of the run)",
    "snapshot_not_pinned": "the run's input edges (upstream of the run)",
}

# (node id, side) -> were that node's hops on that side read?
Expanded = Callable[[str, str], bool]


@dataclass
class Findings:
    """What the checks found, which kinds they judged, and which they could not."""

    problems: list[LineageProblem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)

    def judged(self, *kinds: str) -> None:
        self.checked += [k for k in kinds if k not in self.checked]

    def skip(
        self,
        kinds: Iterable[str],
        reason: str,
        message: str,
        *,
        node: str | None = None,
        hint: str | None = None,
    ) -> None:
        for kind in kinds:
            self.not_checked.append(
                NotChecked(kind=kind, reason=reason, message=message, node=node, hint=hint)
            )

    def apply(self, graph: LineageGraph) -> LineageGraph:
        graph.problems += self.problems
        graph.checked += [k for k in self.checked if k not in graph.checked]
        graph.not_checked += self.not_checked
        return graph


def expanded_by_shape(graph: LineageGraph) -> Expanded:
    """Without the traversal's own record: a node's hops on a side were read when that side was
    requested and the node lies closer than the depth (how ``traverse.walk`` proceeds)."""
    sides = ("upstream", "downstream") if graph.direction == "both" else (graph.direction,)
    depths = {n.id: n.depth for n in graph.nodes}

    def expanded(node_id: str, side: str) -> bool:
        return side in sides and depths.get(node_id, graph.depth) < graph.depth

    return expanded


def _side_not_read(graph: LineageGraph, node: LineageNode, what: str) -> tuple[str, str, str]:
    """(reason, message, hint) for evidence upstream of ``node`` that was not read."""
    if graph.direction == "downstream":
        return (
            "direction",
            f"needs {what}, upstream; this view traversed downstream only",
            UPSTREAM_HINT,
        )
    return (
        "depth",
        f"needs {what}, beyond depth {graph.depth}",
        f"--depth {node.depth + 1} or more (+ in the lineage pane)",
    )


def training_runs(graph: LineageGraph, version_id: str) -> list[LineageNode]:
    """Runs one hop upstream of the version (TrainedBy, or a run that produced it)."""
    out = []
    for _edge, far in graph.children(version_id, "upstream"):
        node = graph.node(far)
        if node is not None and node.type == "run" and node not in out:
            out.append(node)
    return out


def check_version(
    graph: LineageGraph,
    *,
    mlflow_run_id: str | None = None,
    mlflow_params: Mapping[str, str] | None = None,
    expanded: Expanded | None = None,
) -> Findings:
    """The checks of a model version root, on what was traversed (``expanded``: the traversal's
    record of which node was expanded on which side; by default inferred from the graph)."""
    found = Findings()
    root = graph.node(graph.root)
    if root is None:
        return found
    expanded = expanded or expanded_by_shape(graph)
    found.judged("version_not_in_datahub")
    if not root.exists:
        found.problems.append(
            LineageProblem(
                kind="version_not_in_datahub",
                severity="error",
                message=f"{root.name} is not in DataHub",
                node=root.id,
                hint=SYNC_HINT,
            )
        )
        found.skip(
            VERSION_KINDS,
            "no_subject",
            f"{root.name} is not in DataHub: no run or data to judge",
            node=root.id,
        )
        return found
    if not expanded(root.id, "upstream"):
        reason, message, hint = _side_not_read(graph, root, "the training run and its data")
        found.skip(VERSION_KINDS, reason, message, node=root.id, hint=hint)
        return found
    runs = training_runs(graph, root.id)
    found.judged("version_without_run")
    if not runs:
        found.problems.append(
            LineageProblem(
                kind="version_without_run",
                severity="error",
                message=f"{root.name} has no training run in DataHub",
                node=root.id,
                expected=mlflow_run_id,
                hint=SYNC_HINT,
            )
        )
        if mlflow_run_id:
            found.judged("events_never_sent")
            found.problems += _never_sent(mlflow_run_id, root.id)
        else:
            found.skip(
                ["events_never_sent"],
                "mlflow",
                "MLflow gave no run for the version to look for in DataHub",
                node=root.id,
                hint="a reachable MLflow server, without --no-mlflow",
            )
        found.skip(
            ["run_mismatch", "run_not_ingested", *DATA_KINDS],
            "no_subject",
            f"{root.name} has no training run in DataHub to judge",
            node=root.id,
        )
        return found
    run_ids = [r.properties.get("run_id") for r in runs]
    if mlflow_run_id:
        found.judged("run_mismatch")
        if mlflow_run_id not in run_ids:
            found.problems.append(
                LineageProblem(
                    kind="run_mismatch",
                    severity="error",
                    message=(
                        f"MLflow says {root.name} came from run {mlflow_run_id}; "
                        f"DataHub says {', '.join(str(r) for r in run_ids)}"
                    ),
                    node=root.id,
                    expected=mlflow_run_id,
                    actual=", ".join(str(r) for r in run_ids),
                )
            )
    else:
        found.skip(
            ["run_mismatch"],
            "mlflow",
            "MLflow's run of the version was not read (not consulted or unreachable)",
            node=root.id,
            hint="a reachable MLflow server, without --no-mlflow",
        )
    for run in runs:
        params = mlflow_params if run.properties.get("run_id") == mlflow_run_id else None
        _check_run(found, graph, run, params, expanded)
    return found


def check_run_root(
    graph: LineageGraph,
    mlflow_params: Mapping[str, str] | None = None,
    *,
    expanded: Expanded | None = None,
) -> Findings:
    """The checks of a run root: how it reached DataHub (read in every direction) and, when its
    upstream side was traversed, its input edges. ``not_found`` is the reader's."""
    found = Findings()
    root = graph.node(graph.root)
    found.judged("not_found")
    if root is None or not root.exists:
        found.skip(
            (*RUN_KINDS, *DATA_KINDS),
            "no_subject",
            "the run is not in DataHub: nothing to judge",
            node=graph.root,
        )
        return found
    _check_run(found, graph, root, mlflow_params, expanded or expanded_by_shape(graph))
    return found


def _never_sent(run_id: str, node: str | None) -> list[LineageProblem]:
    return [
        LineageProblem(
            kind="events_never_sent",
            severity="error",
            message=f"run {run_id} is in MLflow but no OpenLineage run reached DataHub",
            node=node,
            expected=urns.openlineage_dpi_urn(run_id),
            hint=EVENTS_HINT,
        )
    ]


def _check_run(
    found: Findings,
    graph: LineageGraph,
    run: LineageNode,
    mlflow_params: Mapping[str, str] | None,
    expanded: Expanded,
) -> None:
    run_id = run.properties.get("run_id", "")
    seen = run.properties.get("seen_by", "")
    # both DataHub names of a run are read with it: how it arrived is known in every direction
    found.judged(*RUN_KINDS)
    if "openlineage" not in seen and ("mlflow" in seen or mlflow_params is not None):
        found.problems += _never_sent(run_id, run.id)
    if "mlflow" not in seen and "openlineage" in seen:
        found.problems.append(
            LineageProblem(
                kind="run_not_ingested",
                severity="warning",
                message=(
                    f"run {run_id} came only through OpenLineage; the MLflow source never saw it"
                ),
                node=run.id,
                hint=SYNC_HINT,
            )
        )
    _check_inputs(found, graph, run, mlflow_params, expanded)


def _check_inputs(
    found: Findings,
    graph: LineageGraph,
    run: LineageNode,
    mlflow_params: Mapping[str, str] | None,
    expanded: Expanded,
) -> None:
    """Dataset name and snapshot pin on the run's input edges: only when they were read."""
    run_id = run.properties.get("run_id", "")
    if not expanded(run.id, "upstream"):
        reason, message, hint = _side_not_read(graph, run, f"run {run_id}'s input edges")
        found.skip(DATA_KINDS, reason, message, node=run.id, hint=hint)
        return
    table = (mlflow_params or {}).get(PARAM_TABLE) or run.properties.get(f"param.{PARAM_TABLE}")
    snapshot = (mlflow_params or {}).get(PARAM_SNAPSHOT) or run.properties.get(
        f"param.{PARAM_SNAPSHOT}"
    )
    if table is None and snapshot is None:
        found.problems.append(
            LineageProblem(
                kind="params_unavailable",
                severity="info",
                message=f"run {run_id}: no {PARAM_TABLE} / {PARAM_SNAPSHOT} params to check",
                node=run.id,
            )
        )
        found.skip(
            DATA_KINDS,
            "no_params",
            f"run {run_id} has no {PARAM_TABLE} / {PARAM_SNAPSHOT} params to compare",
            node=run.id,
        )
        return
    found.judged("snapshot_not_pinned")
    inputs = [
        (edge, graph.node(far))
        for edge, far in graph.children(run.id, "upstream")
        if (n := graph.node(far)) is not None and n.type == "dataset"
    ]
    if table is not None:
        found.judged("dataset_name_mismatch")
        expected = urns.iceberg_dataset_urn(table)
        matching = [(e, n) for e, n in inputs if n is not None and expected in n.urns]
        if not matching:
            actual = ", ".join(n.name for _, n in inputs if n is not None) or "no input dataset"
            found.problems.append(
                LineageProblem(
                    kind="dataset_name_mismatch",
                    severity="error",
                    message=f"run {run_id} read {actual}, but its {PARAM_TABLE} param says {table}",
                    node=run.id,
                    expected=table,
                    actual=actual,
                )
            )
        inputs = matching or inputs
    else:
        found.skip(
            ["dataset_name_mismatch"],
            "no_params",
            f"run {run_id} has no {PARAM_TABLE} param",
            node=run.id,
        )
    if snapshot is not None:
        found.judged("snapshot_mismatch")
    else:
        found.skip(
            ["snapshot_mismatch"],
            "no_params",
            f"run {run_id} has no {PARAM_SNAPSHOT} param",
            node=run.id,
        )
    for edge, node in inputs:
        if node is None:
            continue
        if edge.snapshot_id is None:
            found.problems.append(
                LineageProblem(
                    kind="snapshot_not_pinned",
                    severity="warning",
                    message=f"run {run_id} -> {node.name}: no snapshot on the data edge",
                    node=run.id,
                    expected=snapshot,
                    hint=EVENTS_HINT,
                )
            )
        elif snapshot is not None and edge.snapshot_id != snapshot:
            found.problems.append(
                LineageProblem(
                    kind="snapshot_mismatch",
                    severity="error",
                    message=(
                        f"run {run_id} -> {node.name}: edge pins snapshot {edge.snapshot_id}, "
                        f"the {PARAM_SNAPSHOT} param says {snapshot}"
                    ),
                    node=run.id,
                    expected=snapshot,
                    actual=edge.snapshot_id,
                )
            )

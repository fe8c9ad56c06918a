"""What is missing or inconsistent in a lineage graph, said as problems an operator can act on.

Checks read the graph the traversal built plus, optionally, what MLflow says about the version and
its run (the params ``data.iceberg.table`` and ``data.iceberg.snapshot_id``). Without MLflow they
fall back to the params DataHub's MLflow source copied into ``mlTrainingRunProperties``.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.lineage import urns
from console.lineage.aspects import PARAM_SNAPSHOT, PARAM_TABLE
from console.lineage.model import LineageGraph, LineageNode, LineageProblem

SYNC_HINT = "run `mlops-console lineage sync` (embedded) or the DataHub MLflow ingestion"
EVENTS_HINT = (
    "check that the training pipeline's OpenLineage transport reaches DataHub "
    "(openlineage_client_config), then sync"
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
) -> list[LineageProblem]:
    root = graph.node(graph.root)
    if root is None:
        return []
    if not root.exists:
        return [
            LineageProblem(
                kind="version_not_in_datahub",
                severity="error",
                message=f"{root.name} is not in DataHub",
                node=root.id,
                hint=SYNC_HINT,
            )
        ]
    problems: list[LineageProblem] = []
    runs = training_runs(graph, root.id)
    if not runs:
        problems.append(
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
            problems += _never_sent(mlflow_run_id, root.id)
        return problems
    run_ids = [r.properties.get("run_id") for r in runs]
    if mlflow_run_id and mlflow_run_id not in run_ids:
        problems.append(
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
    for run in runs:
        params = mlflow_params if run.properties.get("run_id") == mlflow_run_id else None
        problems += check_run(graph, run, params)
    return problems


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


def check_run(
    graph: LineageGraph, run: LineageNode, mlflow_params: Mapping[str, str] | None = None
) -> list[LineageProblem]:
    """Stitching, dataset name and snapshot pin of one training run."""
    problems: list[LineageProblem] = []
    run_id = run.properties.get("run_id", "")
    seen = run.properties.get("seen_by", "")
    if "openlineage" not in seen and ("mlflow" in seen or mlflow_params is not None):
        problems += _never_sent(run_id, run.id)
    if "mlflow" not in seen and "openlineage" in seen:
        problems.append(
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
    table = (mlflow_params or {}).get(PARAM_TABLE) or run.properties.get(f"param.{PARAM_TABLE}")
    snapshot = (mlflow_params or {}).get(PARAM_SNAPSHOT) or run.properties.get(
        f"param.{PARAM_SNAPSHOT}"
    )
    if table is None and snapshot is None:
        problems.append(
            LineageProblem(
                kind="params_unavailable",
                severity="info",
                message=f"run {run_id}: no {PARAM_TABLE} / {PARAM_SNAPSHOT} params to check",
                node=run.id,
            )
        )
        return problems
    inputs = [
        (edge, graph.node(far))
        for edge, far in graph.children(run.id, "upstream")
        if (n := graph.node(far)) is not None and n.type == "dataset"
    ]
    if table is not None:
        expected = urns.iceberg_dataset_urn(table)
        matching = [(e, n) for e, n in inputs if n is not None and expected in n.urns]
        if not matching:
            actual = ", ".join(n.name for _, n in inputs if n is not None) or "no input dataset"
            problems.append(
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
    for edge, node in inputs:
        if node is None:
            continue
        if edge.snapshot_id is None:
            problems.append(
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
            problems.append(
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
    return problems

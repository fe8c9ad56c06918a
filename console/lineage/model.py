"""The lineage graph the console shows: typed nodes, directed edges and the problems found.

Pydantic only. Both backends (DataHub Lite, GMS) produce this one shape; the CLI prints it as JSON
and the lineage tree widget renders it. Snapshot ids stay strings (signed 64-bit in Iceberg).

Each check reads evidence from one side of the root (``checks.EVIDENCE``); a check whose evidence
was not traversed (the other direction, beyond the depth, MLflow not consulted) is listed in
``not_checked`` with the reason, never reported as a problem. ``checked`` names the kinds judged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NodeType = Literal["model_group", "model_version", "run", "data_job", "dataset", "other"]
Direction = Literal["upstream", "downstream", "both"]
EdgeDirection = Literal["upstream", "downstream", "context"]
Severity = Literal["error", "warning", "info"]

# what each problem kind means, for help texts and the lineage runbook
PROBLEM_KINDS = {
    "version_not_in_datahub": "the model version has no entity in DataHub (lineage never synced)",
    "version_without_run": "the model version has no training run in DataHub",
    "run_mismatch": "MLflow and DataHub disagree about which run trained the version",
    "events_never_sent": "the run is in MLflow but no OpenLineage run reached DataHub",
    "run_not_ingested": "the OpenLineage run exists but DataHub's MLflow source never saw it",
    "dataset_name_mismatch": "the run's input dataset is not the table its param names",
    "snapshot_mismatch": "the snapshot pinned on the data edge differs from the run's param",
    "snapshot_not_pinned": "the run's input edge carries no snapshot id",
    "params_unavailable": "neither MLflow nor DataHub gave the run's params: nothing to check",
    "mlflow_unavailable": "the MLflow cross-check could not be made",
    "partial_result": "the backend answered only in part",
    "not_found": "the starting entity is not in DataHub",
    "soft_deleted": "an entity is soft-deleted in DataHub GMS and is left out of the graph",
}


# why a check was not made (``NotChecked.reason``)
NOT_CHECKED_REASONS = {
    "direction": "its evidence is on a side of the root that was not traversed",
    "depth": "its evidence lies beyond the requested depth",
    "mlflow": "MLflow's side was not read (--no-mlflow, unreachable, or it names no run)",
    "no_params": "the run has no data.iceberg.table / data.iceberg.snapshot_id params",
    "no_subject": "there is nothing for it to judge (the entity it reads is not in DataHub)",
}


class LineageNode(BaseModel):
    """One entity. A run seen by both DataHub's MLflow source and OpenLineage is one node whose
    ``id`` is ``mlflow-run:<run id>`` and whose ``urns`` holds both DataHub URNs."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: NodeType
    urn: str
    urns: list[str] = Field(default_factory=list)
    name: str
    properties: dict[str, str] = Field(default_factory=dict)
    depth: int = 0
    exists: bool = True


class LineageEdge(BaseModel):
    """``source`` holds the relationship (DataHub's direction); ``direction`` says on which side of
    the root it was found. ``snapshot_id`` is the Iceberg snapshot pinned on a data edge."""

    model_config = ConfigDict(frozen=True)

    source: str
    target: str
    relationship: str
    direction: EdgeDirection
    properties: dict[str, str] = Field(default_factory=dict)
    snapshot_id: str | None = None


class LineageProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    severity: Severity
    message: str
    node: str | None = None
    expected: str | None = None
    actual: str | None = None
    hint: str | None = None


class NotChecked(BaseModel):
    """A check that was not made: ``kind`` is the problem it would report, ``reason`` a key of
    ``NOT_CHECKED_REASONS``, ``hint`` how to have it made (``--direction up``, ``--depth 2``)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    reason: str
    message: str
    node: str | None = None
    hint: str | None = None


class LineageGraph(BaseModel):
    root: str
    backend: Literal["lite", "gms"]
    location: str
    depth: int
    direction: Direction
    nodes: list[LineageNode] = Field(default_factory=list)
    edges: list[LineageEdge] = Field(default_factory=list)
    problems: list[LineageProblem] = Field(default_factory=list)
    # problem kinds judged on what was traversed, and the checks that were not made (and why)
    checked: list[str] = Field(default_factory=list)
    not_checked: list[NotChecked] = Field(default_factory=list)

    def node(self, node_id: str) -> LineageNode | None:
        for item in self.nodes:
            if item.id == node_id:
                return item
        return None

    def children(self, node_id: str, direction: EdgeDirection) -> list[tuple[LineageEdge, str]]:
        """(edge, far node id) pairs one hop further from the root on one side, in order found."""
        here = self.node(node_id)
        depths = {n.id: n.depth for n in self.nodes}
        out = []
        for edge in self.edges:
            if edge.direction != direction:
                continue
            far = _far_end(edge, node_id)
            if far is None or here is None:
                continue
            # context edges (the model group) sit beside the root, not below it
            if direction != "context" and depths.get(far, -1) != here.depth + 1:
                continue
            if all(far != seen for _, seen in out):
                out.append((edge, far))
        return out


def _far_end(edge: LineageEdge, node_id: str) -> str | None:
    if edge.source == node_id:
        return edge.target
    if edge.target == node_id:
        return edge.source
    return None

"""Reading DataHub aspect JSON: the relationships it holds, names, properties and run params.

Both backends hand the traversal the same JSON (Lite stores it, GMS returns it as ``RawAspect``
payloads), so this is the single place that knows where DataHub keeps each relationship. The
relationship names are those of DataHub's own model annotations (notes/lineage.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.lineage import urns

# edge property holding the Iceberg snapshot an input edge was read at (commands.lineage_emit)
SNAPSHOT_KEYS = ("snapshot_id", "snapshotId", "datasetVersion", "iceberg.snapshot_id")
PARAM_TABLE = "data.iceberg.table"
PARAM_SNAPSHOT = "data.iceberg.snapshot_id"

# every aspect the reader looks at
ASPECTS = (
    "mlModelProperties",
    "mlModelGroupProperties",
    "dataProcessInstanceProperties",
    "dataProcessInstanceInput",
    "dataProcessInstanceOutput",
    "dataProcessInstanceRelationships",
    "dataProcessInstanceRunEvent",
    "mlTrainingRunProperties",
    "datasetProperties",
    "upstreamLineage",
    "dataJobInfo",
    "dataJobInputOutput",
    "subTypes",
)

# relationship -> aspects whose JSON may hold it (where to look for incoming edges)
INCOMING_ASPECTS: dict[str, tuple[str, ...]] = {
    "TrainedBy": ("mlModelProperties",),
    "UsedBy": ("mlModelProperties",),
    "MemberOf": ("mlModelProperties",),
    "DataProcessInstanceConsumes": ("dataProcessInstanceInput",),
    "Consumes": ("dataProcessInstanceInput", "dataJobInputOutput"),
    "DataProcessInstanceProduces": ("dataProcessInstanceOutput",),
    "Produces": ("dataProcessInstanceOutput", "dataJobInputOutput"),
    "InstanceOf": ("dataProcessInstanceRelationships",),
    "DownstreamOf": ("upstreamLineage",),
}


@dataclass(frozen=True)
class RawEdge:
    """An edge as stored on its source entity."""

    relationship: str
    target: str
    properties: dict[str, str] = field(default_factory=dict)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _props(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _edges(items: Any, relationship: str, key: str = "destinationUrn") -> list[RawEdge]:
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get(key), str):
            out.append(RawEdge(relationship, item[key], _props(item.get("properties"))))
    return out


def outgoing(aspects: dict[str, Any]) -> list[RawEdge]:
    """Every relationship the entity's aspects point out of it (edges with properties first)."""
    out: list[RawEdge] = []
    model = aspects.get("mlModelProperties") or {}
    out += [RawEdge("TrainedBy", u) for u in _strings(model.get("trainingJobs"))]
    out += [RawEdge("UsedBy", u) for u in _strings(model.get("downstreamJobs"))]
    out += [RawEdge("MemberOf", u) for u in _strings(model.get("groups"))]

    dpi_in = aspects.get("dataProcessInstanceInput") or {}
    out += _edges(dpi_in.get("inputEdges"), "DataProcessInstanceConsumes")
    out += [RawEdge("Consumes", u) for u in _strings(dpi_in.get("inputs"))]
    dpi_out = aspects.get("dataProcessInstanceOutput") or {}
    out += _edges(dpi_out.get("outputEdges"), "DataProcessInstanceProduces")
    out += [RawEdge("Produces", u) for u in _strings(dpi_out.get("outputs"))]
    rel = aspects.get("dataProcessInstanceRelationships") or {}
    if isinstance(rel.get("parentTemplate"), str):
        out.append(RawEdge("InstanceOf", rel["parentTemplate"]))

    upstream = aspects.get("upstreamLineage") or {}
    out += _edges(upstream.get("upstreams"), "DownstreamOf", key="dataset")

    job = aspects.get("dataJobInputOutput") or {}
    out += _edges(job.get("inputDatasetEdges"), "Consumes")
    out += [RawEdge("Consumes", u) for u in _strings(job.get("inputDatasets"))]
    out += _edges(job.get("outputDatasetEdges"), "Produces")
    out += [RawEdge("Produces", u) for u in _strings(job.get("outputDatasets"))]
    return _dedupe(out)


def _dedupe(edges: list[RawEdge]) -> list[RawEdge]:
    """One edge per (kind, target): ``inputs`` and ``inputEdges`` usually repeat each other."""
    seen: dict[tuple[str, str], int] = {}
    out: list[RawEdge] = []
    for edge in edges:
        key = (family(edge.relationship), edge.target)
        if key in seen:
            kept = out[seen[key]]
            if not kept.properties and edge.properties:
                out[seen[key]] = edge
            continue
        seen[key] = len(out)
        out.append(edge)
    return out


def family(relationship: str) -> str:
    """``DataProcessInstanceConsumes`` and ``Consumes`` are the same kind of edge."""
    return relationship.removeprefix("DataProcessInstance")


def snapshot_of(properties: dict[str, str]) -> str | None:
    for key in SNAPSHOT_KEYS:
        if properties.get(key):
            return properties[key]
    return None


def run_id_of(urn: str, aspects: dict[str, Any]) -> str | None:
    """The MLflow run id behind a dataProcessInstance, from whichever side recorded it."""
    training = aspects.get("mlTrainingRunProperties") or {}
    if isinstance(training.get("id"), str) and urns.looks_like_run_id(training["id"]):
        return training["id"]
    custom = _props((aspects.get("dataProcessInstanceProperties") or {}).get("customProperties"))
    if urns.looks_like_run_id(custom.get("runId", "")):
        return custom["runId"]
    return urns.run_id_from_openlineage_urn(urn)


def params_of(aspects: dict[str, Any]) -> dict[str, str]:
    """The run's params as DataHub's MLflow source recorded them (``hyperParams``)."""
    training = aspects.get("mlTrainingRunProperties") or {}
    out = {}
    for item in training.get("hyperParams") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            out[item["name"]] = str(item.get("value", ""))
    return out


def display_name(urn: str, aspects: dict[str, Any]) -> str:
    kind = urns.entity_type(urn)
    if kind == "mlModel":
        parts = urns.model_version_parts(urn)
        if parts:
            return f"{parts[0]} v{parts[1]}"
    if kind == "mlModelGroup":
        return urns.split_tuple(urn)[1] if len(urns.split_tuple(urn)) == 3 else urn
    if kind == "dataset":
        name = (aspects.get("datasetProperties") or {}).get("name")
        return str(name) if name else urns.dataset_parts(urn)[1]
    if kind == "dataJob":
        name = (aspects.get("dataJobInfo") or {}).get("name")
        return str(name) if name else urns.split_tuple(urn)[-1]
    if kind == "dataProcessInstance":
        name = (aspects.get("dataProcessInstanceProperties") or {}).get("name")
        return str(name) if name else urns.dpi_id(urn)
    return urn


def properties_of(urn: str, aspects: dict[str, Any]) -> dict[str, str]:
    """A few facts worth showing beside the node, all as strings."""
    kind = urns.entity_type(urn)
    out: dict[str, str] = {}
    if kind == "dataset":
        platform, name, env = urns.dataset_parts(urn)
        out.update(platform=platform, name=name, env=env)
    elif kind == "mlModel":
        parts = urns.model_version_parts(urn)
        if parts:
            out.update(model=parts[0], version=parts[1])
        props = aspects.get("mlModelProperties") or {}
        for key, value in _props(props.get("customProperties")).items():
            out[f"tag.{key}"] = value
    elif kind == "dataProcessInstance":
        props = aspects.get("dataProcessInstanceProperties") or {}
        custom = _props(props.get("customProperties"))
        for key in ("runName", "experimentId", "trackingUri"):
            if key in custom:
                out[key] = custom[key]
        event = aspects.get("dataProcessInstanceRunEvent") or {}
        if event.get("status"):
            out["status"] = str(event["status"])
        if isinstance(props.get("externalUrl"), str):
            out["externalUrl"] = props["externalUrl"]
    subtypes = _strings((aspects.get("subTypes") or {}).get("typeNames"))
    if subtypes:
        out["subtypes"] = ", ".join(subtypes)
    return out

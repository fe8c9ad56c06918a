"""OpenLineage training events -> DataHub MCPs, and writing them into a DataHub Lite store.

Shared by the demo pipeline and ``lineage sync`` (which replays the JSONL event log): the mapping
is a pure function of one event, and Lite skips aspects equal to what it holds, so a replay is
idempotent. Naming follows notes/lineage.md: run = ``urn:li:dataProcessInstance:<OL runId>``,
Iceberg dataset per table, the per-run snapshot pinned in the input edge's ``properties``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

# run facet carrying what OpenLineage has no field for (the MLflow ids and the model produced)
MLFLOW_RUN_FACET = "mlflow"
# edge property holding the snapshot an input edge was read at
EDGE_SNAPSHOT_KEY = "snapshot_id"
FLOW_ORCHESTRATOR = "mlflow"
ENV = "PROD"


def _no_telemetry() -> None:
    # DataHub's telemetry would try to reach the internet; this console never does
    os.environ.setdefault("DATAHUB_TELEMETRY_ENABLED", "false")


def dataset_urn(namespace: str, name: str) -> str:
    return f"urn:li:dataset:(urn:li:dataPlatform:{namespace},{name.lower()},{ENV})"


def data_job_urn(job_namespace: str, job_name: str) -> str:
    model = job_name.removesuffix(".train")
    flow = f"urn:li:dataFlow:({FLOW_ORCHESTRATOR},{model},{job_namespace})"
    return f"urn:li:dataJob:({flow},{job_name})"


def run_urn(ol_run_id: str) -> str:
    return f"urn:li:dataProcessInstance:{ol_run_id}"


def ml_model_urn(model: str, version: str) -> str:
    return f"urn:li:mlModel:(urn:li:dataPlatform:mlflow,{model}_{version},{ENV})"


def _millis(event_time: str) -> int:
    return int(datetime.fromisoformat(event_time.replace("Z", "+00:00")).timestamp() * 1000)


def mcps_for_event(event: dict[str, Any]) -> list[Any]:
    """The MCPs one OpenLineage RunEvent (as a JSON dict) stands for."""
    _no_telemetry()
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as MCP
    from datahub.metadata import schema_classes as s

    job = event["job"]
    run = event["run"]
    job_urn = data_job_urn(job["namespace"], job["name"])
    flow_urn = job_urn[len("urn:li:dataJob:(") : job_urn.rindex(",")]
    dpi = run_urn(run["runId"])
    mlflow_facet = (run.get("facets") or {}).get(MLFLOW_RUN_FACET) or {}
    actor = "urn:li:corpuser:datahub"
    job_type = ((job.get("facets") or {}).get("jobType") or {}).get("jobType") or "TRAINING"

    input_edges = []
    out: list[Any] = [
        MCP(entityUrn=flow_urn, aspect=s.DataFlowInfoClass(name=flow_urn.split(",")[1])),
    ]
    for item in event.get("inputs") or []:
        urn = dataset_urn(item["namespace"], item["name"])
        facets = item.get("facets") or {}
        props = {"namespace": item["namespace"], "name": item["name"]}
        version = (facets.get("version") or {}).get("datasetVersion")
        if version is not None:
            props[EDGE_SNAPSHOT_KEY] = str(version)
        input_edges.append(s.EdgeClass(destinationUrn=urn, properties=props))
        out.append(MCP(entityUrn=urn, aspect=s.DatasetPropertiesClass(name=item["name"])))
        fields = (facets.get("schema") or {}).get("fields") or []
        if fields:
            out.append(MCP(entityUrn=urn, aspect=_schema(s, item["name"], fields)))
    inputs = [e.destinationUrn for e in input_edges]
    out.append(
        MCP(
            entityUrn=job_urn,
            aspect=s.DataJobInfoClass(
                name=job["name"], type=job_type, flowUrn=flow_urn, customProperties={}
            ),
        )
    )
    out.append(
        MCP(
            entityUrn=job_urn,
            aspect=s.DataJobInputOutputClass(
                inputDatasets=inputs,
                outputDatasets=[],
                inputDatasetEdges=[s.EdgeClass(destinationUrn=u) for u in inputs],
            ),
        )
    )
    # the same on START and COMPLETE (the model produced is the output edge, not a property),
    # so replaying a run's events rewrites nothing
    custom = {
        k: str(v)
        for k, v in mlflow_facet.items()
        if not k.startswith("_") and v is not None and k not in {"modelName", "modelVersion"}
    }
    out.append(
        MCP(
            entityUrn=dpi,
            aspect=s.DataProcessInstancePropertiesClass(
                name=str(mlflow_facet.get("runName") or run["runId"]),
                created=s.AuditStampClass(
                    time=_millis(mlflow_facet.get("startTime") or event["eventTime"]), actor=actor
                ),
                customProperties=custom,
            ),
        )
    )
    out.append(
        MCP(
            entityUrn=dpi,
            aspect=s.DataProcessInstanceRelationshipsClass(
                parentTemplate=job_urn, upstreamInstances=[]
            ),
        )
    )
    if input_edges:
        out.append(
            MCP(
                entityUrn=dpi,
                aspect=s.DataProcessInstanceInputClass(inputs=inputs, inputEdges=input_edges),
            )
        )
    model, version = mlflow_facet.get("modelName"), mlflow_facet.get("modelVersion")
    if model and version:
        produced = ml_model_urn(str(model), str(version))
        out.append(
            MCP(
                entityUrn=dpi,
                aspect=s.DataProcessInstanceOutputClass(
                    outputs=[produced], outputEdges=[s.EdgeClass(destinationUrn=produced)]
                ),
            )
        )
    out.append(MCP(entityUrn=dpi, aspect=s.SubTypesClass(typeNames=["ML Training Run"])))
    return out


def _schema(s, name: str, fields: list[dict[str, Any]]):
    types = {
        "string": s.StringTypeClass,
        "long": s.NumberTypeClass,
        "int": s.NumberTypeClass,
        "double": s.NumberTypeClass,
        "date": s.DateTypeClass,
    }
    return s.SchemaMetadataClass(
        schemaName=name,
        platform="urn:li:dataPlatform:iceberg",
        version=0,
        hash="",
        platformSchema=s.OtherSchemaClass(rawSchema=""),
        fields=[
            s.SchemaFieldClass(
                fieldPath=f["name"],
                nativeDataType=str(f.get("type", "")),
                type=s.SchemaFieldDataTypeClass(
                    type=types.get(str(f.get("type")), s.NullTypeClass)()
                ),
            )
            for f in fields
        ],
    )


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Events of a JSONL log, oldest first; blank and unparsable lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and "run" in event and "job" in event:
                yield event


def open_lite(db_path: Path, *, read_only: bool = False):
    """A DataHub Lite store on sqlite with WAL (one writer at a time)."""
    _no_telemetry()
    from datahub.lite.lite_util import get_datahub_lite

    db_path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "type": "sqlite",
        "config": {
            "file": str(db_path),
            "options": {"journal_mode": "WAL", "synchronous": "NORMAL"},
        },
    }
    return get_datahub_lite(config, read_only=read_only)


def write_mcps(db_path: Path, mcps: Iterable[Any]) -> int:
    """Write MCPs in one writer session (``close()`` rebuilds the index once); return the count."""
    lite = open_lite(db_path)
    count = 0
    try:
        for mcp in mcps:
            lite.write(mcp)
            count += 1
    finally:
        lite.close()
    return count


def replay_events(events_path: Path, db_path: Path) -> int:
    """Map every event of the log into the Lite store; safe to repeat."""
    return write_mcps(db_path, (m for e in read_events(events_path) for m in mcps_for_event(e)))

"""Real DataHub Lite stores for the lineage tests, written by DataHub's own Lite writer.

The OpenLineage side goes through ``commands.lineage_emit`` (the demo's event → MCP mapping); the
MLflow side mirrors what DataHub's MLflow source emits (checked against the real source by
``test_sync``): md5-named run with ``mlTrainingRunProperties``, a ``mlflow`` dataset reference
copying the Iceberg table, the model version with ``trainingJobs`` and ``groups``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.lineage import urns

os.environ.setdefault("DATAHUB_TELEMETRY_ENABLED", "false")

MODEL = "next-week-commits"
TABLE = "lake.git.commits"
UPSTREAM = "urn:li:dataset:(urn:li:dataPlatform:postgres,gh.public.commits,PROD)"


@dataclass
class RunSpec:
    """One training run registered as ``MODEL`` version ``version``; flags break one thing each."""

    run_id: str
    version: str
    snapshot: str = "5123456789012345678"
    param_table: str = TABLE
    param_snapshot: str | None = None  # defaults to ``snapshot``
    ol_table: str | None = None  # the table the OpenLineage event names (defaults to param)
    mlflow_source: bool = True  # DataHub's MLflow source ingested the run
    openlineage: bool = True  # the run's OpenLineage events reached DataHub
    version_links_run: bool = True  # the version's trainingJobs names the run


def ol_event(spec: RunSpec, *, event_type: str = "COMPLETE") -> dict[str, Any]:
    """An OpenLineage RunEvent as the demo pipeline writes it (JSON dict)."""
    table = spec.ol_table or spec.param_table
    return {
        "eventType": event_type,
        "eventTime": "2024-06-01T10:00:00Z",
        "producer": "https://example.invalid/tests",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {
            "runId": urns.openlineage_run_id(spec.run_id),
            "facets": {
                "mlflow": {
                    "runId": spec.run_id,
                    "experimentId": "1",
                    "runName": f"train-{spec.version}",
                    "startTime": "2024-06-01T09:59:00Z",
                    "trackingUri": "http://127.0.0.1:5000",
                    "modelName": MODEL if event_type == "COMPLETE" else None,
                    "modelVersion": spec.version if event_type == "COMPLETE" else None,
                }
            },
        },
        "job": {
            "namespace": "ml-training",
            "name": f"{MODEL}.train",
            "facets": {
                "jobType": {
                    "processingType": "BATCH",
                    "integration": "MLFLOW",
                    "jobType": "TRAINING",
                }
            },
        },
        "inputs": [
            {
                "namespace": "iceberg",
                "name": table,
                "facets": {"version": {"datasetVersion": spec.snapshot}},
            }
        ],
        "outputs": [],
    }


def mlflow_source_mcps(spec: RunSpec) -> list[Any]:
    """What DataHub's MLflow source writes for a registered version and its run."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as MCP
    from datahub.metadata import schema_classes as s

    group = urns.model_group_urn(MODEL)
    model = urns.model_version_urn(MODEL, spec.version)
    run = urns.mlflow_run_dpi_urn(spec.run_id)
    ref = urns.dataset_urn("mlflow", spec.param_table)
    params = [
        s.MLHyperParamClass(name="data.iceberg.table", value=spec.param_table),
        s.MLHyperParamClass(
            name="data.iceberg.snapshot_id", value=spec.param_snapshot or spec.snapshot
        ),
        s.MLHyperParamClass(name="n_estimators", value="40"),
    ]
    out = [
        MCP(entityUrn=group, aspect=s.MLModelGroupPropertiesClass(description="demo model")),
        MCP(
            entityUrn=model,
            aspect=s.MLModelPropertiesClass(
                customProperties={"role": "grid"},
                groups=[group],
                trainingJobs=[run] if spec.version_links_run and spec.mlflow_source else [],
                hyperParams=params,
            ),
        ),
    ]
    if not spec.mlflow_source:
        return out
    out += [
        MCP(
            entityUrn=run,
            aspect=s.DataProcessInstancePropertiesClass(
                name=f"train-{spec.version}",
                created=s.AuditStampClass(time=1717236000000, actor="urn:li:corpuser:datahub"),
                customProperties={"mlflow.source.git.commit": "abc123"},
            ),
        ),
        MCP(
            entityUrn=run,
            aspect=s.MLTrainingRunPropertiesClass(id=spec.run_id, hyperParams=params),
        ),
        MCP(
            entityUrn=run,
            aspect=s.DataProcessInstanceInputClass(
                inputs=[], inputEdges=[s.EdgeClass(destinationUrn=ref)]
            ),
        ),
        MCP(
            entityUrn=run,
            aspect=s.DataProcessInstanceOutputClass(
                outputs=[], outputEdges=[s.EdgeClass(destinationUrn=model)]
            ),
        ),
        MCP(entityUrn=run, aspect=s.SubTypesClass(typeNames=["ML Training Run"])),
        MCP(entityUrn=ref, aspect=s.DatasetPropertiesClass(name=spec.param_table)),
        MCP(
            entityUrn=ref,
            aspect=s.UpstreamLineageClass(
                upstreams=[
                    s.UpstreamClass(dataset=urns.iceberg_dataset_urn(spec.param_table), type="COPY")
                ]
            ),
        ),
    ]
    return out


def upstream_mcps() -> list[Any]:
    """The Iceberg table is itself derived from a source table one hop further up."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as MCP
    from datahub.metadata import schema_classes as s

    table = urns.iceberg_dataset_urn(TABLE)
    return [
        MCP(
            entityUrn=table,
            aspect=s.UpstreamLineageClass(
                upstreams=[s.UpstreamClass(dataset=UPSTREAM, type="TRANSFORMED")]
            ),
        ),
        MCP(entityUrn=UPSTREAM, aspect=s.DatasetPropertiesClass(name="gh.public.commits")),
    ]


def consumer_mcps(version: str, consumer_run: str = "ffffffff-0000-4000-8000-000000000001") -> list:
    """A batch-scoring run (OpenLineage-named) that consumed the model version."""
    from datahub.emitter.mcp import MetadataChangeProposalWrapper as MCP
    from datahub.metadata import schema_classes as s

    dpi = urns.DPI_PREFIX + consumer_run
    model = urns.model_version_urn(MODEL, version)
    return [
        MCP(
            entityUrn=dpi,
            aspect=s.DataProcessInstancePropertiesClass(
                name="score-weekly",
                created=s.AuditStampClass(time=1717300000000, actor="urn:li:corpuser:datahub"),
            ),
        ),
        MCP(
            entityUrn=dpi,
            aspect=s.DataProcessInstanceInputClass(
                inputs=[model], inputEdges=[s.EdgeClass(destinationUrn=model)]
            ),
        ),
    ]


def scenario_mcps(specs: list[RunSpec], *, consumer: bool = True) -> list[Any]:
    from commands.lineage_emit import mcps_for_event

    out: list[Any] = []
    for spec in specs:
        out += mlflow_source_mcps(spec)
        if spec.openlineage:
            out += mcps_for_event(ol_event(spec))
    out += upstream_mcps()
    if consumer and specs:
        out += consumer_mcps(specs[0].version)
    return out


def build_store(path: Path, specs: list[RunSpec], *, consumer: bool = True) -> Path:
    from commands.lineage_emit import write_mcps

    write_mcps(path, scenario_mcps(specs, consumer=consumer))
    return path

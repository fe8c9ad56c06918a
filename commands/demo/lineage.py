"""Lineage of the demo's training runs: OpenLineage events into the JSONL log, DataHub Lite.

Events go through openlineage-python's file transport (append); the same events are mapped into
Lite by ``commands.lineage_emit``; DataHub's own MLflow source then writes the registered models,
versions and runs through the ``datahub-lite`` sink.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import attr
from openlineage.client.facet_v2 import RunFacet

from commands.demo.config import MODEL_NAME, TABLE_NAME
from commands.lineage_emit import MLFLOW_RUN_FACET

# facets take it as ``producer=`` (attrs drops the underscore of their ``_producer`` field;
# pyright does not, hence the ignores on those arguments)
PRODUCER = "https://github.com/mlops-console/mlops-console/tree/main/commands/demo"
JOB_NAMESPACE = "ml-training"
JOB_NAME = f"{MODEL_NAME}.train"


@attr.define
class MlflowRunFacet(RunFacet):
    """The MLflow side of a training run: ids, times, and the model version it produced."""

    runId: str
    experimentId: str
    runName: str
    startTime: str
    trackingUri: str
    modelName: str | None = None
    modelVersion: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return PRODUCER + "/MlflowRunFacet.json"


@dataclass(frozen=True)
class RunLineage:
    run_id: str
    run_name: str
    experiment_id: str
    snapshot_id: str
    start_ms: int
    end_ms: int
    model_version: str | None


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def ol_run_id(mlflow_run_id: str) -> str:
    """The OpenLineage runId of an MLflow run: its id read as a UUID."""
    return str(uuid.UUID(mlflow_run_id))


def emit_events(events_path: Path, runs: list[RunLineage], tracking_uri: str) -> list[dict]:
    """Emit START and COMPLETE for every run to the JSONL log; return the events as dicts."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        job_type_job,
        schema_dataset,
    )
    from openlineage.client.serde import Serde

    events_path.parent.mkdir(parents=True, exist_ok=True)
    client = OpenLineageClient(
        config={"transport": {"type": "file", "log_file_path": str(events_path), "append": True}}
    )
    job = Job(
        namespace=JOB_NAMESPACE,
        name=JOB_NAME,
        facets={
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration="MLFLOW",
                jobType="TRAINING",
                producer=PRODUCER,  # pyright: ignore[reportCallIssue]
            )
        },
    )
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name="repo", type="string"),
            schema_dataset.SchemaDatasetFacetFields(name="day", type="date"),
            schema_dataset.SchemaDatasetFacetFields(name="commits", type="long"),
        ],
        producer=PRODUCER,  # pyright: ignore[reportCallIssue]
    )
    sent = []
    for item in runs:
        dataset = InputDataset(
            namespace="iceberg",
            name=TABLE_NAME,
            facets={
                "version": dataset_version_dataset.DatasetVersionDatasetFacet(
                    datasetVersion=item.snapshot_id,
                    producer=PRODUCER,  # pyright: ignore[reportCallIssue]
                ),
                "schema": schema,
            },
        )
        for state, ms, version in (
            (RunState.START, item.start_ms, None),
            (RunState.COMPLETE, item.end_ms, item.model_version),
        ):
            facet = MlflowRunFacet(
                runId=item.run_id,
                experimentId=item.experiment_id,
                runName=item.run_name,
                startTime=_iso(item.start_ms),
                trackingUri=tracking_uri,
                modelName=MODEL_NAME if version else None,
                modelVersion=version,
                producer=PRODUCER,  # pyright: ignore[reportCallIssue]
            )
            event = RunEvent(
                eventType=state,
                eventTime=_iso(ms),
                producer=PRODUCER,
                run=Run(runId=ol_run_id(item.run_id), facets={MLFLOW_RUN_FACET: facet}),
                job=job,
                inputs=[dataset],
                outputs=[],
            )
            client.emit(event)
            sent.append(Serde.to_dict(event))
    return sent

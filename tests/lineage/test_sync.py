"""Writing lineage: the OpenLineage client configuration, and ``lineage sync`` into Lite.

Events are emitted by the real openlineage client (file transport from our configuration, HTTP to
a closed local port to prove a failing receiver never fails the run). The MLflow half of sync runs
DataHub's real MLflow source against the session's real MLflow server.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path

import pytest

from commands.driver import QuietDriver
from commands.lineage_sync import latest_per_run, sync_lineage
from console.embedded.lifecycle import EmbeddedPaths
from console.errors import ReadOnlyError
from console.lineage import urns
from console.lineage.lite import LiteSource
from console.lineage.openlineage_config import DATAHUB_ENDPOINT, openlineage_client_config
from console.lineage.reader import LineageReader
from console.settings import load_settings
from tests.lineage.conftest import RUN_A, RUN_B
from tests.lineage.stores import MODEL, TABLE, RunSpec, ol_event


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_client_config_shapes(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    plain = load_settings(env={"MLOPS_CONSOLE_HOME": str(tmp_path)})
    assert openlineage_client_config(plain, events) == {
        "transport": {"type": "file", "log_file_path": str(events), "append": True}
    }
    datahub = load_settings(
        env={
            "MLOPS_CONSOLE_HOME": str(tmp_path),
            "DATAHUB_GMS_URL": "http://dh:8080/gms",
            "DATAHUB_GMS_TOKEN": "tok",
        }
    )
    transport = openlineage_client_config(datahub, events)["transport"]
    assert transport["type"] == "composite" and transport["continue_on_failure"] is True
    http = transport["transports"][1]
    assert http["url"] == "http://dh:8080/gms/"  # urljoin keeps the path only with the slash
    assert http["endpoint"] == DATAHUB_ENDPOINT
    assert http["auth"] == {"type": "api_key", "apiKey": "tok"}
    marquez = load_settings(
        env={
            "MLOPS_CONSOLE_HOME": str(tmp_path),
            "DATAHUB_GMS_URL": "http://dh:8080",
            "OPENLINEAGE_URL": "http://marquez:5000",
        }
    )
    http = openlineage_client_config(marquez, events)["transport"]["transports"][1]
    assert (http["url"], http["endpoint"]) == ("http://marquez:5000/", "api/v1/lineage")


def _emit(settings, events: Path, specs: list[RunSpec]) -> None:
    from openlineage.client import OpenLineageClient

    client = OpenLineageClient(config=openlineage_client_config(settings, events))
    for spec in specs:
        for kind in ("START", "COMPLETE"):
            client.transport.emit(_as_event(ol_event(spec, event_type=kind)))


def _as_event(doc: dict):
    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import dataset_version_dataset

    from commands.demo.lineage import MlflowRunFacet

    facet = doc["run"]["facets"]["mlflow"]
    return RunEvent(
        eventType=RunState[doc["eventType"]],
        eventTime=doc["eventTime"],
        producer=doc["producer"],
        run=Run(
            runId=doc["run"]["runId"],
            facets={"mlflow": MlflowRunFacet(producer=doc["producer"], **facet)},
        ),
        job=Job(namespace=doc["job"]["namespace"], name=doc["job"]["name"]),
        inputs=[
            InputDataset(
                namespace="iceberg",
                name=i["name"],
                facets={
                    "version": dataset_version_dataset.DatasetVersionDatasetFacet(
                        datasetVersion=i["facets"]["version"]["datasetVersion"]
                    )
                },
            )
            for i in doc["inputs"]
        ],
        outputs=[],
    )


def test_latest_per_run_prefers_terminal_events() -> None:
    start = ol_event(RunSpec(run_id=RUN_A, version="1"), event_type="START")
    done = ol_event(RunSpec(run_id=RUN_A, version="1"))
    other = ol_event(RunSpec(run_id=RUN_B, version="2"), event_type="START")
    assert latest_per_run([start, done, other]) == [done, other]
    assert latest_per_run([done, start]) == [done]


async def test_sync_event_log_is_idempotent(tmp_path: Path) -> None:
    env = {
        "MLOPS_CONSOLE_HOME": str(tmp_path),
        "DATAHUB_GMS_URL": f"http://127.0.0.1:{_closed_port()}",
    }
    paths = EmbeddedPaths.for_home(tmp_path)
    paths.openlineage_events.parent.mkdir(parents=True)
    specs = [RunSpec(run_id=RUN_A, version="1"), RunSpec(run_id=RUN_B, version="2")]
    _emit(load_settings(env=env), paths.openlineage_events, specs)  # the HTTP half fails quietly
    assert len(paths.openlineage_events.read_text().splitlines()) == 4
    settings = load_settings(env={"MLOPS_CONSOLE_HOME": str(tmp_path)})  # no GMS: into Lite

    first = sync_lineage(settings, QuietDriver(), skip_mlflow=True)
    assert (first.events_read, first.runs_in_log) == (4, 2) and first.event_changes > 0
    rows = _rows(paths.datahub_lite_db)
    second = sync_lineage(settings, QuietDriver(), skip_mlflow=True)
    assert second.changes == 0 and _rows(paths.datahub_lite_db) == rows

    async with LineageReader(LiteSource(paths.datahub_lite_db)) as reader:
        graph = await reader.lineage_for_run(RUN_A)
    data = [e for e in graph.edges if e.target == urns.iceberg_dataset_urn(TABLE)]
    assert data and data[0].snapshot_id == "5123456789012345678"


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM metadata_aspect_v2").fetchone()[0]


def test_sync_refuses_read_only(tmp_path: Path) -> None:
    settings = load_settings(
        env={"MLOPS_CONSOLE_HOME": str(tmp_path), "MLOPS_CONSOLE_READ_ONLY": "1"}
    )
    with pytest.raises(ReadOnlyError):
        sync_lineage(settings, QuietDriver(), skip_mlflow=True)
    assert not EmbeddedPaths.for_home(tmp_path).datahub_lite_db.exists()


@pytest.mark.slow
def test_sync_with_datahubs_mlflow_source(tmp_path: Path, mlflow_server) -> None:
    """The real MLflow source names the run as urns.mlflow_run_dpi_urn says; both halves stitch."""
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag

    client = MlflowClient(tracking_uri=mlflow_server.url)
    model = f"{MODEL}-sync"
    experiment = client.create_experiment(f"lineage-sync-{tmp_path.name}")
    run = client.create_run(experiment, run_name="train-sync")
    run_id = run.info.run_id
    snapshot = "7000000000000000001"
    client.log_param(run_id, "data.iceberg.table", TABLE)
    client.log_param(run_id, "data.iceberg.snapshot_id", snapshot)
    dataset = Dataset(
        name=TABLE,
        digest=snapshot,
        source_type="iceberg",
        source='{"table": "lake.git.commits"}',
        schema='{"mlflow_colspec": [{"type": "string", "name": "repo"}]}',
    )
    # stock DataHub 1.7 aborts the whole ingestion on an input without a schema; sync must not
    schemaless = Dataset(name="scratch", digest="0", source_type="local", source="{}")
    client.log_inputs(
        run_id,
        [
            DatasetInput(dataset, [InputTag("mlflow.data.context", "training")]),
            DatasetInput(schemaless, [InputTag("mlflow.data.context", "eval")]),
        ],
    )
    client.set_terminated(run_id)
    client.create_registered_model(model)
    version = client.create_model_version(model, f"runs:/{run_id}/model", run_id=run_id).version

    settings = load_settings(env={"MLOPS_CONSOLE_HOME": str(tmp_path)})
    paths = EmbeddedPaths.for_home(tmp_path)
    paths.openlineage_events.parent.mkdir(parents=True)
    spec = RunSpec(run_id=run_id, version=str(version), snapshot=snapshot)
    event = ol_event(spec)
    event["run"]["facets"]["mlflow"]["modelName"] = model
    import json

    paths.openlineage_events.write_text(json.dumps(event) + "\n")
    first = sync_lineage(settings, QuietDriver(), tracking_uri=mlflow_server.url)
    assert first.event_changes > 0 and first.mlflow_changes > 0
    second = sync_lineage(settings, QuietDriver(), tracking_uri=mlflow_server.url)
    assert second.changes == 0, second

    async def read():
        async with LineageReader(LiteSource(paths.datahub_lite_db)) as reader:
            return await reader.lineage_for_version(model, version)

    graph = asyncio.run(read())
    run_node = graph.node(f"mlflow-run:{run_id}")
    assert run_node is not None and run_node.properties["seen_by"] == "mlflow+openlineage"
    assert urns.mlflow_run_dpi_urn(run_id) in run_node.urns
    table = [e for e in graph.edges if e.target == urns.iceberg_dataset_urn(TABLE)]
    assert table and table[0].snapshot_id == snapshot
    assert [p.kind for p in graph.problems] == []

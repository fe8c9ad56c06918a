"""``lineage sync`` into DataHub GMS, against the stand-in's ingestion endpoints; and its bounds.

What arrives is decoded as a live GMS would, with DataHub's own classes (``MetadataChangeProposal``
and each aspect's class); the OpenLineage endpoint records the events. A second sync sends
nothing. The MLflow half runs DataHub's real MLflow source against a real MLflow server. A port
that accepts and never answers makes sync give up after about ``request_timeout`` (issue 16 #7).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.driver import QuietDriver
from commands.lineage_sync import sync_lineage
from console.cli import main
from console.embedded.lifecycle import EmbeddedPaths
from console.errors import ConsoleError, ReadOnlyError
from console.lineage import urns
from console.lineage.gms import GmsConfig, GmsSource
from console.lineage.reader import LineageReader
from console.settings import load_settings
from tests.lineage.conftest import RUN_A, RUN_B
from tests.lineage.gms_standin import GmsStandIn
from tests.lineage.stores import MODEL, TABLE, RunSpec, ol_event

TOKEN = "sync-token"


def _home(tmp_path: Path, specs: list[RunSpec]) -> Path:
    events = EmbeddedPaths.for_home(tmp_path).openlineage_events
    events.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(ol_event(s, event_type=k)) for s in specs for k in ("START", "COMPLETE")]
    events.write_text("\n".join(lines) + "\n")
    return tmp_path


def _settings(home: Path, url: str, **extra: str):
    env = {
        "MLOPS_CONSOLE_HOME": str(home),
        "DATAHUB_GMS_URL": url,
        "DATAHUB_GMS_TOKEN": TOKEN,
        "MLOPS_CONSOLE_REQUEST_TIMEOUT": "2",
        **extra,
    }
    return load_settings(env=env)


@pytest.fixture
def standin() -> Iterator[GmsStandIn]:
    with GmsStandIn(token=TOKEN) as server:
        yield server


def test_events_go_to_the_openlineage_endpoint_once(tmp_path: Path, standin) -> None:
    from datahub.metadata.schema_classes import DataProcessInstanceInputClass

    specs = [RunSpec(run_id=RUN_A, version="1"), RunSpec(run_id=RUN_B, version="2")]
    settings = _settings(_home(tmp_path, specs), standin.url)
    first = sync_lineage(settings, QuietDriver(), skip_mlflow=True)
    assert (first.target, first.store) == ("gms", standin.url)
    assert (first.events_read, first.runs_in_log, first.events_sent) == (4, 2, 4)
    assert [e["eventType"] for e in standin.openlineage] == ["START", "COMPLETE"] * 2
    assert {e["run"]["runId"] for e in standin.openlineage} == {
        urns.openlineage_run_id(RUN_A),
        urns.openlineage_run_id(RUN_B),
    }
    # the per-run pin, written where the reader finds it, decoded with DataHub's own classes
    pins = {p.entityUrn: p for p in standin.proposals}
    assert first.event_changes == 2 and set(pins) == {
        urns.openlineage_dpi_urn(RUN_A),
        urns.openlineage_dpi_urn(RUN_B),
    }
    stored = standin.aspects[urns.openlineage_dpi_urn(RUN_A)]["dataProcessInstanceInput"]
    assert isinstance(stored, DataProcessInstanceInputClass)
    edge = stored.inputEdges[0]
    assert edge.destinationUrn == urns.iceberg_dataset_urn(TABLE)
    assert edge.properties["snapshot_id"] == "5123456789012345678"

    again = sync_lineage(settings, QuietDriver(), skip_mlflow=True)
    assert (again.events_sent, again.changes) == (0, 0)
    assert len(standin.openlineage) == 4 and len(standin.proposals) == 2


def test_sync_to_gms_refused_read_only(tmp_path: Path, standin, capsys) -> None:
    settings = _settings(_home(tmp_path, [RunSpec(RUN_A, "1")]), standin.url)
    with pytest.raises(ReadOnlyError, match="DataHub GMS"):
        sync_lineage(settings.model_copy(update={"read_only": True}), QuietDriver())
    code = main(["--home", str(tmp_path), "--read-only", "lineage", "sync", "--skip-mlflow"])
    assert code == 3 and "read-only" in capsys.readouterr().err
    assert standin.requests == []


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


@pytest.mark.parametrize("target", ["lite", "gms"])
def test_silent_mlflow_gives_up_after_the_timeout(
    tmp_path: Path, standin, silent_port: int, target: str
) -> None:
    """MLflow's client inside DataHub's source used to retry for minutes (past 400 s)."""
    home = _home(tmp_path, [RunSpec(RUN_A, "1")])
    env = {"MLOPS_CONSOLE_HOME": str(home), "MLOPS_CONSOLE_REQUEST_TIMEOUT": "2"}
    if target == "gms":
        env |= {"DATAHUB_GMS_URL": standin.url, "DATAHUB_GMS_TOKEN": TOKEN}
    started = time.monotonic()
    with pytest.raises(ConsoleError, match="MLflow source failed") as info:
        sync_lineage(
            load_settings(env=env), QuietDriver(), tracking_uri=f"http://127.0.0.1:{silent_port}"
        )
    assert "\n" not in str(info.value)
    assert time.monotonic() - started < 60  # a bound for a regression, not a benchmark


def test_silent_gms_gives_up_after_the_timeout(tmp_path: Path, silent_port: int) -> None:
    settings = _settings(_home(tmp_path, [RunSpec(RUN_A, "1")]), f"http://127.0.0.1:{silent_port}")
    started = time.monotonic()
    with pytest.raises(ConsoleError, match=r"did not answer .* within 2 s"):
        sync_lineage(settings, QuietDriver(), skip_mlflow=True)
    assert time.monotonic() - started < 30


@pytest.mark.slow
def test_mlflow_source_into_gms(tmp_path: Path, standin, mlflow_server) -> None:
    """Someone else's run (MLflow's own client), DataHub's real source, DataHub's REST emitter."""
    from datahub.metadata.schema_classes import MLModelPropertiesClass, MLTrainingRunPropertiesClass
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag

    client = MlflowClient(tracking_uri=mlflow_server.url)
    model = f"{MODEL}-gms"
    experiment = client.create_experiment(f"lineage-gms-{tmp_path.name}")
    run_id = client.create_run(experiment, run_name="train-gms").info.run_id
    snapshot = "7000000000000000002"
    client.log_param(run_id, "data.iceberg.table", TABLE)
    client.log_param(run_id, "data.iceberg.snapshot_id", snapshot)
    dataset = Dataset(
        name=TABLE,
        digest=snapshot,
        source_type="iceberg",
        source='{"table": "lake.git.commits"}',
        schema='{"mlflow_colspec": [{"type": "string", "name": "repo"}]}',
    )
    client.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])
    client.set_terminated(run_id)
    client.create_registered_model(model)
    version = client.create_model_version(model, f"runs:/{run_id}/model", run_id=run_id).version

    spec = RunSpec(run_id=run_id, version=str(version), snapshot=snapshot)
    home = _home(tmp_path, [])
    event = ol_event(spec)
    event["run"]["facets"]["mlflow"]["modelName"] = model
    EmbeddedPaths.for_home(home).openlineage_events.write_text(json.dumps(event) + "\n")
    settings = _settings(home, standin.url)
    first = sync_lineage(settings, QuietDriver(), tracking_uri=mlflow_server.url)
    assert first.events_sent == 1 and first.mlflow_changes > 0
    run_urn = urns.mlflow_run_dpi_urn(run_id)
    training = standin.aspects[run_urn]["mlTrainingRunProperties"]
    assert isinstance(training, MLTrainingRunPropertiesClass) and training.id == run_id
    version_urn = urns.model_version_urn(model, version)
    props = standin.aspects[version_urn]["mlModelProperties"]
    assert isinstance(props, MLModelPropertiesClass) and run_urn in (props.trainingJobs or [])
    received = len(standin.proposals)

    second = sync_lineage(settings, QuietDriver(), tracking_uri=mlflow_server.url)
    assert second.changes == 0 and second.events_sent == 0, second
    assert len(standin.proposals) == received

    async def read():
        source = GmsSource(GmsConfig(url=standin.url, token=TOKEN))
        async with LineageReader(source) as reader:
            return await reader.lineage_for_version(model, version)

    graph = asyncio.run(read())
    run = graph.node(f"mlflow-run:{run_id}")
    assert run is not None and run.properties["seen_by"] == "mlflow+openlineage"
    pins = [e.snapshot_id for e in graph.edges if e.source == run.id and e.snapshot_id]
    assert pins == [snapshot]
    assert [p.kind for p in graph.problems] == []


def test_check_reports_server_version_token_and_entities(
    tmp_path: Path, healthy_store: Path, capsys, monkeypatch
) -> None:
    args = ["--home", str(tmp_path), "lineage", "check", MODEL, "1", "2", "9"]
    with GmsStandIn(token=TOKEN).load_lite(healthy_store) as gms:
        gms.soft_delete(urns.model_version_urn(MODEL, "2"))
        monkeypatch.setenv("DATAHUB_GMS_URL", gms.url)
        monkeypatch.setenv("DATAHUB_GMS_TOKEN", TOKEN)
        code = main([*args, "--json"])
        doc = json.loads(capsys.readouterr().out)
        gms.readable = False
        denied = main(args)
        out = capsys.readouterr()
    assert code == 1 and doc["answers"] is True and doc["version"] == "v1.7.0"
    assert doc["can_read"] is True and doc["user"] == "console"
    assert doc["entities"] == {
        urns.model_group_urn(MODEL): "present",
        urns.model_version_urn(MODEL, "1"): "present",
        urns.model_version_urn(MODEL, "2"): "soft-deleted",
        urns.model_version_urn(MODEL, "9"): "missing",
    }
    assert denied == 1 and "token may read: no" in out.out and "may not read" in out.err
    assert TOKEN not in out.out + out.err


def test_check_without_gms_and_against_a_closed_port(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("DATAHUB_GMS_URL", raising=False)
    assert main(["--home", str(tmp_path), "lineage", "check"]) != 0
    assert "no DataHub GMS is configured" in capsys.readouterr().err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("DATAHUB_GMS_URL", f"http://127.0.0.1:{port}")
    assert main(["--home", str(tmp_path), "lineage", "check", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["answers"] is False and "cannot reach" in doc["problems"][0]

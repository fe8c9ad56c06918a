"""The GMS reader against the stand-in (``gms_standin``): a real HTTP server that executes GraphQL
on DataHub 1.7.0's schema and answers DataHub's REST shapes, over a real Lite store's metadata.

The graph read through GMS must equal the graph read from Lite, field for field. Faults: 429 with
Retry-After, 5xx, soft-deleted entities, short pages, 401/403, a server of another version, a
missing endpoint, a closed port and a port that never answers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.lineage import gms as gms_mod
from console.lineage import urns
from console.lineage.gms import (
    GmsAuthError,
    GmsConfig,
    GmsError,
    GmsSource,
    GmsVersionError,
    gms_config,
)
from console.lineage.lite import LiteSource
from console.lineage.reader import LineageReader
from console.settings import load_settings
from tests.lineage.conftest import RUN_A, RUN_B
from tests.lineage.gms_standin import GmsStandIn
from tests.lineage.stores import MODEL, TABLE

TOKEN = "secret-token"


@pytest.fixture
def standin(healthy_store: Path) -> Iterator[GmsStandIn]:
    with GmsStandIn(token=TOKEN).load_lite(healthy_store) as server:
        yield server


def _reader(url: str, token: str | None = TOKEN, timeout: float = 5) -> LineageReader:
    return LineageReader(GmsSource(GmsConfig(url=url, token=token, timeout=timeout)))


def _same(remote, local) -> None:
    """Equal field for field; edges compared as a set (their order follows each backend's
    answer order for incoming edges, which is not part of the graph)."""
    assert remote.backend == "gms" and local.backend == "lite"
    skip = {"backend", "location", "edges"}
    assert remote.model_dump(exclude=skip) == local.model_dump(exclude=skip)
    key = lambda e: json.dumps(e.model_dump(), sort_keys=True)  # noqa: E731
    assert sorted(map(key, remote.edges)) == sorted(map(key, local.edges))
    assert len(remote.edges) == len(local.edges)


@pytest.mark.parametrize(
    "start",
    [
        ("version", MODEL, "1"),
        ("version", MODEL, "2"),
        ("run", RUN_A),
        ("run", RUN_B),
        ("dataset", TABLE),
    ],
)
async def test_gms_graph_equals_lite_graph(standin, healthy_store: Path, start) -> None:
    async def read(reader: LineageReader):
        kind, *args = start
        if kind == "version":
            return await reader.lineage_for_version(*args)
        if kind == "run":
            return await reader.lineage_for_run(*args)
        return await reader.lineage_for_dataset(*args)

    async with _reader(standin.url) as reader:
        remote = await read(reader)
    async with LineageReader(LiteSource(healthy_store)) as reader:
        local = await read(reader)
    _same(remote, local)
    assert remote.location == standin.url


async def test_names_params_stitching_and_pins_survive(standin) -> None:
    async with _reader(standin.url) as reader:
        graph = await reader.lineage_for_version(MODEL, "1")
    assert graph.problems == []
    run = graph.node(f"mlflow-run:{RUN_A}")
    assert run is not None and run.name == "train-1"
    assert run.properties["seen_by"] == "mlflow+openlineage"
    assert set(run.urns) == set(urns.run_urns(RUN_A))
    assert run.properties["param.data.iceberg.snapshot_id"] == "5123456789012345678"
    pins = [e.snapshot_id for e in graph.edges if e.source == run.id and e.snapshot_id]
    assert pins == ["5123456789012345678"]
    # the DataProcessInstance aspects came over REST, everything else over GraphQL
    paths = {p.split("?")[0].split("/urn")[0] for _, _, p, _ in standin.requests}
    assert paths == {"/api/graphql", "/entitiesV2"}


async def test_every_request_carries_the_token(standin) -> None:
    async with _reader(standin.url, token="wrong") as reader:
        with pytest.raises(GmsAuthError, match="401"):
            await reader.lineage_for_version(MODEL, "1")


async def test_retries_429_honouring_retry_after_and_5xx(standin) -> None:
    standin.faults = [(429, {"Retry-After": "1"}), (503, {}), (502, {})]
    async with _reader(standin.url) as reader:
        graph = await reader.lineage_for_version(MODEL, "1")
    assert graph.node(f"mlflow-run:{RUN_A}") is not None
    first, second = standin.requests[0][0], standin.requests[1][0]
    assert second - first >= 0.95  # waited for Retry-After, not the 0.25 s backoff


async def test_5xx_that_persists_is_one_line(standin, monkeypatch) -> None:
    monkeypatch.setattr(gms_mod, "BACKOFF_S", 0.01)
    standin.faults = [(503, {})] * (gms_mod.RETRIES + 1)
    async with _reader(standin.url) as reader:
        with pytest.raises(GmsError, match=r"HTTP 503 to /api/graphql 4 times") as info:
            await reader.lineage_for_version(MODEL, "1")
    assert "\n" not in str(info.value)


async def test_soft_deleted_entities_are_left_out(standin) -> None:
    standin.soft_delete(urns.model_version_urn(MODEL, "2"))
    async with _reader(standin.url) as reader:
        graph = await reader.lineage_for_version(MODEL, "2")
        assert graph.node(graph.root).exists is False
        assert "soft_deleted" in {p.kind for p in graph.problems}
        data = await reader.lineage_for_run(RUN_B, depth=1)
    # the deleted version is not shown as the run's output
    assert urns.model_version_urn(MODEL, "2") not in {n.urn for n in data.nodes if n.exists}


async def test_incoming_pages_by_page_size_without_overlap(standin, monkeypatch) -> None:
    monkeypatch.setattr(gms_mod, "PAGE", 2)
    table = urns.iceberg_dataset_urn(TABLE)
    every = [s for s, _, t in standin.edges() if t == table]
    deleted = every[0]  # its page comes back short: one item instead of two
    standin.soft_delete(deleted)
    source = GmsSource(GmsConfig(url=standin.url, token=TOKEN))
    try:
        types = ["DataProcessInstanceConsumes", "Consumes", "DownstreamOf"]
        found = await source.incoming(table, types)
    finally:
        await source.aclose()
    expected = [s for s, n, t in standin.edges() if t == table and n in types and s != deleted]
    assert sorted(s for s, _ in found) == sorted(expected)
    assert len(found) == len(set(found))
    starts = [b["variables"]["start"] for _, _, p, b in standin.requests if "Incoming" in str(b)]
    assert starts == list(range(0, len(starts) * 2, 2)) and len(starts) >= 2


async def test_partial_data_is_kept_and_reported(standin) -> None:
    standin.broken_state.add(urns.mlflow_run_dpi_urn(RUN_A))
    async with _reader(standin.url) as reader:
        graph = await reader.lineage_for_version(MODEL, "1")
    assert graph.node(f"mlflow-run:{RUN_A}") is not None
    assert any(p.kind == "partial_result" for p in graph.problems)


async def test_server_lacking_a_field_is_named(healthy_store: Path) -> None:
    with GmsStandIn(lacks=("DataProcessInstance", "state")).load_lite(healthy_store) as old:
        async with _reader(old.url) as reader:
            with pytest.raises(GmsVersionError) as info:
                await reader.lineage_for_version(MODEL, "1")
    message = str(info.value)
    assert "lacks GraphQL field DataProcessInstance.state" in message and "\n" not in message


async def test_server_lacking_an_endpoint_is_named(standin, monkeypatch) -> None:
    monkeypatch.setattr(gms_mod, "entities_v2_path", lambda urn, names: "/entities/v9/" + urn)
    async with _reader(standin.url) as reader:
        with pytest.raises(GmsVersionError, match="has no endpoint /entities/v9/"):
            await reader.lineage_for_version(MODEL, "1")


async def test_absent_entity_is_not_an_error(standin) -> None:
    async with _reader(standin.url) as reader:
        graph = await reader.lineage_for_run("0" * 32)
    assert [p.kind for p in graph.problems] == ["not_found"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_closed_port_is_one_line(monkeypatch) -> None:
    monkeypatch.setattr(gms_mod, "BACKOFF_S", 0.01)
    async with _reader(f"http://127.0.0.1:{_closed_port()}") as reader:
        with pytest.raises(GmsError, match="cannot reach DataHub GMS"):
            await reader.lineage_for_version(MODEL, "1")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
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


async def test_silent_port_gives_up_after_the_timeout(silent_port: int) -> None:
    started = time.monotonic()
    async with _reader(f"http://127.0.0.1:{silent_port}", timeout=1) as reader:
        with pytest.raises(GmsError, match="did not answer /api/graphql within 1 s"):
            await reader.lineage_for_version(MODEL, "1")
    assert time.monotonic() - started < 30  # one timeout, not one per retry


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures(standin, status: int) -> None:
    standin.faults = [(status, {})]
    async with _reader(standin.url) as reader:
        with pytest.raises(GmsAuthError, match=str(status)) as info:
            await reader.lineage_for_version(MODEL, "1")
    assert "DATAHUB_GMS_TOKEN" in str(info.value) or "privilege" in str(info.value)


def test_gms_config_sources(tmp_path: Path) -> None:
    env_file = tmp_path / ".datahubenv"
    env_file.write_text("gms:\n  server: http://dh.internal:8080\n  token: from-file\n")
    embedded = load_settings(env={"MLOPS_CONSOLE_HOME": str(tmp_path)})
    assert gms_config(embedded, env_file) is None  # the embedded console keeps Lite
    prod = load_settings(
        env={"MLOPS_CONSOLE_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": "http://mlflow.internal"}
    )
    assert gms_config(prod, env_file) == GmsConfig(
        url="http://dh.internal:8080", token="from-file", source="~/.datahubenv"
    )
    explicit = load_settings(
        env={"MLOPS_CONSOLE_HOME": str(tmp_path), "DATAHUB_GMS_URL": "http://dh.internal:8080"}
    )
    config = gms_config(explicit, env_file)
    assert config is not None and config.token == "from-file"
    with_token = load_settings(
        env={
            "MLOPS_CONSOLE_HOME": str(tmp_path),
            "DATAHUB_GMS_URL": "http://other:8080",
            "DATAHUB_GMS_TOKEN": "tok",
        }
    )
    assert gms_config(with_token, env_file) == GmsConfig(url="http://other:8080", token="tok")

"""The GMS GraphQL reader against responses shaped by DataHub's published schema.

No GMS can run here. A fake server (``httpx.MockTransport``) answers ``entities(urns)`` with
``RawAspect`` payloads and ``relationships(input: {direction: INCOMING})`` with
``EntityRelationshipsResult`` pages, both computed from a real Lite store, so the GMS graph must
equal the Lite graph. Faults: paging, partial data, GraphQL ``errors``, 401/403, older servers.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from console.lineage import gms as gms_mod
from console.lineage import urns
from console.lineage.gms import GmsAuthError, GmsConfig, GmsError, GmsSource, gms_config
from console.lineage.lite import LiteSource
from console.lineage.reader import LineageReader
from console.settings import load_settings
from tests.lineage.conftest import RUN_A
from tests.lineage.stores import MODEL, TABLE

TYPES = {
    "mlModel": "MLMODEL",
    "mlModelGroup": "MLMODEL_GROUP",
    "dataset": "DATASET",
    "dataJob": "DATA_JOB",
    "dataProcessInstance": "DATA_PROCESS_INSTANCE",
}


class FakeGms:
    """Answers the reader's two queries from a Lite store; records every request."""

    def __init__(self, store: Path, *, old_server: bool = False) -> None:
        self.lite = LiteSource(store)
        self.old_server = old_server
        self.requests: list[dict] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        self.headers.append(request.headers)
        assert request.url.path == "/api/graphql"
        variables = body["variables"]
        if "lineageEntities" in body["query"]:
            if self.old_server and "on DataProcessInstance { aspects" in body["query"]:
                return httpx.Response(
                    200,
                    json={
                        "errors": [
                            {
                                "message": "Validation error (FieldUndefined@[entities/aspects]) : "
                                "Field 'aspects' in type 'DataProcessInstance' is undefined",
                                "extensions": {"classification": "ValidationError"},
                            }
                        ],
                        "data": None,
                    },
                )
            return httpx.Response(
                200,
                json={
                    "data": {"entities": [self._entity(u, variables) for u in variables["urns"]]}
                },
            )
        return httpx.Response(200, json={"data": {"entity": self._incoming(variables)}})

    def _entity(self, urn: str, variables: dict) -> dict:
        found = self.lite.fetch_sync([urn]).get(urn, {})
        kind = urns.entity_type(urn)
        item = {"urn": urn, "type": TYPES.get(kind, "OTHER")}
        if kind == "dataProcessInstance" and self.old_server:
            edges = [
                (e.relationship, e.target)
                for name, value in found.items()
                for e in gms_mod.asp.outgoing({name: value})
            ]
            item["out"] = {
                "total": len(edges),
                "relationships": [
                    {"type": r, "entity": {"urn": t}}
                    for r, t in edges
                    if r in variables.get("outTypes", [])
                ],
            }
            return item
        item["aspects"] = [
            {"aspectName": name, "payload": json.dumps(value)}
            for name, value in found.items()
            if name in variables["aspects"]
        ]
        return item

    def _incoming(self, variables: dict) -> dict:
        pairs = self.lite.incoming_sync(variables["urn"], variables["types"])
        start, count = variables["start"], variables["count"]
        page = pairs[start : start + count]
        return {
            "urn": variables["urn"],
            "relationships": {
                "start": start,
                "count": len(page),
                "total": len(pairs),
                "relationships": [
                    {
                        "type": rel,
                        "direction": "INCOMING",
                        "entity": {"urn": src, "type": TYPES.get(urns.entity_type(src), "OTHER")},
                    }
                    for src, rel in page
                ],
            },
        }


def _source(handler, token: str | None = "secret-token") -> GmsSource:
    config = GmsConfig(url="http://gms.test:8080", token=token, timeout=2)
    return GmsSource(config, transport=httpx.MockTransport(handler))


def _shape(graph) -> tuple:
    nodes = sorted((n.id, n.type, n.depth, n.name) for n in graph.nodes)
    edges = sorted(
        (e.source, e.target, e.relationship, e.direction, e.snapshot_id or "") for e in graph.edges
    )
    return nodes, edges


async def test_gms_graph_equals_lite_graph(healthy_store: Path) -> None:
    fake = FakeGms(healthy_store)
    async with LineageReader(_source(fake)) as reader:
        remote = await reader.lineage_for_version(MODEL, "1")
    async with LineageReader(LiteSource(healthy_store)) as reader:
        local = await reader.lineage_for_version(MODEL, "1")
    assert remote.backend == "gms" and remote.location == "http://gms.test:8080"
    assert _shape(remote) == _shape(local)
    assert remote.problems == local.problems == []
    assert all(h["authorization"] == "Bearer secret-token" for h in fake.headers)


async def test_incoming_edges_are_paged(healthy_store: Path, monkeypatch) -> None:
    monkeypatch.setattr(gms_mod, "PAGE", 1)
    fake = FakeGms(healthy_store)
    async with LineageReader(_source(fake)) as reader:
        graph = await reader.lineage_for_dataset(TABLE, depth=1, direction="downstream")
    consumers = [f for _, f in graph.children(graph.root, "downstream")]
    assert len(consumers) >= 3  # both training runs, the job, the MLflow reference
    pages = [r for r in fake.requests if "lineageIncoming" in r["query"]]
    assert max(r["variables"]["start"] for r in pages) >= 2


async def test_too_many_pages_is_reported(healthy_store: Path, monkeypatch) -> None:
    monkeypatch.setattr(gms_mod, "PAGE", 1)
    monkeypatch.setattr(gms_mod, "MAX_PAGES", 1)
    async with LineageReader(_source(FakeGms(healthy_store))) as reader:
        graph = await reader.lineage_for_dataset(TABLE, depth=1, direction="downstream")
    assert any(p.kind == "partial_result" for p in graph.problems)


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "no"})

    async with LineageReader(_source(handler)) as reader:
        with pytest.raises(GmsAuthError, match=str(status)) as info:
            await reader.lineage_for_version(MODEL, "1")
    assert "DATAHUB_GMS_TOKEN" in str(info.value) or "privilege" in str(info.value)


async def test_graphql_errors_without_data() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "errors": [{"message": "Unauthorized to perform this action\x1b[2J"}],
                "data": None,
            },
        )

    async with LineageReader(_source(handler)) as reader:
        with pytest.raises(GmsError) as info:
            await reader.lineage_for_version(MODEL, "1")
    assert "Unauthorized" in str(info.value) and "\x1b" not in str(info.value)


async def test_partial_data_is_kept_and_reported(healthy_store: Path) -> None:
    fake = FakeGms(healthy_store)

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake(request)
        doc = json.loads(response.content)
        doc["errors"] = [{"message": "An unknown error occurred.", "path": ["entities", 0]}]
        return httpx.Response(200, json=doc)

    async with LineageReader(_source(handler)) as reader:
        graph = await reader.lineage_for_version(MODEL, "1")
    assert graph.node(f"mlflow-run:{RUN_A}") is not None
    assert any(p.kind == "partial_result" for p in graph.problems)


async def test_older_server_without_dpi_aspects(healthy_store: Path) -> None:
    fake = FakeGms(healthy_store, old_server=True)
    async with LineageReader(_source(fake)) as reader:
        graph = await reader.lineage_for_version(MODEL, "1")
    # runs are read through relationships: still found, but edge properties are not exposed
    assert any(n.type == "run" for n in graph.nodes)
    assert graph.node(urns.iceberg_dataset_urn(TABLE)) is not None
    assert all(e.snapshot_id is None for e in graph.edges)
    # and the run's params (mlTrainingRunProperties) too: the checks say they could not run
    assert "params_unavailable" in {p.kind for p in graph.problems}


async def test_unreachable_and_not_graphql() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with LineageReader(_source(down)) as reader:
        with pytest.raises(GmsError, match="cannot reach"):
            await reader.lineage_for_version(MODEL, "1")

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    async with LineageReader(_source(html)) as reader:
        with pytest.raises(GmsError, match="HTTP 502"):
            await reader.lineage_for_version(MODEL, "1")


def test_gms_config_sources(tmp_path: Path, monkeypatch) -> None:
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

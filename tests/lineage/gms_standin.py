"""A DataHub GMS stand-in for tests: a real HTTP server on 127.0.0.1, in a thread.

No GMS can run here (it needs Java, Kafka and Elasticsearch). This server answers the paths the
console uses, in DataHub's shapes, over metadata held as DataHub's own aspect classes:
- ``POST /api/graphql`` is *executed* with graphql-core on DataHub 1.7.0's published schema
  (``fixtures/datahub-graphql-v1.7.0``), so a document naming a field the schema lacks fails here
  as on a real server; resolvers serve ``entities``, ``entity``, ``me``, ``exists``, ``status``,
  ``aspects`` (only where the schema has it), ``state`` and ``relationships``;
- ``GET /entitiesV2/{urn}?aspects=List(...)`` answers Rest.li ``EntityResponse`` JSON (aspect values
  encoded with ``pre_json_transform``, as GMS serialises records), 404 Rest.li-style when absent;
- ``GET /config`` (``noCode``, ``versions.acryldata/datahub.version``);
- ``POST /aspects?action=ingestProposal|ingestProposalBatch`` decode each proposal with DataHub's
  classes (``MetadataChangeProposalClass``, the aspect's own class) and store it;
- ``POST /openapi/openlineage/api/v1/lineage`` records the OpenLineage events it receives.
Relationships are derived from the ``Relationship`` annotations DataHub puts on its aspect schemas
(not from the console's code), so incoming edges are computed independently of the reader.
Faults: ``faults`` (status and headers for the next requests), ``token`` (401 without it).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

os.environ.setdefault("DATAHUB_TELEMETRY_ENABLED", "false")

SCHEMA_DIR = Path(__file__).parent / "fixtures" / "datahub-graphql-v1.7.0"
VERSION = "v1.7.0"

# DataHub entity name -> (GraphQL type, EntityType enum value)
GRAPHQL_TYPES = {
    "dataset": ("Dataset", "DATASET"),
    "mlModel": ("MLModel", "MLMODEL"),
    "mlModelGroup": ("MLModelGroup", "MLMODEL_GROUP"),
    "dataJob": ("DataJob", "DATA_JOB"),
    "dataFlow": ("DataFlow", "DATA_FLOW"),
    "dataProcessInstance": ("DataProcessInstance", "DATA_PROCESS_INSTANCE"),
}
# the types whose GraphQL type has the weakly typed ``aspects`` field in 1.7.0
RAW_ASPECT_TYPES = {"dataset", "mlModel", "mlModelGroup", "dataJob"}


@cache
def schema():
    from graphql import build_schema

    files = sorted(SCHEMA_DIR.glob("*.graphql"))
    return build_schema("\n".join(f.read_text(encoding="utf-8") for f in files))


def schema_without(type_name: str, field: str):
    """The 1.7.0 schema minus one field: a server of another version, for the version tests."""
    from graphql import build_schema

    files = sorted(SCHEMA_DIR.glob("*.graphql"))
    built = build_schema("\n".join(f.read_text(encoding="utf-8") for f in files))
    del built.type_map[type_name].fields[field]
    return built


def restli(aspect: Any) -> dict[str, Any]:
    """An aspect as GMS serialises it (Rest.li JSON), via DataHub's own transform."""
    from datahub.emitter.serialization_helper import pre_json_transform

    return pre_json_transform(aspect.to_obj())


def _entity_name(urn: str) -> str:
    return urn[len("urn:li:") :].split(":", 1)[0] if urn.startswith("urn:li:") else ""


def _walk(schema: Any, value: Any) -> Iterator[tuple[str, str]]:
    """(relationship name, target URN) for every ``Relationship``-annotated field in a value."""
    from avro import schema as avro

    if isinstance(schema, avro.UnionSchema):
        for branch in schema.schemas:
            if branch.type == "null":
                continue
            if isinstance(value, dict) and branch.type == "record":
                yield from _walk(branch, value)
        return
    if isinstance(schema, avro.ArraySchema) and isinstance(value, list):
        for item in value:
            yield from _walk(schema.items, item)
        return
    if not isinstance(schema, avro.RecordSchema) or not isinstance(value, dict):
        return
    for field in schema.fields:
        sub = value.get(field.name)
        if sub is None:
            continue
        annotation = field.other_props.get("Relationship")
        if isinstance(annotation, dict) and "name" in annotation:
            if isinstance(sub, str):
                yield annotation["name"], sub
        elif isinstance(annotation, dict):
            for path, spec in annotation.items():
                for target in _at_path(sub, [p for p in path.split("/") if p]):
                    yield spec["name"], target
        yield from _walk(field.type, sub)


def _at_path(value: Any, parts: list[str]) -> Iterator[str]:
    if not parts:
        if isinstance(value, str):
            yield value
        return
    head, rest = parts[0], parts[1:]
    if head == "*" and isinstance(value, list):
        for item in value:
            yield from _at_path(item, rest)
    elif isinstance(value, dict) and head in value:
        yield from _at_path(value[head], rest)


def relationships_of(aspect: Any) -> list[tuple[str, str]]:
    return list(_walk(aspect.RECORD_SCHEMA, aspect.to_obj()))


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5; a real GMS (Jetty) accepts far more. With 5, a burst
    # of concurrent reads on a loaded machine gets connections reset, which GMS would not do.
    request_queue_size = 128
    daemon_threads = True


class GmsStandIn:
    """Metadata as DataHub aspect objects, served over HTTP. Use as a context manager."""

    def __init__(
        self,
        *,
        token: str | None = None,
        version: str = VERSION,
        lacks: tuple[str, str] | None = None,
    ) -> None:
        self.schema = schema() if lacks is None else schema_without(*lacks)
        self.broken_state: set[str] = set()  # runs whose ``state`` resolver fails (partial data)
        self.token = token
        self.version = version
        self.aspects: dict[str, dict[str, Any]] = {}  # urn -> aspect name -> aspect object
        self.timeseries: dict[str, dict[str, list[Any]]] = {}
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.requests: list[tuple[float, str, str, Any]] = []  # (time, method, path, body)
        self.proposals: list[Any] = []  # MetadataChangeProposalClass as received
        self.openlineage: list[dict[str, Any]] = []
        self.readable = True  # False: GraphQL ``me`` fails as for a token without privileges
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- data ---

    def put(self, urn: str, aspect: Any) -> None:
        name = aspect.get_aspect_name()
        with self._lock:
            if aspect.get_aspect_type() == "timeseries":
                self.timeseries.setdefault(urn, {}).setdefault(name, []).append(aspect)
            else:
                self.aspects.setdefault(urn, {})[name] = aspect

    def load_lite(self, path: Path) -> GmsStandIn:
        """Everything a DataHub Lite store holds, read with DataHub's own Lite reader."""
        from datahub.lite.lite_util import get_datahub_lite

        lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
        try:
            for mcp in lite.get_all_aspects():
                self.put(mcp.entityUrn, mcp.aspect)
        finally:
            lite.close()
        return self

    def soft_delete(self, urn: str) -> None:
        from datahub.metadata.schema_classes import StatusClass

        self.put(urn, StatusClass(removed=True))

    def removed(self, urn: str) -> bool:
        status = self.aspects.get(urn, {}).get("status")
        return bool(status is not None and status.removed)

    def edges(self) -> list[tuple[str, str, str]]:
        """(source, relationship, target) over everything stored, in a stable order."""
        out = []
        with self._lock:
            items = [(u, a) for u, named in self.aspects.items() for a in named.values()]
        for urn, aspect in items:
            for name, target in relationships_of(aspect):
                out.append((urn, name, target))
        return sorted(set(out))

    # --- GraphQL ---

    def _entity(self, urn: str) -> dict[str, Any] | None:
        kind = _entity_name(urn)
        if kind not in GRAPHQL_TYPES:
            return None
        typename, enum = GRAPHQL_TYPES[kind]
        stored = self.aspects.get(urn, {})
        item: dict[str, Any] = {
            "__typename": typename,
            "urn": urn,
            "type": enum,
            "exists": bool(stored) or bool(self.timeseries.get(urn)),
            "status": {"removed": self.removed(urn)},
            "relationships": lambda info, input: self._relationships(urn, input),
        }
        if kind in RAW_ASPECT_TYPES:
            item["aspects"] = lambda info, input=None: [
                {"aspectName": name, "payload": json.dumps(restli(value))}
                for name, value in stored.items()
                if not (input or {}).get("aspectNames") or name in input["aspectNames"]
            ]
        if kind == "dataProcessInstance":
            item["state"] = lambda info, startTimeMillis=None, endTimeMillis=None, limit=None: (
                self._state(urn, limit)
            )
        return item

    def _state(self, urn: str, limit: int | None) -> list[dict[str, Any]]:
        if urn in self.broken_state:
            raise RuntimeError("An unknown error occurred.")
        events = self.timeseries.get(urn, {}).get("dataProcessInstanceRunEvent", [])
        latest = sorted(events, key=lambda e: -e.timestampMillis)[: limit or None]
        return [{"status": e.status, "timestampMillis": e.timestampMillis} for e in latest]

    def _relationships(self, urn: str, spec: dict[str, Any]) -> dict[str, Any]:
        types = set(spec["types"])
        if spec["direction"] == "INCOMING":
            found = [(s, n) for s, n, t in self.edges() if t == urn and n in types]
        else:
            found = [(t, n) for s, n, t in self.edges() if s == urn and n in types]
        start, count = spec.get("start") or 0, spec.get("count") or 10
        page = found[start : start + count]
        if spec.get("includeSoftDelete", True) is False:
            # filtered after slicing, so a page can come back short while more remain
            page = [(u, n) for u, n in page if not self.removed(u)]
        return {
            "start": start,
            "count": len(page),
            "total": len(found),
            "relationships": [
                {"type": n, "direction": spec["direction"], "entity": self._entity(u)}
                for u, n in page
                if self._entity(u) is not None
            ],
        }

    def graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        from graphql import graphql_sync

        root = {
            "entities": lambda info, urns: [self._entity(u) for u in urns],
            "entity": lambda info, urn: self._entity(urn),
            "me": lambda info: self._me(),
        }
        result = graphql_sync(
            self.schema,
            body.get("query", ""),
            root_value=root,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        doc: dict[str, Any] = {"data": result.data}
        if result.errors:
            doc["errors"] = [e.formatted for e in result.errors]
        return doc

    def _me(self) -> dict[str, Any]:
        if not self.readable:
            raise PermissionError("Unauthorized to perform this action. Please contact your admin.")
        return {"corpUser": {"urn": "urn:li:corpuser:console", "username": "console"}}

    # --- REST ---

    def entity_v2(self, urn: str, names: list[str] | None) -> dict[str, Any] | None:
        stored = self.aspects.get(urn, {})
        chosen = {n: a for n, a in stored.items() if names is None or n in names}
        if not chosen:
            return None
        return {
            "urn": urn,
            "entityName": _entity_name(urn),
            "aspects": {
                name: {
                    "name": name,
                    "type": "VERSIONED",
                    "version": 0,
                    "value": restli(value),
                    "created": {"time": 1717236000000, "actor": "urn:li:corpuser:datahub"},
                }
                for name, value in chosen.items()
            },
        }

    def config(self) -> dict[str, Any]:
        return {
            "noCode": "true",
            "retention": "true",
            "statefulIngestionCapable": True,
            "versions": {"acryldata/datahub": {"version": self.version, "commit": "ec425f7e3e14"}},
            "datahub": {"serverType": "dev"},
        }

    def ingest(self, proposal: dict[str, Any]) -> str:
        """Decode one proposal as GMS would, with DataHub's own classes, and store it."""
        from datahub.emitter.serialization_helper import post_json_transform
        from datahub.metadata.schema_classes import ASPECT_NAME_MAP, MetadataChangeProposalClass

        mcp = MetadataChangeProposalClass.from_obj(post_json_transform(proposal))
        assert mcp.aspect is not None and mcp.aspect.contentType == "application/json"
        value = json.loads(mcp.aspect.value)
        aspect = ASPECT_NAME_MAP[mcp.aspectName].from_obj(post_json_transform(value))
        assert aspect.validate(), f"invalid {mcp.aspectName} for {mcp.entityUrn}"
        self.proposals.append(mcp)
        self.put(mcp.entityUrn, aspect)
        return mcp.entityUrn

    # --- the server ---

    def __enter__(self) -> GmsStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(gms: GmsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw else None

        def _gate(self, method: str) -> tuple[bool, Any]:
            body = self._body() if method == "POST" else None
            gms.requests.append((time.monotonic(), method, self.path, body))
            with gms._lock:
                fault = gms.faults.pop(0) if gms.faults else None
            if fault is not None:
                status, headers = fault
                self._send(status, {"message": "injected fault", "status": status}, headers)
                return False, body
            if gms.token and self.headers.get("Authorization") != f"Bearer {gms.token}":
                self._send(401, {"message": "Unauthorized", "status": 401})
                return False, body
            return True, body

        def do_GET(self) -> None:
            ok, _ = self._gate("GET")
            if not ok:
                return
            parts = urlsplit(self.path)
            if parts.path == "/config":
                return self._send(200, gms.config())
            if parts.path.startswith("/entitiesV2/"):
                urn = unquote(parts.path[len("/entitiesV2/") :])
                raw = parse_qs(parts.query).get("aspects", [None])[0]
                names = raw[len("List(") : -1].split(",") if raw else None
                doc = gms.entity_v2(urn, names)
                if doc is None:
                    return self._send(
                        404,
                        {
                            "exceptionClass": "com.linkedin.restli.server.RestLiServiceException",
                            "message": f"Failed to get entity {urn}",
                            "status": 404,
                        },
                    )
                return self._send(200, doc)
            self._send(404, {"error": "not found", "path": parts.path})

        def do_POST(self) -> None:
            ok, body = self._gate("POST")
            if not ok:
                return
            parts = urlsplit(self.path)
            action = parse_qs(parts.query).get("action", [""])[0]
            if parts.path == "/api/graphql":
                return self._send(200, gms.graphql(body or {}))
            if parts.path == "/aspects" and action == "ingestProposal":
                return self._send(200, {"value": gms.ingest(body["proposal"])})
            if parts.path == "/aspects" and action == "ingestProposalBatch":
                for proposal in body["proposals"]:
                    gms.ingest(proposal)
                return self._send(200, {})
            if parts.path == "/openapi/openlineage/api/v1/lineage":
                gms.openlineage.append(body)
                return self._send(200, {})
            self._send(404, {"error": "not found", "path": parts.path})

    return Handler

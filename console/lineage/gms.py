"""Reading lineage from a DataHub GMS with httpx: GraphQL where DataHub's schema has the fact,
REST (as DataHub's own Python client does) where it does not.

Which endpoint serves which fact (DataHub 1.7.0; every GraphQL document here is validated against
that release's published schema by ``tests/lineage/test_gms_schema.py``):
- ``POST /api/graphql`` ``entities(urns)``: whether each entity exists (``exists``), whether it is
  soft-deleted (``status { removed }``, such entities are left out and reported), and the raw
  aspects (``aspects(input: {aspectNames})`` → ``RawAspect.payload``) of MLModel, MLModelGroup,
  Dataset and DataJob — the four types GMS wires the weakly typed aspects resolver for;
- ``GET /entitiesV2/{urn}?aspects=List(...)`` (``DataHubGraph.get_entity_raw``): the versioned
  aspects of a DataProcessInstance, which GraphQL does not expose as raw aspects: its properties
  and name, ``mlTrainingRunProperties`` (the MLflow run id and params, which stitch the two run
  records) and ``dataProcessInstanceInput``/``Output`` with their edge ``properties``, where the
  per-run Iceberg snapshot pin lives (``relationships`` carries no edge properties);
- GraphQL ``DataProcessInstance.state(limit: 1)``: the run's latest run event (a timeseries aspect,
  which ``entitiesV2`` does not return);
- GraphQL ``entity(urn) { relationships(input: {direction: INCOMING, includeSoftDelete: false}) }``:
  incoming edges, paged by page size: ``start`` advances by the ``count`` asked for, never by the
  items returned, because a page shortened by filtering (soft-deleted or unreadable entities) does
  not mean the end, and advancing by items returned would make the next page repeat items;
- ``GET /config``: the version the server reports; GraphQL ``me``: whether the token may read.
Reads are retried with backoff on 429 (honouring ``Retry-After``), 5xx and refused connections;
a timeout is not retried, so a silent server costs one ``request_timeout``. A server that lacks a
field or endpoint the console reads is named in one line. Configuration: ``DATAHUB_GMS_URL`` /
``DATAHUB_GMS_TOKEN`` via the settings, else ``~/.datahubenv``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from console.errors import ConsoleError
from console.lineage import aspects as asp
from console.lineage.model import LineageProblem
from console.safe_text import printable

PAGE = 100
MAX_PAGES = 20
RETRIES = 3  # attempts after the first, for 429, 5xx and refused connections
RETRY_STATUS = (429, 500, 502, 503, 504)
BACKOFF_S = 0.25  # doubled on each retry
MAX_RETRY_AFTER_S = 30.0  # a longer Retry-After is a failure now, not a hang
REST_CONCURRENCY = 8
EXPECTED_RELEASE = "1.7.0"

# the aspects GraphQL serves raw (``aspects`` field) per entity type; DataProcessInstance has none
GRAPHQL_ASPECT_TYPES = ("MLModel", "MLModelGroup", "Dataset", "DataJob")
# versioned aspects of a DataProcessInstance, read over REST
RUN_EVENT = "dataProcessInstanceRunEvent"  # timeseries: from GraphQL ``state``, not REST
DPI_ASPECTS = (
    *(a for a in asp.ASPECTS if a.startswith("dataProcessInstance") and a != RUN_EVENT),
    "mlTrainingRunProperties",
    "subTypes",
)


class GmsError(ConsoleError):
    """DataHub GMS could not answer."""


class GmsAuthError(GmsError):
    exit_code = 4


class GmsVersionError(GmsError):
    """The server lacks a GraphQL field or REST endpoint the console reads."""


@dataclass(frozen=True)
class GmsConfig:
    url: str
    token: str | None = None
    timeout: float = 10.0
    source: str = "settings"

    @property
    def root(self) -> str:
        return self.url.rstrip("/")

    @property
    def graphql_url(self) -> str:
        return self.root + "/api/graphql"


def read_datahubenv(path: Path | None = None) -> tuple[str | None, str | None]:
    """(server, token) from DataHub's CLI config (``gms: {server, token}``), if present."""
    path = path or Path.home() / ".datahubenv"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None, None
    import yaml

    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return None, None
    gms = doc.get("gms") if isinstance(doc, dict) else None
    if not isinstance(gms, dict):
        return None, None
    server, token = gms.get("server"), gms.get("token")
    return (str(server) if server else None, str(token) if token else None)


def gms_config(settings: Any, datahubenv: Path | None = None) -> GmsConfig | None:
    """GMS settings, or None for the embedded Lite store.

    ``DATAHUB_GMS_URL`` (or a profile) selects GMS; its token comes from ``DATAHUB_GMS_TOKEN``,
    else from ``~/.datahubenv`` when that file names the same server. Without a URL setting,
    ``~/.datahubenv`` is used only outside the embedded lifecycle (a configured tracking URI),
    so a developer's DataHub CLI login never hijacks the embedded console.
    """
    timeout = float(getattr(settings, "request_timeout", 10.0))
    url = getattr(settings, "datahub_gms_url", None)
    secret = getattr(settings, "datahub_gms_token", None)
    token = secret.get_secret_value() if secret is not None else None
    env_server, env_token = read_datahubenv(datahubenv)
    if url:
        if token is None and env_server and env_server.rstrip("/") == url.rstrip("/"):
            token = env_token
        return GmsConfig(url=url, token=token, timeout=timeout)
    if env_server and not getattr(settings, "embedded", True):
        return GmsConfig(url=env_server, token=env_token, timeout=timeout, source="~/.datahubenv")
    return None


# --- the GraphQL documents the console sends (tests validate each against DataHub's schema) ---

_ENTITY_STATE = "exists status { removed }"
_RAW_ASPECTS = "aspects(input: {aspectNames: $aspects}) { aspectName payload }"


def _entities_query() -> str:
    typed = "\n    ".join(
        f"... on {kind} {{ {_ENTITY_STATE} {_RAW_ASPECTS} }}" for kind in GRAPHQL_ASPECT_TYPES
    )
    run = (
        f"... on DataProcessInstance {{ {_ENTITY_STATE} "
        "state(limit: 1) { status timestampMillis } }"
    )
    return (
        "query consoleLineageEntities($urns: [String!]!, $aspects: [String!]) {\n"
        "  entities(urns: $urns) {\n"
        "    urn\n"
        "    type\n"
        f"    {typed}\n"
        f"    {run}\n"
        "  }\n"
        "}"
    )


ENTITIES_QUERY = _entities_query()

INCOMING_QUERY = """query consoleLineageIncoming(
  $urn: String!, $types: [String!]!, $start: Int!, $count: Int!
) {
  entity(urn: $urn) {
    urn
    relationships(
      input: {
        types: $types
        direction: INCOMING
        start: $start
        count: $count
        includeSoftDelete: false
      }
    ) {
      start
      count
      total
      relationships { type entity { urn } }
    }
  }
}"""

ME_QUERY = """query consoleWhoAmI {
  me { corpUser { urn username } }
}"""

EXISTS_QUERY = """query consoleEntitiesExist($urns: [String!]!) {
  entities(urns: $urns) {
    urn
    type
    ... on MLModel { exists status { removed } }
    ... on MLModelGroup { exists status { removed } }
    ... on DataProcessInstance { exists status { removed } }
  }
}"""

# every GraphQL document the console can send, for the schema test
DOCUMENTS = {
    "entities": ENTITIES_QUERY,
    "incoming": INCOMING_QUERY,
    "me": ME_QUERY,
    "exists": EXISTS_QUERY,
}


def entity_path(urn: str) -> str:
    """``/entitiesV2/{urn}`` with the URN encoded as DataHub's client does (``Urn.url_encode``)."""
    return f"/entitiesV2/{quote(urn, safe='')}"


def entities_v2_path(urn: str, aspects: Sequence[str]) -> str:
    return f"{entity_path(urn)}?aspects=List({','.join(aspects)})"


_LACKS = (
    # graphql-java (GMS): Field 'aspects' in type 'DataProcessInstance' is undefined
    re.compile(r"Field '(?P<field>[^']+)' in type '(?P<type>[^']+)' is undefined"),
    # graphql-js / graphql-core wording
    re.compile(r"Cannot query field '(?P<field>[^']+)' on type '(?P<type>[^']+)'"),
    re.compile(r"Unknown argument '(?P<field>[^']+)' on field '(?P<type>[^']+)'"),
    re.compile(r"field not in '(?P<type>[^']+)': '(?P<field>[^']+)'"),
    re.compile(r"Field '(?P<field>[^']+)' is not defined by type '(?P<type>[^']+)'"),
)


def missing_field(errors: list[dict]) -> str | None:
    """``Type.field`` a GraphQL validation error says the server lacks, if it says so."""
    for error in errors:
        message = str(error.get("message", ""))
        for pattern in _LACKS:
            found = pattern.search(message)
            if found:
                return f"{found['type'].strip(chr(34))}.{found['field']}"
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_restli_not_found(response: Any) -> bool:
    """A 404 from a Rest.li resource (the entity is absent), not a missing endpoint."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and (
        "exceptionClass" in body or (body.get("status") == 404 and "message" in body)
    )


class GmsSource:
    """A ``LineageSource`` over GMS. ``transport`` is for fault-injection tests."""

    kind: Literal["gms"] = "gms"

    def __init__(self, config: GmsConfig, *, transport: Any = None) -> None:
        from console.mlflow._httpx import httpx

        self.config = config
        self.location = config.url
        self._httpx = httpx
        headers = {"Accept": "application/json", "X-RestLi-Protocol-Version": "2.0.0"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._client = httpx.AsyncClient(
            headers=headers, timeout=config.timeout, transport=transport
        )
        self._problems: list[LineageProblem] = []
        self._rest = asyncio.Semaphore(REST_CONCURRENCY)

    async def aclose(self) -> None:
        await self._client.aclose()

    def take_problems(self) -> list[LineageProblem]:
        taken, self._problems = self._problems, []
        return taken

    # --- transport: retries, and every failure as one line ---

    async def request(self, method: str, path: str, *, body: Any = None) -> Any:
        """One idempotent read, retried on 429 / 5xx / refused connections with backoff."""
        httpx = self._httpx
        url = self.config.root + path
        what = re.sub(r"/urn(%3A|:).*$", "/{urn}", path.split("?", 1)[0])
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                response = await self._client.request(method, url, json=body)
            except httpx.TimeoutException:
                raise GmsError(
                    f"DataHub GMS at {self.config.url} did not answer {what} within "
                    f"{self.config.timeout:g} s",
                    hint="retry, or raise MLOPS_CONSOLE_REQUEST_TIMEOUT",
                ) from None
            except httpx.HTTPError as exc:
                if last:
                    raise GmsError(
                        f"cannot reach DataHub GMS at {self.config.url}: {type(exc).__name__}",
                        hint="check DATAHUB_GMS_URL and that GMS is running",
                    ) from None
                await asyncio.sleep(BACKOFF_S * 2**attempt)
                continue
            status = response.status_code
            if status in RETRY_STATUS and not last:
                wait = BACKOFF_S * 2**attempt
                if status == 429:
                    after = _retry_after(response.headers.get("Retry-After"))
                    if after is not None and after > MAX_RETRY_AFTER_S:
                        raise GmsError(
                            f"DataHub GMS at {self.config.url} is rate-limiting: retry after "
                            f"{after:.0f} s",
                            hint="wait, then retry",
                        )
                    wait = max(wait, after or 0.0)
                await asyncio.sleep(wait)
                continue
            return self._check(response, what, attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    async def write(self, path: str, body: Any) -> Any:
        """One POST that changes the server, never retried (running sync again is the retry)."""
        httpx = self._httpx
        try:
            response = await self._client.post(self.config.root + path, json=body)
        except httpx.TimeoutException:
            raise GmsError(
                f"DataHub GMS at {self.config.url} did not answer {path} within "
                f"{self.config.timeout:g} s",
                hint="retry, or raise MLOPS_CONSOLE_REQUEST_TIMEOUT",
            ) from None
        except httpx.HTTPError as exc:
            raise GmsError(
                f"cannot reach DataHub GMS at {self.config.url}: {type(exc).__name__}",
                hint="check DATAHUB_GMS_URL and that GMS is running",
            ) from None
        self._check(response, path, 1)
        if response.status_code >= 300:
            raise GmsError(
                f"DataHub GMS at {self.config.url} answered HTTP {response.status_code} to {path}"
            )
        return response

    def _check(self, response: Any, what: str, attempts: int) -> Any:
        status = response.status_code
        if status == 401:
            raise GmsAuthError(
                f"DataHub GMS at {self.config.url} refused the request (401 unauthorized)",
                hint="set DATAHUB_GMS_TOKEN to a valid personal access token",
            )
        if status == 403:
            raise GmsAuthError(
                f"DataHub GMS at {self.config.url} denied access (403 forbidden)",
                hint="the token's user needs the privilege to view lineage and entities",
            )
        if status == 429:
            raise GmsError(
                f"DataHub GMS at {self.config.url} is still rate-limiting after {attempts} "
                "attempts (HTTP 429)",
                hint="wait, then retry",
            )
        if status >= 500:
            raise GmsError(
                f"DataHub GMS at {self.config.url} answered HTTP {status} to {what} "
                f"{attempts} times",
                hint="GMS is failing: check its health, then retry",
            )
        if status == 404 and not _is_restli_not_found(response):
            raise GmsVersionError(
                f"DataHub GMS at {self.config.url} has no endpoint {what} (HTTP 404); the "
                f"console reads DataHub {EXPECTED_RELEASE}'s API",
                hint="check DATAHUB_GMS_URL points at GMS (…:8080 or …/api/gms) and its version",
            )
        return response

    async def graphql(self, query: str, variables: dict[str, Any]) -> tuple[Any, list[dict]]:
        """(data, errors) of one GraphQL request; raises when there is no data at all."""
        response = await self.request(
            "POST", "/api/graphql", body={"query": query, "variables": variables}
        )
        status = response.status_code
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if status >= 400 and not isinstance(doc, dict):
            raise GmsError(f"DataHub GMS answered HTTP {status} at {self.config.graphql_url}")
        if not isinstance(doc, dict):
            raise GmsError(f"DataHub GMS at {self.config.graphql_url} did not answer GraphQL JSON")
        errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
        data = doc.get("data")
        if data is None:
            lacking = missing_field(errors)
            if lacking:
                raise GmsVersionError(
                    f"DataHub GMS at {self.config.url} lacks GraphQL field {lacking}; the "
                    f"console reads DataHub {EXPECTED_RELEASE}'s schema",
                    hint="upgrade DataHub, or read lineage from the embedded store",
                )
            first = (
                printable(errors[0].get("message", "unknown error"), limit=300)
                if errors
                else f"HTTP {status}, no data"
            )
            raise GmsError(f"DataHub GMS GraphQL error: {first}", hint=_hint_for(errors))
        return data, errors

    async def rest_json(self, path: str) -> dict[str, Any] | None:
        """A REST document, or None when GMS says the entity is absent (Rest.li 404).

        At most ``REST_CONCURRENCY`` reads are in flight: a sync that compares hundreds of
        entities must not open hundreds of connections to one server at once.
        """
        async with self._rest:
            response = await self.request("GET", path)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise GmsError(f"DataHub GMS answered HTTP {response.status_code} at {path}")
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise GmsError(f"DataHub GMS at {self.config.url} did not answer JSON at {path}")
        return doc

    async def server_config(self) -> dict[str, Any]:
        """``GET /config``: what the server says about itself (version, features)."""
        return await self.rest_json("/config") or {}

    async def raw_aspects(self, urn: str, names: Sequence[str]) -> dict[str, Any] | None:
        """The latest value of each named versioned aspect (Rest.li JSON), None if absent."""
        doc = await self.rest_json(entities_v2_path(urn, names))
        if doc is None:
            return None
        found: dict[str, Any] = {}
        for name, envelope in (doc.get("aspects") or {}).items():
            if isinstance(envelope, dict) and isinstance(envelope.get("value"), dict):
                found[str(name)] = envelope["value"]
        return found

    def _partial(self, what: str, errors: list[dict]) -> None:
        if not errors:
            return
        messages = "; ".join(printable(e.get("message", "?"), limit=200) for e in errors[:3])
        self._problems.append(
            LineageProblem(
                kind="partial_result",
                severity="warning",
                message=f"DataHub answered {what} only in part: {messages}",
            )
        )

    # --- the LineageSource protocol ---

    async def fetch(self, urns: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not urns:
            return {}
        data, errors = await self.graphql(
            ENTITIES_QUERY, {"urns": list(urns), "aspects": list(asp.ASPECTS)}
        )
        self._partial("an entity read", errors)
        out: dict[str, dict[str, Any]] = {}
        runs: list[tuple[str, dict[str, Any]]] = []
        for item in (data or {}).get("entities") or []:
            if not isinstance(item, dict) or not isinstance(item.get("urn"), str):
                continue
            urn = item["urn"]
            if (item.get("status") or {}).get("removed") is True:
                self._problems.append(
                    LineageProblem(
                        kind="soft_deleted",
                        severity="info",
                        message=f"{urn} is soft-deleted in DataHub; left out",
                        node=urn,
                    )
                )
                continue
            if item.get("exists") is False:
                continue
            if item.get("type") == "DATA_PROCESS_INSTANCE":
                runs.append((urn, item))
                continue
            found = _aspects_from(item)
            out[urn] = found or {"_exists": {}}
        fetched = await asyncio.gather(*(self.raw_aspects(u, DPI_ASPECTS) for u, _ in runs))
        for (urn, item), found in zip(runs, fetched, strict=True):
            found = dict(found or {})
            state = [s for s in item.get("state") or [] if isinstance(s, dict)]
            if state and state[0].get("status"):
                found[RUN_EVENT] = {
                    "status": state[0]["status"],
                    "timestampMillis": state[0].get("timestampMillis"),
                }
            out[urn] = found or {"_exists": {}}
        return out

    async def incoming(self, urn: str, relationships: Sequence[str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for page in range(MAX_PAGES):
            start = page * PAGE
            data, errors = await self.graphql(
                INCOMING_QUERY,
                {"urn": urn, "types": list(relationships), "start": start, "count": PAGE},
            )
            self._partial(f"incoming edges of {urn}", errors)
            result = ((data or {}).get("entity") or {}).get("relationships") or {}
            for item in result.get("relationships") or []:
                entity = (item or {}).get("entity") or {}
                if isinstance(entity.get("urn"), str):
                    pair = (entity["urn"], str(item.get("type", relationships[0])))
                    if pair not in out:
                        out.append(pair)
            total = result.get("total")
            if not isinstance(total, int) or start + PAGE >= total:
                return out
        self._problems.append(
            LineageProblem(
                kind="partial_result",
                severity="warning",
                message=f"{urn}: more than {PAGE * MAX_PAGES} incoming edges; showing the first",
            )
        )
        return out


def _hint_for(errors: list[dict]) -> str | None:
    text = json.dumps(errors)[:2000].lower()
    if "unauthorized" in text or "forbidden" in text:
        return "check DATAHUB_GMS_TOKEN and the user's privileges"
    if "validation" in text or "fieldundefined" in text:
        return (
            f"the GMS version may differ from DataHub {EXPECTED_RELEASE}, which the console reads"
        )
    return None


def _aspects_from(item: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for raw in item.get("aspects") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("aspectName"), str):
            continue
        try:
            payload = json.loads(raw.get("payload") or "{}")
        except ValueError:
            continue
        if isinstance(payload, dict):
            found[raw["aspectName"]] = payload
    return found

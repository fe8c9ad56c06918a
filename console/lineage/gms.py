"""Reading lineage from a DataHub GMS over GraphQL (``POST {gms}/api/graphql``) with httpx.

Entities are read as raw aspects (``aspects(input: {aspectNames})`` → ``RawAspect.payload``, the
same JSON Lite stores), so one mapping serves both backends; incoming edges come from
``relationships(input: {direction: INCOMING})``, paged with ``start``/``count``/``total``.
Servers whose ``DataProcessInstance`` has no ``aspects`` field are read through ``relationships``
instead (edge properties, and so the snapshot pin, are then unavailable). Configuration:
``DATAHUB_GMS_URL`` / ``DATAHUB_GMS_TOKEN`` via the settings, else ``~/.datahubenv``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from console.errors import ConsoleError
from console.lineage import aspects as asp
from console.lineage.model import LineageProblem
from console.safe_text import printable

PAGE = 100
MAX_PAGES = 20
_TYPED = ("MLModel", "MLModelGroup", "Dataset", "DataJob", "DataProcessInstance")


class GmsError(ConsoleError):
    """DataHub GMS could not answer."""


class GmsAuthError(GmsError):
    exit_code = 4


@dataclass(frozen=True)
class GmsConfig:
    url: str
    token: str | None = None
    timeout: float = 10.0
    source: str = "settings"

    @property
    def graphql_url(self) -> str:
        return self.url.rstrip("/") + "/api/graphql"


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


def _aspects_fragment(kind: str) -> str:
    return f"... on {kind} {{ aspects(input: {{aspectNames: $aspects}}) {{ aspectName payload }} }}"


_DPI_FALLBACK = (
    "... on DataProcessInstance { out: relationships(input: {types: $outTypes, "
    "direction: OUTGOING, start: 0, count: 100}) { total relationships { type entity { urn } } } }"
)
_OUT_TYPES = [
    "DataProcessInstanceConsumes",
    "Consumes",
    "DataProcessInstanceProduces",
    "Produces",
    "InstanceOf",
]


def fetch_query(*, dpi_aspects: bool = True) -> str:
    kinds = _TYPED if dpi_aspects else _TYPED[:-1]
    parts = [_aspects_fragment(k) for k in kinds]
    variables = "$urns: [String!]!, $aspects: [String!]"
    if not dpi_aspects:
        parts.append(_DPI_FALLBACK)
        variables += ", $outTypes: [String!]!"
    body = "\n    ".join(parts)
    head = f"query lineageEntities({variables}) {{\n  entities(urns: $urns) {{\n"
    return f"{head}    urn\n    type\n    {body}\n  }}\n}}"


INCOMING_QUERY = """query lineageIncoming(
  $urn: String!, $types: [String!]!, $start: Int!, $count: Int!
) {
  entity(urn: $urn) {
    urn
    relationships(input: {types: $types, direction: INCOMING, start: $start, count: $count}) {
      start
      count
      total
      relationships { type direction entity { urn type } }
    }
  }
}"""


class GmsSource:
    """A ``LineageSource`` over GraphQL. ``transport`` is for tests (``httpx.MockTransport``)."""

    kind: Literal["gms"] = "gms"

    def __init__(self, config: GmsConfig, *, transport: Any = None) -> None:
        from console.mlflow._httpx import httpx

        self.config = config
        self.location = config.url
        self._httpx = httpx
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._client = httpx.AsyncClient(
            headers=headers, timeout=config.timeout, transport=transport
        )
        self._dpi_aspects = True
        self._problems: list[LineageProblem] = []

    async def aclose(self) -> None:
        await self._client.aclose()

    def take_problems(self) -> list[LineageProblem]:
        taken, self._problems = self._problems, []
        return taken

    async def graphql(self, query: str, variables: dict[str, Any]) -> tuple[Any, list[dict]]:
        """(data, errors) of one GraphQL request; raises when there is no data at all."""
        httpx = self._httpx
        body = {"query": query, "variables": variables}
        response = None
        for attempt in range(2):  # a read is idempotent: one retry on a flaky network or 5xx
            try:
                response = await self._client.post(self.config.graphql_url, json=body)
            except httpx.TimeoutException:
                if attempt:
                    raise GmsError(
                        f"DataHub GMS at {self.config.url} did not answer within "
                        f"{self.config.timeout:g} s",
                        hint="retry, or raise MLOPS_CONSOLE_REQUEST_TIMEOUT",
                    ) from None
                continue
            except httpx.HTTPError as exc:
                if attempt:
                    raise GmsError(
                        f"cannot reach DataHub GMS at {self.config.url}: {type(exc).__name__}",
                        hint="check DATAHUB_GMS_URL and that GMS is running",
                    ) from None
                continue
            if response.status_code in (502, 503, 504) and not attempt:
                await asyncio.sleep(0.2)
                continue
            break
        assert response is not None
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
            first = (
                printable(errors[0].get("message", "unknown error"), limit=300)
                if errors
                else (f"HTTP {status}, no data")
            )
            raise GmsError(f"DataHub GMS GraphQL error: {first}", hint=_hint_for(errors))
        return data, errors

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

    async def fetch(self, urns: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not urns:
            return {}
        variables: dict[str, Any] = {"urns": list(urns), "aspects": list(asp.ASPECTS)}
        if self._dpi_aspects:
            try:
                data, errors = await self.graphql(fetch_query(), variables)
            except GmsError as exc:
                if "DataProcessInstance" not in str(exc) or "aspects" not in str(exc):
                    raise
                self._dpi_aspects = False  # an older server: read runs via relationships
        if not self._dpi_aspects:
            data, errors = await self.graphql(
                fetch_query(dpi_aspects=False), {**variables, "outTypes": _OUT_TYPES}
            )
        self._partial("an entity read", errors)
        out: dict[str, dict[str, Any]] = {}
        for item in (data or {}).get("entities") or []:
            if not isinstance(item, dict) or not isinstance(item.get("urn"), str):
                continue
            found = _aspects_from(item)
            if found:
                out[item["urn"]] = found
        return out

    async def incoming(self, urn: str, relationships: Sequence[str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        start = 0
        for _ in range(MAX_PAGES):
            data, errors = await self.graphql(
                INCOMING_QUERY,
                {"urn": urn, "types": list(relationships), "start": start, "count": PAGE},
            )
            self._partial(f"incoming edges of {urn}", errors)
            result = ((data or {}).get("entity") or {}).get("relationships") or {}
            items = result.get("relationships") or []
            for item in items:
                entity = (item or {}).get("entity") or {}
                if isinstance(entity.get("urn"), str):
                    pair = (entity["urn"], str(item.get("type", relationships[0])))
                    if pair not in out:
                        out.append(pair)
            total = result.get("total")
            start += len(items)
            if not items or not isinstance(total, int) or start >= total:
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
        return "the GMS version may be older than this console expects"
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
    out_rel = item.get("out")
    if isinstance(out_rel, dict):
        found.update(_dpi_aspects_from_relationships(out_rel.get("relationships") or []))
    return found


def _dpi_aspects_from_relationships(items: list[Any]) -> dict[str, Any]:
    """Rebuild the DPI aspects the traversal reads from ``relationships`` (no edge properties)."""
    inputs, outputs, parent = [], [], None
    for item in items:
        target = ((item or {}).get("entity") or {}).get("urn")
        kind = asp.family(str((item or {}).get("type", "")))
        if not isinstance(target, str):
            continue
        if kind == "Consumes":
            inputs.append(target)
        elif kind == "Produces":
            outputs.append(target)
        elif kind == "InstanceOf":
            parent = target
    found: dict[str, Any] = {}
    if inputs:
        found["dataProcessInstanceInput"] = {"inputs": inputs}
    if outputs:
        found["dataProcessInstanceOutput"] = {"outputs": outputs}
    if parent:
        found["dataProcessInstanceRelationships"] = {"parentTemplate": parent}
    if items:
        found.setdefault("_exists", {})
    return found

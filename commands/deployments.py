"""What is deployed: every embedded deployment of the home and every production endpoint of the
profile, with health, served version, the alias's version, sync, requests, errors and latency.

``list_deployments(settings)`` is what ``mlops-console deployments`` and the TUI's deployments
view call (from a worker thread: it makes HTTP calls). Protocols: ``mlops`` (this console's
service: ``/ping``, ``/version``, ``/metrics``), ``mlflow`` (MLflow's scoring server: ``/ping``
only — the served version is what the profile declares), ``v2`` (KServe/MLServer V2:
``/v2/health/ready`` and ``/v2/models/<name>``). Nothing here starts or changes anything except
the embedded MLflow server, started if needed to read aliases.
"""

from __future__ import annotations

import asyncio
from typing import Any

from commands import deploy_records as records
from commands.deploy import record_state
from commands.serve.metrics import summarize
from console.deployment_model import DeploymentStatus, ProductionEndpoint
from console.safe_text import printable

PROBE_TIMEOUT = 3.0


def _text(value: Any, limit: int = 40) -> str | None:
    return None if value is None else printable(str(value), limit=limit)


async def _get(http: Any, url: str) -> tuple[int | None, Any]:
    """(status, JSON or text) of a GET; (None, reason) when it fails."""
    import httpx

    try:
        response = await http.get(url)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None
    return response.status_code, response.text[:200_000]


async def _probe_mlops(http: Any, row: DeploymentStatus) -> None:
    (ping, _), (vstatus, version), (mstatus, metrics) = await asyncio.gather(
        _get(http, f"{row.url}/ping"),
        _get(http, f"{row.url}/version"),
        _get(http, f"{row.url}/metrics"),
    )
    row.healthy = ping == 200 and vstatus == 200 and isinstance(version, dict)
    if isinstance(version, dict):
        row.served_version = _text(version.get("version"))
    if mstatus == 200 and isinstance(metrics, str):
        found = summarize(metrics)
        if found is not None:
            row.requests, row.errors = found.requests, found.errors
            row.error_rate = found.error_rate
            row.latency_p50_ms, row.latency_p95_ms = found.p50_ms, found.p95_ms
    if not row.healthy and not row.detail:
        row.detail = f"not answering at {row.url} (ping: {ping or 'no answer'})"


async def _probe_mlflow(http: Any, row: DeploymentStatus, endpoint: ProductionEndpoint) -> None:
    status, _ = await _get(http, f"{row.url}/ping")
    row.healthy = status == 200
    row.served_version = endpoint.version
    row.detail = "MLflow scoring server: served version as declared in the profile; no metrics"
    if not row.healthy:
        row.detail = f"/ping answered {status or 'nothing'}"


async def _probe_v2(http: Any, row: DeploymentStatus, endpoint: ProductionEndpoint) -> None:
    served_name = endpoint.served_name or endpoint.model
    (ready, _), (mstatus, meta) = await asyncio.gather(
        _get(http, f"{row.url}/v2/health/ready"),
        _get(http, f"{row.url}/v2/models/{served_name}"),
    )
    row.healthy = ready == 200 and mstatus == 200
    versions = meta.get("versions") if isinstance(meta, dict) else None
    if endpoint.version:
        row.served_version = endpoint.version
    elif isinstance(versions, list) and len(versions) == 1:
        row.served_version = _text(versions[0])
    row.detail = "V2 protocol: no metrics read (MLServer exposes them on its own port)"
    if not row.healthy:
        row.detail = f"/v2/health/ready: {ready or 'no answer'}; model metadata: {mstatus}"


def _embedded_rows(settings: Any) -> list[tuple[DeploymentStatus, bool]]:
    """A status row per record, and whether its service should be probed."""
    out = []
    for path, record in records.all_records(settings.home):
        if record is None:
            row = DeploymentStatus(
                name=path.stem,
                kind="embedded",
                url="",
                protocol="mlops",
                model="",
                alias="",
                state="stale",
                detail=f"unreadable record {path}; `deploy stop {path.stem}` removes it",
            )
            out.append((row, False))
            continue
        state, detail = record_state(path, record)
        row = DeploymentStatus(
            name=record.name,
            kind="embedded",
            url=record.url,
            protocol="mlops",
            model=record.model,
            alias=record.alias,
            state=state,  # type: ignore[arg-type]
            pid=record.pid or None,
            restarts=record.restarts,
            detail=detail,
        )
        out.append((row, state in ("running", "starting", "restarting", "orphaned")))
    return out


async def gather_deployments(settings: Any, client: Any = None) -> list[DeploymentStatus]:
    """Every deployment's status; ``client`` reads alias versions (one is opened if None)."""
    import httpx

    rows = _embedded_rows(settings)
    production: dict[str, ProductionEndpoint] = dict(settings.deployments)
    for name, endpoint in production.items():
        row = DeploymentStatus(
            name=name,
            kind="production",
            url=endpoint.url,
            protocol=endpoint.protocol,
            model=endpoint.model,
            alias=endpoint.alias,
            state="running",
        )
        rows.append((row, True))
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as http:

        async def probe(row: DeploymentStatus) -> None:
            if row.protocol == "mlops":
                await _probe_mlops(http, row)
            elif row.protocol == "mlflow":
                await _probe_mlflow(http, row, production[row.name])
            else:
                await _probe_v2(http, row, production[row.name])
            if row.kind == "production" and not row.healthy:
                row.state = "unreachable"

        await asyncio.gather(*(probe(row) for row, wanted in rows if wanted))
    statuses = [row for row, _ in rows]
    await _alias_versions(settings, client, statuses)
    for row in statuses:
        if row.served_version is not None and row.alias_version is not None:
            row.in_sync = row.served_version == row.alias_version
    return statuses


async def _alias_versions(settings: Any, client: Any, rows: list[DeploymentStatus]) -> None:
    from console.mlflow.errors import MlflowError

    wanted = {(r.model, r.alias) for r in rows if r.model and r.alias}
    if not wanted:
        return
    owned = None
    if client is None:
        from console.connection import resolve_tracking_uri
        from console.errors import ConsoleError
        from console.mlflow.client import MlflowRestClient

        try:
            uri = resolve_tracking_uri(settings)
        except ConsoleError as exc:
            for row in rows:
                row.detail = (row.detail + "; " if row.detail else "") + f"alias unknown: {exc}"
            return
        client = owned = MlflowRestClient.from_settings(settings, tracking_uri=uri)
    found: dict[tuple[str, str], str | None] = {}
    problems: dict[tuple[str, str], str] = {}

    async def one(key: tuple[str, str]) -> None:
        try:
            found[key] = str((await client.get_model_version_by_alias(*key)).version)
        except MlflowError as exc:
            found[key] = None
            problems[key] = str(exc)[:200]

    try:
        await asyncio.gather(*(one(k) for k in sorted(wanted)))
    finally:
        if owned is not None:
            await owned.aclose()
    for row in rows:
        key = (row.model, row.alias)
        row.alias_version = found.get(key)
        if key in problems:
            note = f"alias {row.alias} unknown: {problems[key]}"
            row.detail = f"{row.detail}; {note}" if row.detail else note


def list_deployments(settings: Any, client: Any = None) -> list[DeploymentStatus]:
    """Synchronous ``gather_deployments`` (for the CLI, and the TUI's worker threads)."""
    return asyncio.run(gather_deployments(settings, client))

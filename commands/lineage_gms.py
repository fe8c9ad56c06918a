"""``lineage sync`` into DataHub GMS: OpenLineage events and DataHub's MLflow source, changes only.

- OpenLineage: each event of the JSONL log is POSTed once to DataHub's OpenLineage endpoint
  (``/openapi/openlineage/api/v1/lineage``); what each server has acknowledged is kept in
  ``datahub/gms-sent.json`` under the home, so a second sync sends nothing. DataHub's endpoint
  keeps only the latest version of a dataset, so the per-run snapshot pin is also written where
  the reader finds it: the run's ``dataProcessInstanceInput`` with the pin on the input edge (the
  same aspect the Lite sync writes), only when GMS holds a different value.
- MLflow: DataHub's MLflow source, its MCPs compared with what GMS holds (``/entitiesV2``, values
  normalised through DataHub's aspect classes; the run event through GraphQL ``state``) and only
  the differing ones emitted with DataHub's own ``DataHubRestEmitter`` (``ingestProposalBatch``).
Every request is bounded by ``request_timeout``; the emitter does not retry (a write is retried by
running sync again). Imports datahub and mlflow: run it in a CLI process, not in the TUI's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from commands.driver import Driver
from console.errors import ConsoleError
from console.lineage.gms import GmsConfig, GmsSource, entities_v2_path

OPENLINEAGE_PATH = "/openapi/openlineage/api/v1/lineage"
RUN_EVENT = "dataProcessInstanceRunEvent"
STATE_QUERY = """query consoleRunState($urns: [String!]!) {
  entities(urns: $urns) {
    urn
    ... on DataProcessInstance { state(limit: 1) { status timestampMillis } }
  }
}"""
DOCUMENTS = {"run_state": STATE_QUERY}


def event_key(event: dict[str, Any]) -> str:
    text = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class SentLedger:
    """Which events each GMS acknowledged (``{url: [sha256, ...]}``), kept beside the Lite store."""

    def __init__(self, path: Path, url: str) -> None:
        self.path, self.url = path, url.rstrip("/")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = {}
        self.doc: dict[str, list[str]] = doc if isinstance(doc, dict) else {}
        self.sent = set(self.doc.get(self.url) or [])

    def add(self, key: str) -> None:
        self.sent.add(key)
        self.doc[self.url] = sorted(self.sent)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.doc), encoding="utf-8")
        tmp.replace(self.path)


def _normalised(name: str, value: Any) -> Any:
    """A Rest.li aspect value as DataHub's class reads it (defaults filled, unions tagged)."""
    from datahub.emitter.serialization_helper import post_json_transform
    from datahub.metadata.schema_classes import ASPECT_NAME_MAP

    cls = ASPECT_NAME_MAP.get(name)
    if cls is None:
        return value
    try:
        return cls.from_obj(post_json_transform(value)).to_obj()
    except Exception:  # noqa: BLE001 - an unreadable stored value is a changed value
        return None


async def _changed(source: GmsSource, mcps: list[Any]) -> list[Any]:
    """The MCPs whose aspect differs from what GMS holds (last MCP per entity and aspect)."""
    last: dict[tuple[str, str], Any] = {}
    for mcp in mcps:
        last[(mcp.entityUrn, mcp.aspectName)] = mcp
    by_urn: dict[str, list[Any]] = {}
    for (urn, _), mcp in last.items():
        by_urn.setdefault(urn, []).append(mcp)
    urns = list(by_urn)

    async def stored(urn: str) -> dict[str, Any]:
        names = sorted({m.aspectName for m in by_urn[urn] if m.aspectName != RUN_EVENT})
        if not names:
            return {}
        doc = await source.rest_json(entities_v2_path(urn, names))
        aspects = (doc or {}).get("aspects") or {}
        return {n: (a or {}).get("value") for n, a in aspects.items() if isinstance(a, dict)}

    held = dict(zip(urns, await asyncio.gather(*(stored(u) for u in urns)), strict=True))
    runs = [u for u in urns if any(m.aspectName == RUN_EVENT for m in by_urn[u])]
    states: dict[str, tuple[Any, Any]] = {}
    if runs:
        data, _ = await source.graphql(STATE_QUERY, {"urns": runs})
        for item in (data or {}).get("entities") or []:
            latest = ((item or {}).get("state") or [None])[0] or {}
            states[item["urn"]] = (latest.get("status"), latest.get("timestampMillis"))
    out = []
    for (urn, name), mcp in last.items():
        if name == RUN_EVENT:
            if states.get(urn) != (mcp.aspect.status, mcp.aspect.timestampMillis):
                out.append(mcp)
        elif _normalised(name, held[urn].get(name)) != mcp.aspect.to_obj():
            out.append(mcp)
    return out


def _emitter(config: GmsConfig):
    from datahub.emitter.rest_emitter import DataHubRestEmitter

    return DataHubRestEmitter(
        gms_server=config.root,
        token=config.token,
        connect_timeout_sec=config.timeout,
        read_timeout_sec=config.timeout,
        retry_max_times=0,
        openapi_ingestion=False,
    )


def emit(config: GmsConfig, mcps: list[Any]) -> None:
    """Write MCPs with DataHub's own REST emitter; its failures become one line."""
    if not mcps:
        return
    emitter = _emitter(config)
    try:
        emitter.emit_mcps(mcps)
    except Exception as exc:  # noqa: BLE001 - the emitter raises requests' and its own errors
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ConsoleError(
            f"DataHub GMS at {config.url} refused the lineage write: {type(exc).__name__}"
            + (f": {detail}" if detail else ""),
            hint="check DATAHUB_GMS_URL, the token's write privileges and GMS's health",
        ) from None
    finally:
        emitter.close()


def pin_mcps(events: list[dict[str, Any]]) -> list[Any]:
    """The run input aspects (snapshot pinned on the edge) of the latest event of each run."""
    from commands.lineage_emit import mcps_for_event
    from commands.lineage_sync import latest_per_run

    return [
        m
        for event in latest_per_run(events)
        for m in mcps_for_event(event)
        if m.aspectName == "dataProcessInstanceInput"
    ]


async def _sync_events(config: GmsConfig, events: list[dict[str, Any]], ledger: SentLedger):
    source = GmsSource(config)
    try:
        sent = 0
        for event in events:
            key = event_key(event)
            if key in ledger.sent:
                continue
            await source.write(OPENLINEAGE_PATH, event)
            ledger.add(key)
            sent += 1
        changed = await _changed(source, pin_mcps(events))
    finally:
        await source.aclose()
    return sent, changed


async def _changed_mlflow(config: GmsConfig, mcps: list[Any]) -> list[Any]:
    source = GmsSource(config)
    try:
        return await _changed(source, mcps)
    finally:
        await source.aclose()


def sync_gms(
    settings: Any,
    driver: Driver,
    config: GmsConfig,
    report: Any,
    *,
    skip_mlflow: bool,
    tracking_uri: str | None,
) -> Any:
    """Fill ``report`` (a ``SyncReport``) while syncing the event log and MLflow into GMS."""
    from commands.lineage_emit import read_events
    from commands.lineage_sync import mlflow_mcps
    from console.embedded.lifecycle import EmbeddedPaths

    paths = EmbeddedPaths.for_home(settings.home)
    events_path = paths.openlineage_events
    events = list(read_events(events_path)) if events_path.exists() else []
    if not events_path.exists():
        report.warnings.append(f"no OpenLineage event log at {events_path}")
    ledger = SentLedger(paths.datahub_lite_db.parent / "gms-sent.json", config.url)
    driver.progress(f"sending OpenLineage events to DataHub GMS at {config.url}")
    sent, pins = asyncio.run(_sync_events(config, events, ledger))
    emit(config, pins)
    report.events_read = len(events)
    report.runs_in_log = len({str((e.get("run") or {}).get("runId")) for e in events})
    report.events_sent, report.event_changes = sent, len(pins)
    if skip_mlflow:
        report.mlflow_skipped = True
        return report
    if tracking_uri is None:
        from console.connection import resolve_tracking_uri

        tracking_uri = resolve_tracking_uri(settings, progress=driver.progress)
    report.tracking_uri = tracking_uri
    driver.progress(f"reading MLflow at {tracking_uri} with DataHub's MLflow source")
    mcps, notes = mlflow_mcps(tracking_uri, timeout=config.timeout)
    changed = asyncio.run(_changed_mlflow(config, mcps))
    driver.progress(f"writing {len(changed)} changed aspect(s) to DataHub GMS")
    emit(config, changed)
    report.mlflow_changes = len(changed)
    report.warnings += notes
    for note in notes:
        driver.warn(note)
    return report

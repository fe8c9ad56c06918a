"""``lineage sync``: bring the embedded DataHub Lite store up to date, idempotently.

Two inputs: the OpenLineage JSONL event log, mapped to MCPs by ``commands.lineage_emit`` (the
demo's mapping), and DataHub's MLflow ingestion source. Events are collapsed to the latest per run
before mapping (START and COMPLETE map to different aspect values, so replaying both would rewrite
each run twice); then only aspects that differ from the store are written, through DataHub's own
Lite writer: a second sync writes nothing. With a DataHub GMS configured the same sync goes to
the server instead (``commands.lineage_gms``). MLflow's client is bounded by ``request_timeout``
(no retries). Imports datahub and mlflow: run it in a CLI process
or a subprocess, not in the TUI's process.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from commands.driver import Driver
from console.errors import ConsoleError, ReadOnlyError

_TERMINAL = {"COMPLETE": 3, "FAIL": 3, "ABORT": 3, "RUNNING": 1, "START": 0}


class SyncReport(BaseModel):
    store: str  # the Lite file, or the GMS URL
    target: Literal["lite", "gms"] = "lite"
    events_path: str
    events_read: int = 0
    events_sent: int = 0  # GMS: events POSTed to its OpenLineage endpoint
    runs_in_log: int = 0
    event_changes: int = 0
    mlflow_changes: int = 0
    mlflow_skipped: bool = False
    tracking_uri: str | None = None
    warnings: list[str] = Field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.event_changes + self.mlflow_changes

    def as_dict(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "changes": self.changes}


def latest_per_run(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last event of each run, a terminal one (COMPLETE/FAIL/ABORT) beating START."""
    best: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for index, event in enumerate(events):
        run_id = str((event.get("run") or {}).get("runId", ""))
        rank = _TERMINAL.get(str(event.get("eventType", "")).upper(), 1)
        current = best.get(run_id)
        if current is None or (rank, index) >= (current[0], current[1]):
            best[run_id] = (rank, index, event)
    return [item[2] for item in sorted(best.values(), key=lambda item: item[1])]


def _stored(db: Path) -> dict[tuple[str, str], Any]:
    """Latest value of every aspect in the store ({} for a store that does not exist yet)."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT urn, aspect_name, metadata FROM metadata_aspect_v2 WHERE version = 0"
        ).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        conn.close()
    return {(urn, name): json.loads(metadata) for urn, name, metadata in rows}


def write_changed(db: Path, mcps: list[Any]) -> int:
    """Write the MCPs whose aspect differs from the store; return how many were written.

    The last MCP per (entity, aspect) wins: DataHub's MLflow source rewrites the dataset reference
    shared by several runs once per run within one pass, and replaying that through the Lite sink
    would add versions on every sync.
    """
    from commands.lineage_emit import write_mcps

    last: dict[tuple[str, str], Any] = {}
    for mcp in mcps:
        last[(mcp.entityUrn, mcp.aspectName)] = mcp
    stored = _stored(db)
    changed = [
        mcp
        for key, mcp in last.items()
        if stored.get(key) != mcp.to_obj(simplified_structure=True)["aspect"]["json"]
    ]
    if changed:
        write_mcps(db, changed)
    return len(changed)


def sync_events(events_path: Path, db: Path) -> tuple[int, int, int]:
    """(events read, runs, aspects written) for the JSONL log into the Lite store."""
    from commands.lineage_emit import mcps_for_event, read_events

    if not events_path.exists():
        return 0, 0, 0
    events = list(read_events(events_path))
    latest = latest_per_run(events)
    written = write_changed(db, [m for event in latest for m in mcps_for_event(event)])
    return len(events), len(latest), written


@contextmanager
def bounded_mlflow_client(timeout: float) -> Iterator[None]:
    """MLflow's client (inside DataHub's source) with one request timeout and no retries.

    By default it waits 120 s per request and retries 7 times with exponential backoff, so a
    silent server held ``lineage sync`` for many minutes; the console's own ``request_timeout``
    bounds it instead. The variables are restored afterwards (tests run sync in-process).
    """
    wanted = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, math.ceil(timeout))),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    }
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def mlflow_mcps(tracking_uri: str, *, timeout: float = 10.0) -> tuple[list[Any], list[str]]:
    """Everything DataHub's MLflow source emits for the server, as MCPs; and its failures.

    The source runs on its own rather than in a ``Pipeline`` with the ``datahub-lite`` sink: the
    sink cannot skip unchanged aspects across a pass, and the stock pipeline asks pypi.org and
    GitHub for the latest CLI version on every run (the console contacts no other hosts).
    """
    os.environ.setdefault("DATAHUB_TELEMETRY_ENABLED", "false")
    with bounded_mlflow_client(timeout):
        return _mlflow_mcps(tracking_uri)


def _mlflow_mcps(tracking_uri: str) -> tuple[list[Any], list[str]]:
    from datahub.emitter.mcp import MetadataChangeProposalWrapper
    from datahub.emitter.mcp_builder import mcps_from_mce
    from datahub.ingestion.api.common import PipelineContext
    from datahub.ingestion.source.mlflow import MLflowSource
    from datahub.metadata.schema_classes import (
        MetadataChangeEventClass,
        MetadataChangeProposalClass,
    )

    class TolerantMLflowSource(MLflowSource):
        """DataHub's source, minus its crash on a dataset input logged without a schema.

        acryl-datahub 1.7 calls ``json.loads(None)`` on such an input and then writes a ``None``
        custom property, and either aborts the whole ingestion. An empty schema string takes its
        "unparseable schema" path instead: a warning, and the input is still linked.
        """

        def _get_dataset_input_workunits(self, run: Any) -> Any:
            for dataset_input in run.inputs.dataset_inputs if run.inputs else []:
                if dataset_input.dataset.schema is None:
                    dataset_input.dataset._schema = ""
            return super()._get_dataset_input_workunits(run)

    source = TolerantMLflowSource.create(
        {"tracking_uri": tracking_uri, "source_mapping_to_platform": {"iceberg": "iceberg"}},
        PipelineContext(run_id="mlops-console-lineage-sync"),
    )
    out: list[Any] = []
    try:
        for unit in source.get_workunits():
            item = unit.metadata
            if isinstance(item, MetadataChangeProposalWrapper):
                out.append(item)
            elif isinstance(item, MetadataChangeEventClass):
                out += list(mcps_from_mce(item))
            elif isinstance(item, MetadataChangeProposalClass):
                wrapped = MetadataChangeProposalWrapper.try_from_mcpc(item)
                if wrapped is not None:
                    out.append(wrapped)
    except Exception as exc:  # noqa: BLE001 - the source's own bugs become one line
        raise ConsoleError(
            f"DataHub's MLflow source failed against {tracking_uri}: {type(exc).__name__}: {exc}",
            hint="check the tracking server and its credentials (MLFLOW_TRACKING_*), then retry",
        ) from None
    finally:
        source.close()
    report = source.get_report()
    failures = [f"mlflow source: {f}" for f in list(report.failures)[:5]]
    return out, failures


def ingest_mlflow(tracking_uri: str, db: Path, *, timeout: float = 10.0) -> tuple[int, list[str]]:
    """DataHub's MLflow source into Lite; (aspects written, report failures)."""
    mcps, notes = mlflow_mcps(tracking_uri, timeout=timeout)
    db.parent.mkdir(parents=True, exist_ok=True)
    return write_changed(db, mcps), notes


def sync_lineage(
    settings: Any,
    driver: Driver,
    *,
    skip_mlflow: bool = False,
    tracking_uri: str | None = None,
) -> SyncReport:
    """Replay the event log and ingest MLflow into the embedded Lite store of ``settings.home``,
    or into DataHub GMS when one is configured (``commands.lineage_gms``)."""
    from console.embedded.lifecycle import EmbeddedPaths
    from console.lineage.gms import gms_config

    config = gms_config(settings)
    if settings.read_only:
        where = f"DataHub GMS at {config.url}" if config else "the DataHub Lite store"
        raise ReadOnlyError(f"sync lineage into {where}")
    if config is not None:
        from commands.lineage_gms import sync_gms

        report = SyncReport(
            store=config.url,
            target="gms",
            events_path=str(EmbeddedPaths.for_home(settings.home).openlineage_events),
        )
        return sync_gms(
            settings, driver, config, report, skip_mlflow=skip_mlflow, tracking_uri=tracking_uri
        )
    paths = EmbeddedPaths.for_home(settings.home)
    db, events_path = paths.datahub_lite_db, paths.openlineage_events
    report = SyncReport(store=str(db), events_path=str(events_path))
    driver.progress(f"replaying OpenLineage events from {events_path}")
    if not events_path.exists():
        report.warnings.append(f"no OpenLineage event log at {events_path}")
    read, runs, written = sync_events(events_path, db)
    report.events_read, report.runs_in_log, report.event_changes = read, runs, written
    if skip_mlflow:
        report.mlflow_skipped = True
        return report
    if tracking_uri is None:
        from console.connection import resolve_tracking_uri

        tracking_uri = resolve_tracking_uri(settings, progress=driver.progress)
    report.tracking_uri = tracking_uri
    driver.progress(f"ingesting MLflow at {tracking_uri} with DataHub's MLflow source")
    added, notes = ingest_mlflow(tracking_uri, db, timeout=float(settings.request_timeout))
    report.mlflow_changes = added
    report.warnings += notes
    for note in notes:
        driver.warn(note)
    return report

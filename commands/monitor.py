"""Monitoring of a deployed version: drift against its training snapshot, realized performance.

``run_monitor(settings, model, alias)`` starts ``commands.monitor_worker`` in its own process for
the heavy part (pandas, pyiceberg, scipy), which imports its libraries while this resolves the
alias's version and its provenance over REST (``data.iceberg.table`` /
``data.iceberg.snapshot_id``, the holdout metric it was registered with); then it sends the worker
its request and turns the result into a ``MonitorReport``, with "retrain suggested" and its
reasons when the profile's thresholds (``Settings.monitor_thresholds``) are crossed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from console.errors import ConsoleError
from console.monitor_model import SOURCES, DriftTest, FeatureDrift, MonitorReport, WindowPerformance

ROOT = Path(__file__).resolve().parents[1]
WORKER_MODULE = "commands.monitor_worker"


class MonitorError(ConsoleError):
    """Monitoring could not run."""


def _catalog_location(settings: Any, table: str | None) -> tuple[str, str | None, str | None]:
    """(catalog name, sqlite file, warehouse URI) of the table's catalog (embedded when known)."""
    from console.iceberg import SnapshotReader, split_table

    reader = SnapshotReader.from_settings(settings)
    catalog = split_table(table, reader.default_catalog)[0] if table else reader.default_catalog
    db = reader.sqlite_catalogs.get(catalog)
    if db is None:
        return catalog, None, None
    sibling = db.parent / "warehouse"
    return catalog, str(db), sibling.as_uri() if sibling.exists() else None


async def start_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    """The worker process, waiting for its request on stdin (it imports its libraries first)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER_MODULE,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        limit=2**24,
    )


async def stop_worker(proc: asyncio.subprocess.Process) -> None:
    """Kill the worker's process group (when it is still running) and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()


async def run_worker(
    request: dict[str, Any],
    env: dict[str, str],
    limit_s: float,
    proc: asyncio.subprocess.Process | None = None,
) -> dict:
    """The worker's result document; MonitorError on failure or timeout (the child is killed).

    ``proc``: a worker already started (``start_worker``); otherwise one is started here.
    """
    proc = proc or await start_worker(env)
    try:
        out, err = await asyncio.wait_for(proc.communicate(json.dumps(request).encode()), limit_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        await stop_worker(proc)
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise MonitorError(f"monitoring took longer than {limit_s:g} s; stopped") from None
    lines = out.decode("utf-8", "replace").strip().splitlines()
    doc: dict[str, Any] = {}
    with contextlib.suppress(ValueError, IndexError):
        doc = json.loads(lines[-1])
    if doc.get("event") == "result":
        return doc
    detail = (
        doc.get("message") or (err.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
    )
    raise MonitorError(f"the monitoring worker failed: {' '.join(str(detail).split())[:300]}")


def _feature(name: str, tests: dict[str, Any]) -> FeatureDrift:
    parsed = {s: DriftTest.model_validate(t) for s, t in tests.items()}
    if not parsed:
        return FeatureDrift(feature=name, statistic=None, drifted=False)
    drifted = {s: t for s, t in parsed.items() if t.drifted}
    if drifted:
        source = min(drifted, key=lambda s: drifted[s].p_value)
    else:
        source = next(s for s in SOURCES if s in parsed)
    chosen = parsed[source]
    return FeatureDrift(
        feature=name,
        statistic=chosen.statistic,
        drifted=bool(drifted),
        p_value=chosen.p_value,
        test=chosen.test,
        source=source,
        sources=parsed,
    )


async def _resolve(settings: Any, client: Any, model: str, alias: str) -> tuple[Any, Any, str]:
    """(version, its run or None, the tracking URI) of ``model@alias`` over REST."""
    from console.mlflow.errors import MlflowError

    own = client is None
    if own:
        from console.connection import resolve_tracking_uri
        from console.mlflow.client import MlflowRestClient

        uri = await asyncio.to_thread(resolve_tracking_uri, settings)
        client = MlflowRestClient.from_settings(settings, tracking_uri=uri)
    try:
        try:
            version = await client.get_model_version_by_alias(model, alias)
            run = await client.get_run(version.run_id) if version.run_id else None
        except MlflowError as exc:
            raise MonitorError(f"cannot read {model}@{alias}: {exc.message}") from None
        return version, run, client.tracking_uri
    finally:
        if own:
            await client.aclose()


def _plan(
    settings: Any, thresholds: Any, model: str, version: Any, run: Any, tracking_uri: str
) -> tuple[dict[str, Any], list[str], float | None]:
    """(the worker's request, what the version's record lacks, its holdout metric's value)."""
    from commands.promote_gates import pick_metric

    params = dict(run.params) if run else {}
    table = params.get("data.iceberg.table")
    snapshot = params.get("data.iceberg.snapshot_id")
    metric = pick_metric(run, thresholds.metric) if run else None
    baseline = run.metric_value(metric) if run and metric else None
    gaps = []
    if run is None:
        gaps.append(f"v{version.version} names no training run")
    if not (table and snapshot):
        gaps.append("no pinned training snapshot: params data.iceberg.table/snapshot_id missing")
    if metric is None or baseline is None:
        gaps.append("no holdout metric registered with the version (f1_macro or accuracy)")
    catalog, catalog_db, warehouse = _catalog_location(settings, table)
    request = {
        "model": model,
        "version": version.version,
        "tracking_uri": tracking_uri,
        "table": table,
        "pinned_snapshot": snapshot,
        "catalog": catalog,
        "catalog_db": catalog_db,
        "warehouse": warehouse,
        "params": params,
        "p_value": thresholds.p_value,
        "min_rows": thresholds.min_rows,
        "metric": metric,
    }
    return request, gaps, baseline


async def run_monitor(
    settings: Any, model: str, alias: str = "champion", *, client: Any = None
) -> MonitorReport:
    """Monitor the version behind ``model@alias``; raises ConsoleError with one line on failure."""
    from commands.probe_runner import child_env

    started = time.monotonic()
    thresholds = settings.monitor_thresholds(model)
    env = child_env(settings)
    # started first, so its imports (seconds) overlap the REST calls; killed if those fail
    worker = await start_worker(env)
    try:
        version, run, tracking_uri = await _resolve(settings, client, model, alias)
        request, gaps, baseline = _plan(settings, thresholds, model, version, run, tracking_uri)
        result = await run_worker(request, env, thresholds.timeout, worker)
    finally:
        await stop_worker(worker)  # reaps a finished worker; kills one left waiting
    metric = request["metric"]
    report = MonitorReport(
        model=model,
        version=version.version,
        alias=alias,
        run_id=version.run_id,
        table=request["table"],
        pinned_snapshot=request["pinned_snapshot"],
        newest_snapshot=result.get("newest_snapshot"),
        inference_rows=int(result.get("inference_rows") or 0),
        baseline_metric=metric,
        baseline_value=baseline,
        gaps=gaps + list(result.get("notes") or []),
        thresholds=thresholds.model_dump(),
    )
    report.drift = [_feature(n, t) for n, t in (result.get("drift") or {}).items()]
    tested = [d for d in report.drift if d.sources]
    if tested:
        report.drift_share = round(sum(d.drifted for d in tested) / len(tested), 6)
    report.performance = [
        WindowPerformance(**w, baseline=baseline) for w in result.get("performance") or []
    ]
    report.reasons = _reasons(report, thresholds)
    report.retrain_suggested = bool(report.reasons)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _reasons(report: MonitorReport, thresholds: Any) -> list[str]:
    reasons = []
    if report.drift_share is not None and report.drift_share >= thresholds.drift_share:
        drifted = [d.feature for d in report.drift if d.drifted]
        tested = sum(1 for d in report.drift if d.sources)
        reasons.append(
            f"{len(drifted)} of {tested} features drifted (share {report.drift_share:.2f} ≥ "
            f"{thresholds.drift_share:.2f}, p < {thresholds.p_value:g}): {', '.join(drifted)}"
        )
    if report.performance and report.baseline_value is not None:
        rows = sum(w.rows for w in report.performance)
        realized = sum(w.value * w.rows for w in report.performance) / max(rows, 1)
        drop = report.baseline_value - realized
        if drop > thresholds.performance_drop:
            metric = report.performance[0].metric
            reasons.append(
                f"realized {metric} {realized:.3f} over {len(report.performance)} week(s) is "
                f"{drop:.3f} below the holdout {report.baseline_value:.3f} "
                f"(allowed drop {thresholds.performance_drop:g})"
            )
    return reasons

"""Diagnose why two versions of a model differ: provenance side by side, causes, prediction probe.

``diagnose`` collects both provenance records concurrently, lists the differences by kind,
compares the metrics exactly, fetches what changed between the two snapshots and the two commits,
optionally runs the prediction probe in its own process, and ranks the causes. The same function
serves the CLI and the TUI (progress through a callback; cancellation stops the probe).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from commands.diagnose_causes import one_sided_gaps, rank_causes
from commands.diagnose_compare import compare_metrics, differences
from commands.probe_runner import (
    ProbeError,
    ProbeOutcome,
    ProbeRequest,
    ProgressCallback,
    run_probe,
)
from console import gitinfo
from console.diagnosis_model import Diagnosis, SideGap, SideSummary
from console.errors import ConsoleError
from console.provenance.collect import UNREADABLE_FILES, ProvenanceSources, collect
from console.provenance.model import CommitRange, ProvenanceRecord, SnapshotChange


def side_summary(record: ProvenanceRecord) -> SideSummary:
    info = record.version_info
    return SideSummary(
        version=record.version,
        run_id=record.run.run_id if record.run else None,
        run_name=record.run.name if record.run else None,
        aliases=info.aliases if info else [],
        table=record.data.table,
        snapshot_id=record.data.snapshot_id,
        commit=record.code.commit,
        created=info.created if info else None,
    )


async def _snapshot_change(
    left: ProvenanceRecord, right: ProvenanceRecord, sources: ProvenanceSources
) -> SnapshotChange | None:
    a, b = left.data, right.data
    if not (a.table and a.table == b.table and a.snapshot_id and b.snapshot_id):
        return None
    if a.snapshot_id == b.snapshot_id or sources.snapshots is None:
        return None
    try:
        return await sources.snapshots.change(a.table, a.snapshot_id, b.snapshot_id)
    except ConsoleError:
        return None  # the provenance records already carry the gap


async def _commit_range(
    left: ProvenanceRecord, right: ProvenanceRecord, sources: ProvenanceSources
) -> CommitRange | None:
    a, b = left.code, right.code
    if not (a.commit and b.commit) or a.commit == b.commit:
        return None
    clone = a.clone or b.clone
    if clone is None:
        return None
    try:
        return await gitinfo.between(Path(clone), a.commit, b.commit)
    except ConsoleError:
        return None


def loader_gap(gaps: list[SideGap], side: str, reason: str) -> list[SideGap]:
    """The gaps with the loader's reason for a model that cannot be loaded: it replaces what the
    server said when its files were read (a server's 500 is often about something else)."""
    kept = [g for g in gaps if not (g.side == side and g.message.startswith(UNREADABLE_FILES))]
    return [
        *kept,
        SideGap(side=side, area="artifact", message=f"the model cannot be loaded: {reason}"),  # type: ignore[arg-type]
    ]


def rank(result: Diagnosis) -> None:
    """The diagnosis's causes from what it holds now; a value recorded on one side only is
    added to its gaps (never a cause: ``diagnose_causes.one_sided_gaps``)."""
    extra = one_sided_gaps(result.differences, result.side_by_side, result.gaps)
    result.gaps = [*result.gaps, *(g for g in extra if g not in result.gaps)]
    result.causes = rank_causes(
        result.differences,
        snapshot_change=result.snapshot_change,
        commit_range=result.commit_range,
        predictions=result.predictions,
        gaps=result.gaps,
        compared=result.side_by_side,
    )


def apply_probe(
    result: Diagnosis, outcome: ProbeOutcome | None = None, *, error: ProbeError | None = None
) -> None:
    """The probe's outcome (or its failure) into the diagnosis, and the causes ranked again:
    the predictions, the rows that changed between the snapshots, or the failure with, for a
    model that cannot be loaded, the loader's reason as that side's gap. The CLI and the TUI
    both come here."""
    if error is not None:
        result.probe_error = str(error)
        if error.side is not None:
            result.gaps = loader_gap(result.gaps, error.side, error.reason or str(error))
    elif outcome is not None:
        result.probe_error = None
        result.predictions = outcome.predictions
        change, diff = result.snapshot_change, outcome.data_diff
        if change is not None and diff:
            older, newer = diff.get("rows_only_older"), diff.get("rows_only_newer")
            if diff.get("older") != change.older:
                older, newer = newer, older
            change.rows_only_older, change.rows_only_newer = older, newer
            change.changed_columns = [str(c) for c in diff.get("changed_columns") or []]
            change.changed_rows = [str(r) for r in diff.get("changed_rows") or []]
            change.changed_rows_more = int(diff.get("changed_rows_more") or 0)
    rank(result)


def probe_request(
    tracking_uri: str,
    left: ProvenanceRecord,
    right: ProvenanceRecord,
    sources: ProvenanceSources,
    *,
    scope: str = "holdout",
    max_rows: int = 0,
    rows_file: str | None = None,
    all_sources: bool = False,
    tolerance: float | None = None,
) -> ProbeRequest:
    """What the probe needs: the versions, the pinned snapshots and where the catalog lives."""
    table = left.data.table or right.data.table
    catalog = (left.data.catalog or right.data.catalog or "lake") if table else "lake"
    catalog_db = None
    warehouse = None
    if sources.snapshots is not None:
        db = sources.snapshots.sqlite_catalogs.get(catalog)
        if db is not None:
            catalog_db = str(db)
            sibling = db.parent / "warehouse"
            warehouse = sibling.as_uri() if sibling.exists() else None
    return ProbeRequest(
        tracking_uri=tracking_uri,
        model=left.model,
        left=left.version,
        right=right.version,
        table=table,
        left_snapshot=left.data.snapshot_id,
        right_snapshot=right.data.snapshot_id,
        catalog=catalog,
        catalog_db=catalog_db,
        warehouse=warehouse,
        params=left.run.params if left.run else {},
        scope=scope,
        max_rows=max_rows,
        rows_file=rows_file,
        all_sources=all_sources,
        tolerance=tolerance,
    )


async def diagnose(
    client: Any,
    model: str,
    left_version: str,
    right_version: str,
    sources: ProvenanceSources,
    *,
    probe: bool = True,
    tracking_uri: str | None = None,
    on_progress: ProgressCallback | None = None,
    probe_env: dict[str, str] | None = None,
    rows_file: str | None = None,
    all_sources: bool = False,
    tolerance: float | None = None,
) -> Diagnosis:
    """The diagnosis of two versions; the probe runs when ``probe`` and a tracking URI are given."""
    left, right = await asyncio.gather(
        collect(client, model, left_version, sources),
        collect(client, model, right_version, sources),
    )
    diffs = differences(left, right)
    change, commits = await asyncio.gather(
        _snapshot_change(left, right, sources), _commit_range(left, right, sources)
    )
    gaps = [SideGap(side="left", area=g.area, message=g.message) for g in left.gaps] + [
        SideGap(side="right", area=g.area, message=g.message) for g in right.gaps
    ]
    result = Diagnosis(
        model=model,
        left=side_summary(left),
        right=side_summary(right),
        metrics=compare_metrics(left, right),
        differences=diffs,
        gaps=gaps,
        left_record=left,
        right_record=right,
        snapshot_change=change,
        commit_range=commits,
        side_by_side=differences(left, right, include_equal=True),
    )
    if probe and tracking_uri:
        if on_progress is not None:
            on_progress("starting the prediction probe", 0.0)
        try:
            outcome = await run_probe(
                probe_request(
                    tracking_uri,
                    left,
                    right,
                    sources,
                    rows_file=rows_file,
                    all_sources=all_sources,
                    tolerance=tolerance,
                ),
                on_progress,
                env=probe_env,
            )
        except ProbeError as exc:
            apply_probe(result, error=exc)
        else:
            apply_probe(result, outcome)
        return result
    rank(result)
    return result

"""Rank the likely causes of two versions behaving differently, one line of explanation each.

Cause kinds are the difference kinds (data, code, params, environment, signature, artifact) plus
``outside`` (nothing recorded differs, yet the models or their predictions do) and ``incomplete``
(provenance is missing on a side, so a difference can neither be shown nor ruled out). The order is
fixed and explainable: data, code, the seed (a ``params`` cause whose keys name the seed
parameter), other params, environment, input schema, artifact.
"""

from __future__ import annotations

from console.diagnosis_model import Cause, Difference, PredictionComparison, SideGap
from console.provenance.collect import PARAM_SNAPSHOT, PARAM_TABLE, TAG_COMMIT, is_seed_param
from console.provenance.model import CommitRange, SnapshotChange

# gaps in these areas can hide a cause; lineage gaps cannot change what a model predicts
RELEVANT_GAP_AREAS = ("run", "data", "code", "params", "environment", "signature", "artifact")
PIN_NEXT_TIME = (
    "pin next time: every seed (numpy, random, framework), thread counts and BLAS, the exact "
    "input snapshot and feature code, and the hardware/OS in the run's tags"
)


def _short(value: str | None, size: int = 12) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= size else value[:size]


def _fmt(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _data_cause(diffs: list[Difference], change: SnapshotChange | None) -> Cause | None:
    if not diffs:
        return None
    by_key = {d.key: d for d in diffs}
    table = by_key.get(PARAM_TABLE)
    if table is not None:
        return Cause(
            rank=0,
            kind="data",
            summary=f"trained on different tables: {table.left} vs {table.right}",
            keys=[d.key for d in diffs],
        )
    snap = by_key.get(PARAM_SNAPSHOT)
    if snap is None:
        first = diffs[0]
        return Cause(
            rank=0,
            kind="data",
            summary=f"training data differs: {first.key} {first.left} vs {first.right}",
            keys=[d.key for d in diffs],
        )
    name = change.table if change else "the table"
    summary = f"trained on different snapshots of {name}"
    if change is not None and change.rows_only_older is not None:
        changed = max(change.rows_only_older, change.rows_only_newer or 0)
        summary += (
            f": {changed:,} rows changed ({change.rows_only_older:,} only in {change.older}, "
            f"{change.rows_only_newer:,} only in {change.newer})"
        )
        if change.changed_columns:
            summary += f"; changed: {', '.join(change.changed_columns[:6])}"
        if change.changed_rows:
            more = f" (+{change.changed_rows_more} more)" if change.changed_rows_more else ""
            summary += f"; rows: {'; '.join(change.changed_rows)}{more}"
    elif change is not None and change.related:
        ops = ", ".join(change.operations) or "none"
        summary += (
            f": {len(change.chain)} commit(s) between them ({ops}): "
            f"{_fmt(change.deleted_records)} records deleted, {_fmt(change.added_records)} added "
            f"as Iceberg counts them (rewritten files count whole), "
            f"total {_fmt(change.total_before)} → {_fmt(change.total_after)}"
        )
    elif change is not None:
        summary += f": {snap.left} and {snap.right} are not on one line of history"
    else:
        summary += f": {snap.left} vs {snap.right}"
    return Cause(rank=0, kind="data", summary=summary, keys=[d.key for d in diffs])


def _code_cause(diffs: list[Difference], commits: CommitRange | None) -> Cause | None:
    if not diffs:
        return None
    by_key = {d.key: d for d in diffs}
    commit = by_key.get(TAG_COMMIT)
    if commit is None:
        first = diffs[0]
        summary = f"training code source differs: {first.key} {first.left} vs {first.right}"
    else:
        summary = f"trained from different commits: {_short(commit.left)} vs {_short(commit.right)}"
        if commits is not None:
            files = len(commits.files)
            summary += (
                f": {len(commits.commits)} commit(s), {files} file(s) changed "
                f"(+{commits.insertions} −{commits.deletions})"
            )
            if commits.commits and commits.commits[0].subject:
                summary += f', latest "{commits.commits[0].subject}"'
    return Cause(rank=0, kind="code", summary=summary, keys=[d.key for d in diffs])


def _list(diffs: list[Difference], limit: int = 3) -> str:
    parts = [f"{d.key} {d.left} vs {d.right}" for d in diffs[:limit]]
    more = len(diffs) - limit
    return ", ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _artifact_cause(diffs: list[Difference], others: bool, incomplete: bool) -> Cause | None:
    if not diffs:
        return None
    size = next((d for d in diffs if d.key == "model_size_bytes"), None)
    what = (
        f"model files differ (size {size.left} vs {size.right} bytes)"
        if size is not None
        else f"model files differ: {_list(diffs)}"
    )
    kind = "artifact"
    if others:
        summary = f"{what}, as the differences above would make them"
    elif incomplete:
        summary = f"{what}; with provenance incomplete the reason cannot be told"
    else:
        kind = "outside"
        summary = (
            f"{what} although everything recorded is the same: the cause is outside the record "
            f"(unpinned randomness, hardware, an unrecorded input); {PIN_NEXT_TIME}"
        )
    return Cause(rank=0, kind=kind, summary=summary, keys=[d.key for d in diffs])


# a gap in one area leaves these kinds unknown on its side (the model files hold the environment,
# the signature and the artifact; no run, everything)
COVERS: dict[str, tuple[str, ...]] = {
    "run": ("data", "code", "params", "environment", "signature", "artifact"),
    "artifact": ("artifact", "signature", "environment"),
}
# keys naming a member of a list both sides record (a requirement, a schema column, a dataset):
# absent from one side's list, the member is a difference; any other value recorded on one side
# only (a param, a size, a version) is unknown on the other side: a gap
MEMBERS = ("requirements:", "signature.input.", "signature.output.", "dataset.")


def _lacking(diff: Difference) -> str | None:
    if diff.left is None and diff.right is not None:
        return "left"
    if diff.right is None and diff.left is not None:
        return "right"
    return None


def _one_sided(
    diff: Difference, recorded: set[tuple[str, str]], unknown: set[tuple[str, str]]
) -> str | None:
    """The side that did not record ``diff``'s value, when that makes it a gap (else None)."""
    side = _lacking(diff)
    if side is None:
        return None
    covered = any(diff.kind in COVERS.get(area, (area,)) for s, area in unknown if s == side)
    member = next((p for p in MEMBERS if diff.key.startswith(p)), None)
    if member is not None and not covered and (side, member) in recorded:
        return None  # the side's list was read and does not hold it: a real difference
    return side


def _recorded(compared: list[Difference]) -> set[tuple[str, str]]:
    out = set()
    for diff in compared:
        member = next((p for p in MEMBERS if diff.key.startswith(p)), None)
        if member is None:
            continue
        for side, value in (("left", diff.left), ("right", diff.right)):
            if value is not None:
                out.add((side, member))
    return out


def one_sided_gaps(
    differences: list[Difference], compared: list[Difference], gaps: list[SideGap]
) -> list[SideGap]:
    """A gap for each value recorded on one side only that no gap of that side explains."""
    unknown = {(g.side, g.area) for g in gaps}
    recorded = _recorded(compared or differences)
    out = []
    for diff in differences:
        side = _one_sided(diff, recorded, unknown)
        if side is None:
            continue
        if any(diff.kind in COVERS.get(area, (area,)) for s, area in unknown if s == side):
            continue  # already said: "no MLmodel", "the run logged no params" …
        other = diff.right if side == "left" else diff.left
        out.append(
            SideGap(
                side=side,  # type: ignore[arg-type]
                area=diff.kind,
                message=f"{diff.key} not recorded (the other version: {_short(other, 60)})",
            )
        )
    return out


def rank_causes(
    differences: list[Difference],
    *,
    snapshot_change: SnapshotChange | None = None,
    commit_range: CommitRange | None = None,
    predictions: PredictionComparison | None = None,
    gaps: list[SideGap] | None = None,
    compared: list[Difference] | None = None,
) -> list[Cause]:
    """The causes, most likely first, numbered from 1. A value recorded on one side only is
    never a cause (``one_sided_gaps`` lists it); ``compared`` holds every key compared, equal
    or not, to tell a member missing from a recorded list from a list not recorded."""
    unknown = {(g.side, g.area) for g in gaps or []}
    recorded = _recorded(compared or differences)

    kinds: dict[str, list[Difference]] = {}
    for diff in differences:
        if _one_sided(diff, recorded, unknown) is not None:
            continue
        kinds.setdefault(diff.kind, []).append(diff)
    params = kinds.get("params", [])
    seeds = [d for d in params if is_seed_param(d.key)]
    others = [d for d in params if not is_seed_param(d.key)]
    causes: list[Cause | None] = [
        _data_cause(kinds.get("data", []), snapshot_change),
        _code_cause(kinds.get("code", []), commit_range),
    ]
    if seeds:
        causes.append(
            Cause(
                rank=0,
                kind="params",
                summary=(
                    f"random seed differs ({_list(seeds)}): the same data and code train a "
                    "different model"
                ),
                keys=[d.key for d in seeds],
            )
        )
    if others:
        causes.append(
            Cause(
                rank=0,
                kind="params",
                summary=f"hyperparameters differ: {_list(others)}",
                keys=[d.key for d in others],
            )
        )
    env = kinds.get("environment", [])
    if env:
        libs = [d for d in env if d.key.startswith("requirements:")]
        shown = libs or env
        text = ", ".join(
            f"{d.key.removeprefix('requirements:')} {d.left or '(absent)'} vs "
            f"{d.right or '(absent)'}"
            for d in shown[:3]
        )
        more = len(shown) - 3
        causes.append(
            Cause(
                rank=0,
                kind="environment",
                summary=(
                    f"library versions differ: {text}" if libs else f"environment differs: {text}"
                )
                + (f" (+{more} more)" if more > 0 else ""),
                keys=[d.key for d in env],
            )
        )
    sig = kinds.get("signature", [])
    if sig:
        causes.append(
            Cause(
                rank=0,
                kind="signature",
                summary=f"input schema differs: {_list(sig)}",
                keys=[d.key for d in sig],
            )
        )
    recorded = [c for c in causes if c is not None]
    relevant = [g for g in gaps or [] if g.area in RELEVANT_GAP_AREAS]
    agree = predictions is not None and predictions.agree
    if not recorded and not kinds.get("artifact") and agree:
        # nothing recorded differs and enough rows agree: there is nothing to explain, even
        # where both records lack the same things (the gaps are still listed)
        return []
    artifact = _artifact_cause(kinds.get("artifact", []), bool(recorded), bool(relevant))
    if recorded or not relevant:
        causes.append(artifact)
    if relevant:
        areas = sorted({f"{g.side} {g.area}" for g in relevant})
        causes.append(
            Cause(
                rank=0,
                kind="incomplete",
                summary=(
                    f"provenance is incomplete ({', '.join(areas)}): a difference there can "
                    "neither be shown nor ruled out"
                ),
                keys=[],
            )
        )
        if not recorded:
            causes.append(artifact)
    explained = recorded or kinds.get("artifact")
    if not explained and predictions is not None and predictions.disagreements and not relevant:
        causes.append(
            Cause(
                rank=0,
                kind="outside",
                summary=(
                    f"provenance is identical but {predictions.disagreements:,} of "
                    f"{predictions.rows:,} predictions differ: the cause is outside what was "
                    "recorded (unpinned randomness, hardware, an unrecorded input); "
                    + PIN_NEXT_TIME
                ),
            )
        )
    final = [c for c in causes if c is not None]
    for i, cause in enumerate(final, start=1):
        cause.rank = i
    return final

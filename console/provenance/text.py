"""Plain-text rendering of provenance records and diagnoses for the CLI, readable at 80 columns.

Pure functions to lists of lines; every server string goes through ``printable`` and long values
wrap under their label instead of running past the edge.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from console.diagnosis_model import Diagnosis, PredictionComparison
from console.model import format_ms
from console.provenance.model import ProvenanceRecord
from console.safe_text import printable

WIDTH = 80
LABEL = 14


def _kv(label: str, value: object, indent: int = 2) -> list[str]:
    text = "-" if value is None or value == "" else printable(value, limit=600)
    head = " " * indent + f"{label:<{LABEL}} "
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
    ) or [head.rstrip()]


def _wrap(text: str, indent: int = 2, hanging: int = 2) -> list[str]:
    return textwrap.wrap(
        printable(text, limit=2000),
        width=WIDTH,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + hanging),
        break_on_hyphens=False,
    )


def _columns(specs) -> str:
    parts = []
    for spec in specs:
        kind = spec.type or str((spec.tensor_spec or {}).get("dtype", "tensor"))
        parts.append(f"{spec.name}:{kind}" if spec.name else kind)
    return ", ".join(parts) or "none"


def _section(title: str) -> list[str]:
    return ["", title]


def provenance_lines(record: ProvenanceRecord) -> list[str]:
    v = record.version_info
    lines = [f"{printable(record.model)} version {printable(record.version)}"]
    if v is not None:
        lines += _kv("aliases", " ".join(f"@{a}" for a in v.aliases) or "none")
        lines += _kv("stage", v.stage or "None")
        lines += _kv("created", format_ms(v.created) + " UTC")
        lines += _kv("logged model", v.logged_model_id)
    run = record.run
    lines += _section("Run")
    if run is None:
        lines.append("  (not available)")
    else:
        lines += _kv("run", f"{run.run_id} {run.name or ''}".strip())
        lines += _kv("status", run.status)
        lines += _kv("started", format_ms(run.start_time) + " UTC")
        lines += _kv("user", run.user)
        metrics = ", ".join(f"{k}={m!r}" for k, m in sorted(run.metrics.items()))
        lines += _kv("metrics", metrics or "none")
        lines += _section(f"Params ({len(run.params)})")
        for key, value in sorted(run.params.items()):
            lines += _wrap(f"{key} = {value}", hanging=4)
    d = record.data
    lines += _section("Data")
    lines += _kv("table", d.table)
    lines += _kv("snapshot", d.snapshot_id)
    if d.dataset_digest and d.dataset_digest != d.snapshot_id:
        lines += _kv("dataset digest", d.dataset_digest)
    if d.snapshot is not None:
        s = d.snapshot
        lines += _kv("committed", format_ms(s.timestamp_ms) + " UTC")
        lines += _kv("operation", s.operation)
        lines += _kv(
            "records", f"{s.added_records or 0:,} added, {s.total_records or 0:,} in total"
        )
        lines += _kv("parent", s.parent_id)
        lines += _kv("refs", ", ".join(s.refs) or "none")
    c = record.code
    lines += _section("Code")
    lines += _kv("commit", c.commit)
    lines += _kv("repository", c.repo_url)
    lines += _kv("branch", c.branch)
    if c.details is not None:
        lines += _kv("author", f"{c.details.author} <{c.details.email}>")
        lines += _kv("date", c.details.date)
        lines += _kv("message", c.details.subject)
    if c.clone:
        lines += _kv("clone", c.clone)
    e = record.environment
    lines += _section("Environment")
    if e.mlmodel is not None:
        lines += _kv("flavors", ", ".join(sorted(e.mlmodel.flavors)))
        lines += _kv("python", e.mlmodel.python_version)
        lines += _kv("mlflow", e.mlmodel.mlflow_version)
        lines += _kv("size", e.mlmodel.model_size_bytes)
        sig = e.mlmodel.signature
        if sig is not None:
            lines += _kv("inputs", _columns(sig.inputs))
            lines += _kv("outputs", _columns(sig.outputs))
    lines += _kv("requirements", ", ".join(e.requirements) or "none")
    if e.python_env is not None:
        lines += _kv("python_env", e.python_env.python)
    lines += _kv("input example", "yes" if e.has_input_example else "no")
    if record.lineage is not None:
        lin = record.lineage
        lines += _section(f"Lineage ({lin.backend})")
        lines += _kv("runs", ", ".join(lin.runs) or "none")
        lines += _kv("datasets", ", ".join(lin.datasets) or "none")
        for name, snap in sorted(lin.pinned_snapshots.items()):
            lines += _kv("pinned", f"{name} @ {snap}")
        for problem in lin.problems:
            lines += _wrap(f"! {problem}")
    lines += _section("Gaps" if record.gaps else "Gaps: none — the record is complete")
    for gap in record.gaps:
        lines += _wrap(f"- {gap.area}: {gap.message}")
    return lines


def _side(label: str, summary) -> list[str]:
    aliases = " ".join(f"@{a}" for a in summary.aliases)
    return _kv(
        label,
        f"v{summary.version} {aliases} run {summary.run_id or '-'}"
        f" ({summary.run_name or '-'})".replace("  ", " "),
    )


def diagnosis_lines(diagnosis: Diagnosis, *, probe_ran: bool) -> list[str]:
    d = diagnosis
    lines = [f"{printable(d.model)}: version {d.left.version} vs version {d.right.version}"]
    lines += _side("left", d.left)
    lines += _side("right", d.right)
    m = d.metrics
    lines += _section(
        "Metrics: exactly equal"
        if m.equal
        else f"Metrics: differ ({', '.join(m.differing) or 'none logged'})"
    )
    for key in sorted(set(m.left) | set(m.right)):
        lines += _kv(key, f"{m.left.get(key)!r} | {m.right.get(key)!r}")
    lines += _section(f"Differences ({len(d.differences)})")
    if not d.differences:
        lines.append("  none in what was recorded")
    for diff in d.differences:
        lines += _wrap(f"[{diff.kind}] {diff.key}: {diff.left} | {diff.right}", hanging=4)
    change = d.snapshot_change
    if change is not None:
        lines += _section(f"Between the snapshots of {printable(change.table)}")
        if not change.related:
            lines.append("  not on one line of history")
        for snap in change.chain:
            lines += _wrap(
                f"{snap.snapshot_id} {format_ms(snap.timestamp_ms)} {snap.operation or '?'}: "
                f"+{snap.added_records or 0:,} −{snap.deleted_records or 0:,} records, "
                f"{snap.total_records or 0:,} in total",
                hanging=4,
            )
    commits = d.commit_range
    if commits is not None:
        lines += _section(
            f"Between the commits: {len(commits.commits)} commit(s), {len(commits.files)} "
            f"file(s), +{commits.insertions} −{commits.deletions}"
        )
        for commit in commits.commits[:10]:
            lines += _wrap(f"{commit.sha[:12]} {commit.date or ''} {commit.subject or ''}")
        for stat in commits.files[:10]:
            lines += _wrap(f"{stat.path} +{stat.insertions} −{stat.deletions}", indent=4)
    lines += _section("Predictions")
    if d.predictions is not None:
        lines += prediction_lines(d.predictions)
    elif d.probe_error:
        lines += _wrap(f"probe failed: {d.probe_error}")
    else:
        lines.append("  not probed" + ("" if probe_ran else " (--no-probe)"))
    lines += _section("Likely causes, most likely first")
    if not d.causes:
        p = d.predictions
        tail = ""
        if p is not None:
            tail = " and the predictions agree" if p.agree else f" ({p.verdict})"
        lines.append("  none: nothing recorded differs" + tail)
    for cause in d.causes:
        lines += _wrap(f"{cause.rank}. [{cause.kind}] {cause.summary}", hanging=4)
    lines += _section(f"Gaps ({len(d.gaps)})" if d.gaps else "Gaps: none")
    for gap in d.gaps:
        lines += _wrap(f"- {gap.side} {gap.area}: {gap.message}", hanging=4)
    return lines


def _key_text(key: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def prediction_lines(p: PredictionComparison) -> list[str]:
    """The probe's verdict, where the rows came from, the class table, the first examples."""
    verdict = p.verdict or (
        f"{p.disagreements:,} of {p.rows:,} rows predicted differently ({p.rate:.1%})"
    )
    lines = _wrap(verdict)
    lines += _kv("rows", p.source)
    if p.synthetic:
        lines += _wrap(
            "these rows are synthetic: they show where the versions disagree, "
            "not how often real inputs do"
        )
    if p.measured:
        tolerance = f", numbers within {p.tolerance:g}" if p.tolerance is not None else ""
        lines += _wrap(f"outputs (rows differing{tolerance}; largest and mean difference):")
        for column in p.measured[:12]:
            name, kind, rows, largest, mean = column.cells()
            size = f", largest {largest}, mean {mean}" if largest else ""
            lines += _wrap(f"{name} [{kind}]: {rows}{size}", indent=4, hanging=4)
    off = [c for c in p.confusion if c.left != c.right]
    if off:
        lines += _wrap("left → right, rows (where they disagree):")
        for cell in off[:8]:
            lines += _wrap(f"{cell.left} → {cell.right}: {cell.rows:,}", indent=4)
    for ex in p.examples[:3]:
        lines += _wrap(f"{_key_text(ex.key)}: {ex.left} | {ex.right}", indent=4, hanging=4)
    return lines


def print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        print(line)

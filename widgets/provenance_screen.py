"""The provenance drill-down: a version's record, then its run, commit, snapshot and environment.

``ProvenanceScreen`` shows the overview and the gaps; ``u`` opens the run, ``g`` the git commit,
``d`` the data snapshot, ``e`` the environment, ``l`` the lineage — each a ``ProvenancePartScreen``
over the same record (nothing more is fetched); escape goes back one level. The screens cut long
values (a gap, a tag); ``v`` on any of them opens what it shows in the text viewer, nothing cut.
"""

from __future__ import annotations

from functools import partial

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding

from console.model import format_ms
from console.provenance.model import ProvenanceRecord
from widgets.detail_base import DetailScreen
from widgets.sections import columns, heading, key_values, stack
from widgets.text import literal, literal_block
from widgets.text_viewer import VIEWER_LIMIT

PARTS = {
    "run": "Run",
    "commit": "Git commit",
    "snapshot": "Data snapshot",
    "environment": "Environment",
    "lineage": "Lineage",
}

HELP = (
    "Provenance\n"
    "  u   the run: params, metrics, tags, dataset inputs\n"
    "  g   the git commit: author, date, message\n"
    "  d   the Iceberg data snapshot: time, operation, records, parent, refs\n"
    "  e   the environment: requirements, Python, signature, MLmodel\n"
    "  l   the lineage summary and its problems\n"
    "  R   reproduce: retrain from the record and compare with this version\n"
    "  v   the whole text: every value and gap, nothing cut\n"
    "  r   reload              escape  back"
)


def _cutters(full: bool):
    """``key_values`` and ``columns`` as the screen cuts them, or whole (for the viewer)."""
    if not full:
        return key_values, columns
    return partial(key_values, limit=VIEWER_LIMIT), partial(columns, limit=VIEWER_LIMIT)


def _gaps(record: ProvenanceRecord, *, full: bool = False):
    if not record.gaps:
        return Text("  none — the record is complete", style="green")
    cols = _cutters(full)[1]
    return cols(["area", "what is missing"], [[g.area, g.message] for g in record.gaps])


def part_body(record: ProvenanceRecord, part: str, *, full: bool = False):
    """The renderable of one part of the record (``full``: no value cut, for the viewer)."""
    kv, cols = _cutters(full)
    if part == "run":
        run = record.run
        if run is None:
            return Text("  no run: see the gaps", style="dim")
        return stack(
            kv(
                [
                    ("run", run.run_id),
                    ("name", run.name),
                    ("experiment", run.experiment_id),
                    ("status", run.status),
                    ("user", run.user),
                    ("started", format_ms(run.start_time)),
                    ("ended", format_ms(run.end_time)),
                ]
            ),
            heading("Params", len(run.params)),
            kv(sorted(run.params.items())),
            heading("Metrics", len(run.metrics)),
            kv([(k, repr(v)) for k, v in sorted(run.metrics.items())]),
            heading("Dataset inputs", len(run.datasets)),
            cols(
                ["name", "digest", "context", "source type"],
                [
                    [d.dataset.name, d.dataset.digest, d.context, d.dataset.source_type]
                    for d in run.datasets
                ],
            ),
            heading("Tags", len(run.tags)),
            kv(sorted(run.tags.items())),
        )
    if part == "commit":
        code = record.code
        details = code.details
        rows = [
            ("commit", code.commit),
            ("repository", code.repo_url),
            ("branch", code.branch),
            ("source", code.source_name),
            ("local clone", code.clone),
        ]
        if details is not None:
            rows += [
                ("author", f"{details.author} <{details.email}>"),
                ("date", details.date),
                ("parents", " ".join(details.parents) or "none"),
                ("message", details.subject),
            ]
        parts = [kv(rows)]
        if details is not None and details.body:
            parts += [
                heading("Message body"),
                (
                    literal_block(details.body, limit=VIEWER_LIMIT)
                    if full
                    else literal(details.body, limit=2000)
                ),
            ]
        return stack(*parts)
    if part == "snapshot":
        data = record.data
        snap = data.snapshot
        rows = [
            ("table", data.table),
            ("snapshot", data.snapshot_id),
            ("dataset digest", data.dataset_digest),
        ]
        if snap is not None:
            rows += [
                ("committed", format_ms(snap.timestamp_ms)),
                ("operation", snap.operation),
                ("records added", snap.added_records),
                ("records deleted", snap.deleted_records),
                ("records in total", snap.total_records),
                ("parent", snap.parent_id),
                ("refs", ", ".join(snap.refs) or "none"),
                ("current", "yes" if snap.is_current else "no"),
            ]
        parts = [kv(rows)]
        if snap is not None:
            parts += [heading("Summary"), kv(sorted(snap.summary.items()))]
        return stack(*parts)
    if part == "environment":
        env = record.environment
        mlmodel = env.mlmodel
        parts: list[RenderableType] = [heading("Requirements", len(env.requirements))]
        parts.append(cols(["requirement"], [[line] for line in env.requirements]))
        if env.python_env is not None:
            parts += [
                heading("Python environment"),
                kv(
                    [
                        ("python", env.python_env.python),
                        ("build", " ".join(env.python_env.build_dependencies) or "-"),
                        ("dependencies", " ".join(env.python_env.dependencies) or "-"),
                    ]
                ),
            ]
        if mlmodel is not None:
            parts += [
                heading("MLmodel"),
                kv(
                    [
                        ("flavors", ", ".join(sorted(mlmodel.flavors))),
                        ("python", mlmodel.python_version),
                        ("mlflow", mlmodel.mlflow_version),
                        ("size (bytes)", mlmodel.model_size_bytes),
                        ("created", mlmodel.utc_time_created),
                    ]
                ),
            ]
            if mlmodel.signature is not None:
                sig = mlmodel.signature
                spec_rows = [
                    [side, s.name or "-", s.type or str((s.tensor_spec or {}).get("dtype", "-"))]
                    for side, specs in (("input", sig.inputs), ("output", sig.outputs))
                    for s in specs
                ]
                parts += [heading("Signature"), cols(["side", "name", "type"], spec_rows)]
        parts += [
            heading("Input example"),
            Text("  logged" if env.has_input_example else "  none", style="dim"),
        ]
        if env.missing_files:
            parts.append(Text("\nnot on the server: " + ", ".join(env.missing_files), style="dim"))
        return stack(*parts)
    lineage = record.lineage
    if lineage is None:
        return Text("  no lineage read: see the gaps", style="dim")
    return stack(
        kv(
            [
                ("backend", lineage.backend),
                ("store", lineage.location),
                ("entities", lineage.nodes),
                ("runs", ", ".join(lineage.runs) or "none"),
                ("datasets", ", ".join(lineage.datasets) or "none"),
            ]
        ),
        heading("Pinned snapshots"),
        kv(sorted(lineage.pinned_snapshots.items())),
        heading("Problems", len(lineage.problems)),
        cols(["problem"], [[p] for p in lineage.problems]),
    )


def overview(record: ProvenanceRecord, *, full: bool = False):
    """The record at a glance, gaps last (``full``: no value cut, for the viewer)."""
    kv = _cutters(full)[0]
    v = record.version_info
    run, data, code, env = record.run, record.data, record.code, record.environment
    snap = data.snapshot
    return stack(
        heading("Version"),
        kv(
            [
                ("aliases", " ".join(f"@{a}" for a in v.aliases) if v else None),
                ("stage", v.stage if v else None),
                ("created", format_ms(v.created) if v else None),
                ("logged model", v.logged_model_id if v else None),
            ]
        ),
        heading("Run  (u)"),
        kv(
            [
                ("run", f"{run.run_id}  {run.name or ''}" if run else None),
                ("params", len(run.params) if run else None),
                (
                    "metrics",
                    ", ".join(f"{k}={v!r}" for k, v in sorted(run.metrics.items()))
                    if run
                    else None,
                ),
            ]
        ),
        heading("Data snapshot  (d)"),
        kv(
            [
                ("table", data.table),
                ("snapshot", data.snapshot_id),
                ("committed", format_ms(snap.timestamp_ms) if snap else None),
                ("operation", snap.operation if snap else None),
                ("records", f"{snap.total_records} in total" if snap else None),
            ]
        ),
        heading("Code  (g)"),
        kv(
            [
                ("commit", code.commit),
                ("message", code.details.subject if code.details else None),
                ("repository", code.repo_url),
            ]
        ),
        heading("Environment  (e)"),
        kv(
            [
                ("python", env.mlmodel.python_version if env.mlmodel else None),
                ("requirements", ", ".join(env.requirements) or None),
            ]
        ),
        heading("Gaps", len(record.gaps)),
        _gaps(record, full=full),
    )


def as_text(renderable, width: int) -> Text:
    """A renderable laid out at ``width`` as one plain ``Text`` (for the text viewer)."""
    from io import StringIO

    from rich.console import Console

    console = Console(
        file=StringIO(), width=width, color_system=None, force_terminal=False, record=True
    )
    console.print(renderable)
    return Text(console.export_text(styles=False).rstrip("\n"))


class _RecordScreen(DetailScreen):
    HELP = HELP
    HELP_TITLE = "Help · Provenance"

    def whole(self) -> object | None:
        """What the screen shows, with no value cut (None while loading)."""
        return None

    def action_full_text(self) -> None:
        from widgets.text_viewer import TextViewer

        renderable = self.whole()
        if renderable is None:
            self.notify("the record is still loading", severity="warning")
            return
        # the viewer is at most 100 columns, less its border, padding and scrollbar
        width = max(20, min(100, self.app.size.width) - 6)
        self.app.push_screen(TextViewer(self._title_text, as_text(renderable, width)))


class ProvenanceScreen(_RecordScreen):
    """The record of one version; the shell loads it and calls ``show`` (or ``failed``)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        # second: at 80 columns the footer cuts the last keys (the headings name u g d e)
        Binding("v", "full_text", "Full text", id="provenance.full_text"),
        Binding("u", "part('run')", "Run", id="provenance.run"),
        Binding("g", "part('commit')", "Commit", id="provenance.commit"),
        Binding("d", "part('snapshot')", "Snapshot", id="provenance.snapshot"),
        Binding("e", "part('environment')", "Environment", id="provenance.environment"),
        Binding("l", "part('lineage')", "Lineage", id="provenance.lineage"),
        Binding("R", "reproduce", "Reproduce", id="provenance.reproduce"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]

    LOADING = "loading the provenance record…"
    FAILED = "Could not load the provenance: "

    def __init__(self, model: str, version: str) -> None:
        super().__init__(f"Provenance · {model} · version {version}")
        self.model = model
        self.version = version
        self.record: ProvenanceRecord | None = None

    def show(self, record: ProvenanceRecord) -> None:
        if not self._ready(self.show, record):
            return
        self.record = record
        self._set(overview(record))

    def whole(self) -> object | None:
        return None if self.record is None else overview(self.record, full=True)

    def action_part(self, part: str) -> None:
        if self.record is None:
            self.notify("the record is still loading", severity="warning")
            return
        self.app.push_screen(ProvenancePartScreen(self.record, part))

    def action_reproduce(self) -> None:
        """Ask the shell to retrain this version from its record and compare (``reproduce``)."""
        from widgets.provenance_messages import ReproduceWanted

        self.post_message(ReproduceWanted(self.model, self.version))


class ProvenancePartScreen(_RecordScreen):
    """One part of a loaded record (run, commit, snapshot, environment, lineage)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("v", "full_text", "Full text", id="provenance.full_text"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(self, record: ProvenanceRecord, part: str) -> None:
        super().__init__(f"{PARTS.get(part, part)} · {record.model} · version {record.version}")
        self.record = record
        self.part = part

    def whole(self) -> object | None:
        return part_body(self.record, self.part, full=True)

    def on_mount(self) -> None:
        super().on_mount()
        self._set(part_body(self.record, self.part))

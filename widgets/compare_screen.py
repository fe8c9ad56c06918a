"""Compare two versions side by side: the metrics verdict, ranked causes, differences, the probe.

Differences only by default (``a`` shows every compared key); ``p`` starts the prediction probe,
``f`` asks for a rows file (CSV, Parquet, JSON lines) and probes with its rows, ``x`` cancels it
(its process is terminated); escape goes back and cancels a running probe. The shell loads the
diagnosis and runs the probe in workers; this screen only renders and posts.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from console.diagnosis_model import Diagnosis, Difference, OutputColumn
from console.model import format_ms
from console.safe_text import printable
from widgets.detail_base import DetailScreen
from widgets.provenance_messages import ProbeCancelWanted, ProbeWanted
from widgets.sections import columns, heading, stack
from widgets.text import literal

HELP = (
    "Compare two versions\n"
    "  a        show every compared key / differences only\n"
    "  p        run the prediction probe (loads both models in another process)\n"
    "  f        probe with the rows of a file (CSV, Parquet, JSON lines)\n"
    "  x        cancel the running probe\n"
    "  v        the causes, differences and gaps in full (nothing cut)\n"
    "  r        reload      escape  back (cancels a running probe)"
)
BAR = 24


def _value(value: str | None) -> Text:
    return literal(value, limit=60) if value is not None else Text("(absent)", style="dim")


def _diff_table(rows: list[Difference]):
    if not rows:
        return Text("  none in what was recorded", style="dim")
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in ("kind", "key", "left", "right"):
        table.add_column(header, overflow="fold")
    for diff in rows:
        style = "bold" if diff.left != diff.right else "dim"
        table.add_row(
            Text(diff.kind, style=style),
            literal(diff.key, limit=60, style=style),
            _value(diff.left),
            _value(diff.right),
        )
    return table


def _wrapped(value: str, style: str = "") -> Text:
    """Server-derived text, literal, wrapping at the screen's width instead of being cut."""
    return Text(printable(value, limit=600), style=style)


def probe_line(message: str, fraction: float | None) -> Text:
    filled = round((fraction or 0.0) * BAR)
    text = Text("probe ")
    text.append("█" * filled + "░" * (BAR - filled), style="bold")
    text.append(f" {int((fraction or 0) * 100):3d}%  ")
    text.append_text(literal(message, limit=80))
    text.append("   (x cancels)", style="dim")
    return text


class CompareScreen(DetailScreen):
    """Two versions of one model; the shell calls ``show`` with a ``Diagnosis``."""

    DEFAULT_CSS = """
    CompareScreen #probe { height: auto; padding: 0 1; background: $boost; }
    CompareScreen #rows-path { display: none; }
    CompareScreen #rows-path.open { display: block; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("a", "toggle_all", "All/diff", id="compare.all"),
        Binding("p", "probe", "Probe", id="compare.probe"),
        Binding("f", "rows_file", "Probe a file", id="compare.rows"),
        Binding("x", "cancel_probe", "Cancel probe", id="compare.cancel"),
        Binding("v", "full_text", "Full text", id="compare.full_text"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
    ]
    LOADING = "comparing the provenance…"
    FAILED = "Could not compare: "
    HELP = HELP
    HELP_TITLE = "Help · Compare"

    def __init__(self, model: str, left: str, right: str) -> None:
        super().__init__(f"Compare · {model} · version {left} ↔ version {right}")
        self.model = model
        self.left = left
        self.right = right
        self.diagnosis: Diagnosis | None = None
        self.show_all = False
        self.probe_running = False

    def compose_header(self) -> ComposeResult:
        yield Static(Text("probe: not run (p runs it)", style="dim"), id="probe")
        yield Input(
            placeholder="rows file to probe (CSV, Parquet, JSON lines); escape closes",
            id="rows-path",
            select_on_focus=False,
        )

    # --- what the shell calls (loading and failed come from DetailScreen) -------------------

    def show(self, diagnosis: Diagnosis) -> None:
        if not self._ready(self.show, diagnosis):
            return
        self.diagnosis = diagnosis
        self._set(self.render_diagnosis())

    def probe_progress(self, message: str, fraction: float | None) -> None:
        if self._ready(self.probe_progress, message, fraction):
            self.probe_running = True
            self.query_one("#probe", Static).update(probe_line(message, fraction))

    def probe_finished(self, note: str, ok: bool = True) -> None:
        if not self._ready(self.probe_finished, note, ok):
            return
        self.probe_running = False
        style = "" if ok else "bold red"
        self.query_one("#probe", Static).update(literal(f"probe: {note}", limit=200, style=style))

    # --- rendering --------------------------------------------------------------------------

    def render_diagnosis(self) -> Group:
        d = self.diagnosis
        assert d is not None
        m = d.metrics
        verdict = (
            Text("Metrics exactly equal", style="bold green")
            if m.equal
            else Text(f"Metrics differ: {', '.join(m.differing) or 'none logged'}", style="bold")
        )
        sides = columns(
            ["", f"v{d.left.version}", f"v{d.right.version}"],
            [
                ["run", d.left.run_name or d.left.run_id, d.right.run_name or d.right.run_id],
                ["aliases", " ".join(d.left.aliases) or "-", " ".join(d.right.aliases) or "-"],
                ["snapshot", d.left.snapshot_id, d.right.snapshot_id],
                ["commit", (d.left.commit or "-")[:12], (d.right.commit or "-")[:12]],
                ["created", format_ms(d.left.created), format_ms(d.right.created)],
                *[
                    [key, repr(m.left.get(key)), repr(m.right.get(key))]
                    for key in sorted(set(m.left) | set(m.right))
                ],
            ],
        )
        causes = (
            # causes wrap whole: they are the answer the operator came for (v shows all in full)
            columns(
                ["#", "kind", "likely cause"],
                [[c.rank, c.kind, c.summary] for c in d.causes],
                limit=4000,
            )
            if d.causes
            else Text("  none: nothing recorded differs", style="dim")
        )
        rows = d.side_by_side if self.show_all else d.differences
        title = "All compared keys" if self.show_all else "Differences"
        parts = [
            verdict,
            sides,
            heading("Likely causes, most likely first", len(d.causes)),
            causes,
            heading("Predictions"),
            self._predictions(d),
            heading(f"{title} (a toggles)", len(rows)),
            _diff_table(rows),
            heading("Gaps", len(d.gaps)),
            columns(
                ["side", "area", "missing"],
                [[g.side, g.area, g.message] for g in d.gaps],
                limit=4000,
            )
            if d.gaps
            else Text("  none", style="dim"),
        ]
        return stack(*parts)

    @staticmethod
    def _predictions(d: Diagnosis):
        p = d.predictions
        if p is None:
            note = d.probe_error or "not probed yet: p runs the probe, f probes a file's rows"
            return literal(f"  {note}", limit=300, style="dim")
        verdict = p.verdict or (
            f"{p.disagreements:,} of {p.rows:,} rows predicted differently ({p.rate:.1%})"
        )
        parts: list = [
            _wrapped(f"  {verdict}", "bold" if p.conclusive else "bold yellow"),
            _wrapped(f"  rows: {p.source}", "dim"),
        ]
        if p.synthetic:
            parts.append(
                _wrapped(
                    "  synthetic rows: where the versions disagree, not how often real inputs do",
                    "dim",
                )
            )
        if p.measured:
            parts.append(columns(list(OutputColumn.HEADERS), [c.cells() for c in p.measured]))
        off = [c for c in p.confusion if c.left != c.right]
        if off:
            parts.append(
                columns(
                    [f"v{d.left.version} says", f"v{d.right.version} says", "rows"],
                    [[c.left, c.right, f"{c.rows:,}"] for c in off[:8]],
                )
            )
        if p.examples:
            parts.append(
                columns(
                    ["row", f"v{d.left.version}", f"v{d.right.version}"],
                    [
                        [", ".join(f"{k}={v}" for k, v in e.key.items()), e.left, e.right]
                        for e in p.examples
                    ],
                )
            )
        return stack(*parts)

    # --- keys -------------------------------------------------------------------------------

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        if self.diagnosis is not None:
            self._set(self.render_diagnosis())

    def full_text(self) -> str:
        """Causes, differences and gaps with nothing cut (the tables cut long values)."""
        d = self.diagnosis
        if d is None:
            return "not loaded yet"
        lines = ["Likely causes, most likely first"]
        lines += [f"  {c.rank}. [{c.kind}] {c.summary}" for c in d.causes] or ["  none"]
        lines += ["", "Differences"]
        for diff in d.side_by_side if self.show_all else d.differences:
            lines.append(f"  [{diff.kind}] {diff.key}")
            for side, value in ((d.left.version, diff.left), (d.right.version, diff.right)):
                lines.append(f"    v{side}: {value if value is not None else '(absent)'}")
        lines += ["", "Gaps"]
        lines += [f"  {g.side} {g.area}: {g.message}" for g in d.gaps] or ["  none"]
        if d.probe_error:
            lines += ["", f"Probe: {d.probe_error}"]
        return "\n".join(lines)

    def action_full_text(self) -> None:
        from widgets.text_viewer import TextViewer

        self.app.push_screen(
            TextViewer(f"Compare · {self.model} · v{self.left} ↔ v{self.right}", self.full_text())
        )

    def action_probe(self) -> None:
        if self.probe_running:
            self.notify("the probe is already running (x cancels it)")
            return
        self.probe_progress("starting", 0.0)
        self.post_message(ProbeWanted(self.model, self.left, self.right))

    def action_rows_file(self) -> None:
        if self.probe_running:
            self.notify("the probe is already running (x cancels it)")
            return
        box = self.query_one("#rows-path", Input)
        box.add_class("open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        self._close_rows_file()
        if not path:
            return
        self.probe_progress(f"starting with the rows of {path}", 0.0)
        self.post_message(ProbeWanted(self.model, self.left, self.right, rows_file=path))

    def _close_rows_file(self) -> None:
        box = self.query_one("#rows-path", Input)
        box.remove_class("open")
        self.query_one("#body").focus()

    def action_cancel_probe(self) -> None:
        if self.probe_running:
            self.post_message(ProbeCancelWanted())

    def action_back(self) -> None:
        if self.query_one("#rows-path", Input).has_class("open"):
            self._close_rows_file()
            return
        if self.probe_running:
            self.post_message(ProbeCancelWanted())
        self.dismiss()

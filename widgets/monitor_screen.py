"""The monitoring screen of one deployment: the drift table and realized performance per week.

Renders a ``console.monitor_contract.MonitorState`` handed to it by the shell (which ran the
``monitor`` command in its own process): per feature the statistic and a ``DRIFT``/``ok`` marker,
the drift share, one sparkline per performance metric with its weekly values written out, and
whether a retrain is suggested and why. Keys post ``DeploymentsScreen.Wanted`` like the list does.
"""

from __future__ import annotations

import contextlib
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Sparkline, Static

from console.deployment_model import DeploymentStatus
from console.monitor_contract import MonitorReport, MonitorState, PerformanceWindow
from console.safe_text import printable
from widgets.deployments_screen import DeploymentActionsScreen, DeploymentsScreen
from widgets.help_screen import HelpScreen
from widgets.key_footer import KeyFooter
from widgets.tables import NavTable
from widgets.text import literal

MAX_METRICS = 3
MAX_GAPS = 3
HELP = (
    "Monitoring\n"
    "  drift: per feature, the test statistic of what the deployment has\n"
    "  seen (inference log, newest snapshot) against the version's training\n"
    "  snapshot; DRIFT marks a feature over its threshold. Performance: the\n"
    '  realized metric per week as labels arrive. "not checked" says what\n'
    "  the monitor could not test, and why.\n"
    "  r             run the monitor again\n"
    "  R / B / T     roll out / roll back / retrain this deployment's model\n"
    "  escape        back to the deployments"
)


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def weekly_line(windows: list[PerformanceWindow], limit: int = 12) -> Text:
    """The newest ``limit`` windows as ``window value`` pairs, literally."""
    shown = windows[-limit:]
    parts = [f"{printable(w.window, limit=20)} {_value(w.value)}" for w in shown]
    prefix = "… " if len(windows) > limit else ""
    return Text(prefix + " · ".join(parts), no_wrap=True, overflow="ellipsis")


def summary_text(report: MonitorReport, at: float) -> Text:
    text = Text()
    text.append(printable(f"{report.model} v{report.version}", limit=100), style="bold")
    drifted, total = len(report.drifted), len(report.tested)
    untested = len(report.drift) - total
    share = report.drift_share if total else None
    if share is None and total:
        share = drifted / total
    text.append(" · drift share ")
    text.append(
        "- (no feature tested yet)"
        if share is None
        else f"{share:.0%} ({drifted} of {total} features"
        + (f"; {untested} not tested)" if untested else ")"),
        style="bold reverse" if drifted else "",
    )
    if at:
        text.append(" · as of " + time.strftime("%H:%M:%S", time.localtime(at)))
    for gap in report.gaps[:MAX_GAPS]:
        text.append("\nnot checked: ", style="bold")
        text.append(printable(gap, limit=300))
    if len(report.gaps) > MAX_GAPS:
        text.append(f"\n… and {len(report.gaps) - MAX_GAPS} more (`monitor --json` lists all)")
    return text


def verdict_text(report: MonitorReport) -> Text:
    if not report.retrain_suggested:
        text = Text("no retrain suggested")
        if report.reasons:
            text.append(": " + printable("; ".join(report.reasons), limit=300))
        return text
    text = Text("RETRAIN SUGGESTED", style="bold reverse")
    if report.reasons:
        text.append(": " + printable("; ".join(report.reasons), limit=300))
    text.append("  (T opens the retrain runbook)", style="dim")
    return text


class MonitorScreen(DeploymentActionsScreen):
    """One deployment's monitoring: a drift table above the weekly performance sparklines."""

    DEFAULT_CSS = """
    MonitorScreen #monitor-status { height: 1; background: $panel; }
    MonitorScreen #monitor-summary { height: auto; }
    MonitorScreen NavTable { height: 1fr; min-height: 4; }
    MonitorScreen #monitor-performance { height: auto; border-top: solid $accent; }
    MonitorScreen Sparkline { height: 2; margin: 0 1; }
    MonitorScreen #monitor-verdict { height: auto; max-height: 3; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="monitor.back"),
        Binding("r", "want('monitor')", "Run again", id="monitor.refresh"),
        Binding("R", "want('rollout')", "Rollout", key_display="R", id="monitor.rollout"),
        Binding("B", "want('rollback')", "Rollback", key_display="B", id="monitor.rollback"),
        Binding("T", "want('retrain')", "Retrain", key_display="T", id="monitor.retrain"),
        Binding("q", "close", "Back", show=False),
    ]

    def __init__(self, row: DeploymentStatus, *, read_only: bool) -> None:
        super().__init__()
        self.row = row
        self.read_only = read_only
        self.state: MonitorState | None = None
        self._ready = False  # composed: what arrived earlier is painted on mount

    def compose(self) -> ComposeResult:
        yield Static(id="monitor-status")
        yield Static(id="monitor-summary")
        yield NavTable(id="monitor-drift")
        yield Vertical(id="monitor-performance")
        yield Static(id="monitor-verdict")
        yield KeyFooter(compact=True)

    @property
    def table(self) -> NavTable:
        return self.query_one(NavTable)

    def on_mount(self) -> None:
        self.table.add_column("FEATURE", key="feature")
        self.table.add_column("STATISTIC", key="statistic")
        self.table.add_column("DRIFTED", key="drifted")
        self._ready = True
        self.set_status("")
        if self.state is not None:
            self.show_state(self.state)
        self.table.focus()

    def set_status(self, text: str) -> None:
        # a result may land while the screen is being torn down (quit): nothing to paint then
        with contextlib.suppress(NoMatches):
            self._set_status_now(text)

    def _set_status_now(self, text: str) -> None:
        if not self._ready:
            return
        line = Text()
        if self.read_only:
            line.append(" READ-ONLY ", style="reverse bold")
            line.append(" ")
        line.append("Monitoring", style="bold")
        line.append(" · ")
        line.append(printable(f"{self.row.name} ({self.row.model}@{self.row.alias})", limit=100))
        if text:
            line.append(" · ")
            line.append(printable(text, limit=120))
        self.query_one("#monitor-status", Static).update(line)

    def show_state(self, state: MonitorState) -> None:
        """The newest monitor result (or why there is none)."""
        # a result may land while the screen is being torn down (quit): nothing to paint then
        with contextlib.suppress(NoMatches):
            self._show_state_now(state)

    def _show_state_now(self, state: MonitorState) -> None:
        self.state = state
        if not self._ready:
            return
        summary = self.query_one("#monitor-summary", Static)
        verdict = self.query_one("#monitor-verdict", Static)
        if state.report is None:
            if state.checking:
                self.set_status(f"running `monitor {self.row.model} --alias {self.row.alias}`…")
                summary.update(Text("running the monitor command (it may take a while)…"))
            else:
                self.set_status("no monitoring data")
                reason = state.error or "not checked yet (r runs the monitor)"
                summary.update(Text(printable(reason, limit=400), style="bold"))
            verdict.update("")
            return
        report = state.report
        self.set_status("running again…" if state.checking else "")
        summary.update(summary_text(report, state.at))
        self._show_drift(report)
        self._show_performance(report)
        verdict.update(verdict_text(report))

    def _show_drift(self, report: MonitorReport) -> None:
        table = self.table
        table.clear()
        for index, row in enumerate(report.drift):
            table.add_row(
                literal(row.feature, limit=60),
                literal(_value(row.statistic)),
                literal("DRIFT", style="bold reverse") if row.drifted else literal("ok"),
                key=f"{index}",
            )

    def _show_performance(self, report: MonitorReport) -> None:
        box = self.query_one("#monitor-performance", Vertical)
        box.remove_children()
        metrics = report.metrics()
        if not metrics:
            box.mount(Static(Text("realized performance: no labelled weeks yet", style="dim")))
            return
        widgets = []
        for metric, windows in list(metrics.items())[:MAX_METRICS]:
            values = [w.value for w in windows if w.value is not None]
            title = Text()
            title.append(f"{printable(metric, limit=40)} per week", style="bold")
            if values:
                title.append(f"  last {_value(values[-1])} · min {_value(min(values))}")
                title.append(f" · max {_value(max(values))}")
            widgets += [Static(title), Sparkline(values), Static(weekly_line(windows))]
        if len(metrics) > MAX_METRICS:
            widgets.append(Static(Text(f"… {len(metrics) - MAX_METRICS} more metric(s)")))
        box.mount_all(widgets)

    # --- keys -----------------------------------------------------------------------------

    def action_want(self, action: str) -> None:
        self.post_message(DeploymentsScreen.Wanted(action, self.row))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        text = HELP + ("\nR, B and T are disabled: read-only mode" if self.read_only else "")
        self.app.push_screen(HelpScreen(text, "Help · Monitoring"))

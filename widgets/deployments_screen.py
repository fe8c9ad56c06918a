"""The deployments view: every embedded and production deployment, one row each, refreshed in place.

Renders ``console.deployment_model.DeploymentStatus`` rows and the drift state of each
(``console.monitor_contract.MonitorState``) handed to it by the shell; out of sync, unhealthy and
drifted rows carry text markers (``OUT OF SYNC``, ``DOWN``, ``DRIFT 2/5``), so they read without
colour. Keys post ``DeploymentsScreen.Wanted``; the shell acts. Rollout, rollback and retrain are
greyed in read-only mode and pressing them says why.
"""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.deployment_model import DeploymentStatus
from console.monitor_contract import MonitorState
from console.safe_text import printable
from widgets.help_screen import HelpScreen
from widgets.key_footer import KeyFooter
from widgets.tables import NavTable, event_key
from widgets.text import literal

COLUMNS = (
    ("name", "NAME"),
    ("sync", "SYNC"),
    ("health", "HEALTH"),
    ("drift", "DRIFT"),
    ("served", "SERVED"),
    ("alias_v", "ALIAS→"),
    ("model", "MODEL@ALIAS"),
    ("state", "STATE"),
    ("requests", "REQ"),
    ("errors", "ERR%"),
    ("p50", "P50 ms"),
    ("p95", "P95 ms"),
    ("kind", "KIND"),
    ("url", "URL"),
)
MUTATIONS = ("rollout", "rollback", "retrain")
READ_ONLY_REASON = "read-only mode: rollout, rollback and retrain are disabled"
ALERT = "bold reverse"

# every line fits the help modal at 80 columns (74 inside its border and padding)
HELP = (
    "Deployments\n"
    "  j/k, arrows   move\n"
    "  enter, M      monitoring of the deployment\n"
    "  R             roll out: reload on the alias's current version\n"
    "                (confirmed, verified by /version, audited)\n"
    "  B             roll back: the alias back to the previously served\n"
    "                version (plan, gates, confirmation), then roll out;\n"
    "                failed gates can be overridden (reason + model name);\n"
    "                with no previous version, choose one from a list\n"
    "  T             retrain: the model-retrain runbook, model filled in\n"
    "  r             refresh now (the view also refreshes every few seconds)\n"
    "  escape        back to the main screen\n"
    "Markers\n"
    "  OUT OF SYNC   the served version is not the alias's\n"
    "  DOWN          not answering\n"
    "  DRIFT n/m     drifted features in the last monitor run\n"
    "  RETRAIN       the monitor suggests a retrain\n"
    "  unchecked     the monitor had nothing to test against (its screen\n"
    "                says what is missing)\n"
    "  n/a           no monitor command in this installation\n"
    "  -             not checked yet"
)


def _num(value: float | int | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def row_cells(row: DeploymentStatus, drift: MonitorState | None) -> dict[str, Text]:
    """The cells of one deployment, keyed by column; alarms in reverse video (no colour needed)."""
    sync = {True: "in sync", False: "OUT OF SYNC", None: "?"}[row.in_sync]
    health = "ok" if row.healthy else "DOWN"
    mark = (drift or MonitorState()).marker()
    error_rate = None if row.error_rate is None else row.error_rate * 100
    return {
        "name": literal(row.name, limit=40),
        "sync": literal(sync, style=ALERT if row.in_sync is False else ""),
        "health": literal(health, style="" if row.healthy else ALERT),
        "drift": literal(mark, style=ALERT if drift is not None and drift.alarming else ""),
        "served": literal(f"v{row.served_version}" if row.served_version else "?"),
        "alias_v": literal(f"v{row.alias_version}" if row.alias_version else "?"),
        "model": literal(f"{row.model}@{row.alias}", limit=60),
        "state": literal(row.state, style="" if row.state == "running" else "bold"),
        "requests": literal(_num(row.requests, "d")),
        "errors": literal(_num(error_rate, ".1f")),
        "p50": literal(_num(row.latency_p50_ms, ".1f")),
        "p95": literal(_num(row.latency_p95_ms, ".1f")),
        "kind": literal(row.kind),
        "url": literal(row.url, limit=80),
    }


def _look(cell: Text | None) -> tuple[str, str]:
    return ("", "") if cell is None else (cell.plain, str(cell.style))


def row_details(row: DeploymentStatus, drift: MonitorState | None) -> Text:
    """The selected deployment in full, literally: URL, process, what is wrong."""
    text = Text()
    text.append(printable(row.name, limit=80), style="bold")
    text.append(f"  {row.kind} · {row.protocol} · ")
    text.append(printable(row.url or "-", limit=200))
    if row.pid:
        text.append(f" · pid {row.pid}")
    if row.restarts:
        text.append(f" · {row.restarts} restart(s)")
    text.append("\n")
    if row.detail:
        text.append(printable(row.detail, limit=400) + "\n")
    if drift is not None and drift.report is not None and drift.report.reasons:
        text.append("retrain suggested: " if drift.report.retrain_suggested else "monitor: ")
        text.append(printable("; ".join(drift.report.reasons), limit=400) + "\n")
    elif drift is not None and drift.error:
        text.append("monitor: " + printable(drift.error, limit=400) + "\n")
    return text


class DeploymentActionsScreen(Screen[None]):
    """A screen offering rollout (R), rollback (B) and retrain (T) as ``want`` actions: greyed in
    read-only mode, and pressing one then says why (the deployments view and the monitor)."""

    read_only: bool = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "want" and parameters and parameters[0] in MUTATIONS and self.read_only:
            return None  # greyed in the footer; pressing the key says why
        return True

    def _explain(self) -> None:
        if self.read_only:
            self.notify(READ_ONLY_REASON, severity="warning")

    # a disabled binding does not run its action: the key reaches these handlers instead
    def key_upper_r(self) -> None:
        self._explain()

    def key_upper_b(self) -> None:
        self._explain()

    def key_upper_t(self) -> None:
        self._explain()


class DeploymentsScreen(DeploymentActionsScreen):
    """A table of deployments with a status line and the selected one's details."""

    DEFAULT_CSS = """
    DeploymentsScreen #deployments-status { height: 1; background: $panel; }
    DeploymentsScreen NavTable { height: 1fr; }
    DeploymentsScreen #deployments-detail { height: auto; max-height: 6;
                                            border-top: solid $accent; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="deployments.back"),
        Binding("M", "want('monitor')", "Monitor", key_display="M", id="deployments.monitor"),
        Binding("R", "want('rollout')", "Rollout", key_display="R", id="deployments.rollout"),
        Binding("B", "want('rollback')", "Rollback", key_display="B", id="deployments.rollback"),
        Binding("T", "want('retrain')", "Retrain", key_display="T", id="deployments.retrain"),
        Binding("r", "want('refresh')", "Refresh", id="deployments.refresh"),
        Binding("q", "close", "Back", show=False),
    ]

    class Wanted(Message):
        """The operator asked for ``action`` (monitor, rollout, rollback, retrain, refresh)."""

        def __init__(self, action: str, row: DeploymentStatus | None) -> None:
            super().__init__()
            self.action, self.row = action, row

    def __init__(self, *, read_only: bool) -> None:
        super().__init__()
        self.read_only = read_only
        self.rows: dict[str, DeploymentStatus] = {}
        self.drift: dict[str, MonitorState] = {}
        self._shown: dict[str, dict[str, Text]] = {}
        self.loaded = False
        self._status = "reading the deployments…"
        self._ready = False  # composed: what arrived earlier is painted on mount

    def compose(self) -> ComposeResult:
        yield Static(id="deployments-status")
        yield NavTable(id="deployments-table")
        yield Static(id="deployments-detail")
        yield KeyFooter(compact=True)

    @property
    def table(self) -> NavTable:
        return self.query_one(NavTable)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.table.add_column(label, key=key)
        self._ready = True
        self.set_status(self._status)
        if self.loaded:
            self._paint()
        self.table.focus()

    # --- data from the shell --------------------------------------------------------------

    def set_status(self, text: str) -> None:
        # a result may land while the screen is being torn down (quit): nothing to paint then
        with contextlib.suppress(NoMatches):
            self._set_status_now(text)

    def _set_status_now(self, text: str) -> None:
        self._status = text
        if not self._ready:
            return
        line = Text()
        if self.read_only:
            line.append(" READ-ONLY ", style="reverse bold")
            line.append(" ")
        line.append("Deployments", style="bold")
        if text:
            line.append(" · ")
            line.append(printable(text, limit=160))
        self.query_one("#deployments-status", Static).update(line)

    def show_rows(self, rows: list[DeploymentStatus]) -> None:
        """Replace the rows; only changed cells are redrawn when the same deployments remain."""
        self.loaded = True
        self.rows = {row.name: row for row in rows}
        self._paint()

    def show_drift(self, drift: dict[str, MonitorState]) -> None:
        """The drift state per deployment name (from the shell's monitor cache)."""
        self.drift = dict(drift)
        self._paint()

    def _paint(self) -> None:
        # a result may land while the screen is being torn down (quit): nothing to paint then
        with contextlib.suppress(NoMatches):
            self._paint_now()

    def _paint_now(self) -> None:
        if not self._ready:
            return
        table = self.table
        cells = {name: row_cells(row, self.drift.get(name)) for name, row in self.rows.items()}
        if list(cells) == list(self._shown):
            with self.app.batch_update():
                for name, new in cells.items():
                    old = self._shown[name]
                    for key, value in new.items():
                        if _look(old.get(key)) != _look(value):
                            table.update_cell(name, key, value, update_width=True)
        else:
            keep = table.current_key
            table.clear()
            for name, new in cells.items():
                table.add_row(*(new[key] for key, _ in COLUMNS), key=name)
            if keep is not None:
                table.move_to_key(keep)
        self._shown = cells
        self._show_detail()
        if not self.rows:
            self.query_one("#deployments-detail", Static).update(
                Text("no deployments (start one with `mlops-console deploy MODEL --alias A`)")
            )

    @property
    def current(self) -> DeploymentStatus | None:
        key = self.table.current_key
        return self.rows.get(key) if key is not None else None

    def _show_detail(self) -> None:
        row = self.current
        if row is not None:
            self.query_one("#deployments-detail", Static).update(
                row_details(row, self.drift.get(row.name))
            )

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event_key(event):
            self._show_detail()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        row = self.rows.get(event_key(event))
        if row is not None:
            self.post_message(self.Wanted("monitor", row))

    # --- keys -----------------------------------------------------------------------------

    def action_want(self, action: str) -> None:
        row = self.current
        if row is None and action != "refresh":
            self.notify("no deployment selected", severity="warning")
            return
        self.post_message(self.Wanted(action, row))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        text = HELP + ("\nR, B and T are disabled: read-only mode" if self.read_only else "")
        self.app.push_screen(HelpScreen(text, "Help · Deployments"))

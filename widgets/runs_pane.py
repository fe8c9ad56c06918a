"""The experiments-and-runs pane: experiments on top, the selected experiment's runs below.

Runs arrive a page at a time from the shell (``show_runs_page``); when the cursor or viewport nears
the end of what is loaded and the server has more, the pane posts ``MoreRunsWanted``. Rows keep a
small summary per run, never the full ``Run`` objects, so browsing thousands of runs stays cheap.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from widgets.format import age, duration, number
from widgets.messages import (
    ExperimentHighlighted,
    MoreRunsWanted,
    RunChosen,
    RunHighlighted,
    RunOrderChosen,
)
from widgets.run_columns import RunColumn, choose_columns
from widgets.tables import CellDoesNotExist, NavTable, RowDoesNotExist, event_key
from widgets.text import Cell, literal

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import Experiment, Page, Run

# ask for the next page when the cursor is this close to the last loaded row
PREFETCH_ROWS = 10


@dataclass(slots=True)
class RunSummary:
    """What the detail strip needs about a loaded run (a few fields, not the whole run)."""

    run_id: str
    name: str
    status: str | None
    start_time: int | None
    duration_s: float | None
    user: str | None
    experiment_id: str | None
    n_params: int
    n_metrics: int


def _clock_ms(widget) -> float:
    return getattr(widget.app, "clock", time.time)() * 1000


class ExperimentTable(NavTable):
    """Experiments: enter moves to their runs."""


class RunsTable(NavTable):
    """Runs of one experiment, paged from the server as the operator scrolls."""

    BINDINGS = [
        # priority: the prompt opens as the key arrives, so the keys typed after it go into it
        Binding(
            "o",
            "order",
            "Sort",
            tooltip="sort the runs by a column (done by the server)",
            priority=True,
        ),
        Binding("enter", "select_cursor", "Open run", show=True),
    ]

    has_more = False
    loading_more = False
    # how close to the end of the loaded rows a fetch starts (set from the page size)
    prefetch = PREFETCH_ROWS

    def action_order(self) -> None:
        self.screen.open_prompt("order")  # type: ignore[attr-defined]

    def _want_more(self) -> None:
        if not self.has_more or self.loading_more or not self.row_count:
            return
        near_cursor = self.cursor_row >= self.row_count - self.prefetch
        # rows are one line high, under a one-line header
        shown = self.scroll_y + self.scrollable_content_region.height - 1
        near_view = shown >= self.row_count - self.prefetch
        if near_cursor or near_view:
            self.loading_more = True
            self.post_message(MoreRunsWanted())

    def check_more(self) -> None:
        """After a page lands: ask for the next one if the viewport is not full yet."""
        self._want_more()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._want_more()

    def watch_cursor_coordinate(self, old_coordinate, new_coordinate) -> None:
        super().watch_cursor_coordinate(old_coordinate, new_coordinate)
        self._want_more()


class RunsPane(Vertical):
    """Pane 1: experiments and their runs."""

    HELP = (
        "Experiments and runs\n"
        "  j/k, arrows   move; the highlighted experiment's runs load below\n"
        "  enter         on an experiment: go to its runs; on a run: its detail\n"
        "  escape        from the runs back to the experiments\n"
        "  /             filter runs: MLflow filter syntax (metrics.rmse < 1) or\n"
        "                plain text (matches the run name); empty clears it\n"
        "  o             sort runs by a column, on the server (rmse, seed ASC)\n"
        "  more runs load as you scroll near the end of the list"
    )

    DEFAULT_CSS = """
    RunsPane ExperimentTable { height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.experiments: dict[str, Experiment] = {}
        self.summaries: dict[str, RunSummary] = {}
        self.columns: list[RunColumn] = []
        self.experiment: Experiment | None = None
        self.filter: str | None = None
        self.order_by: str | None = None
        self._runs_state = ""
        # rows drawn from the prefetch helper's answers (console.prefetch) until the client's
        # own pages replace them
        self._provisional_experiments = False
        self._provisional_runs = False
        # where the provisional rows put the cursors: a cursor the operator moved is kept
        self._provisional_cursors: tuple[str | None, str | None] = (None, None)

    def compose(self) -> ComposeResult:
        yield Static(Text("Experiments"), id="experiments-title", classes="pane-title")
        yield ExperimentTable(id="experiments")
        yield Static(Text("Runs"), id="runs-title", classes="pane-title")
        yield RunsTable(id="runs")

    @property
    def experiment_table(self) -> ExperimentTable:
        return self.query_one(ExperimentTable)

    @property
    def runs_table(self) -> RunsTable:
        return self.query_one(RunsTable)

    # --- experiments ----------------------------------------------------------------------

    def experiments_loading(self) -> None:
        self.query_one("#experiments-title", Static).update(Text("Experiments · loading…"))

    def show_experiments(
        self,
        experiments: Sequence[Experiment],
        *,
        more: bool = False,
        select: str | None = None,
        provisional: bool = False,
    ) -> None:
        """The experiments; ``select`` puts the cursor on one (else it stays where it was).

        ``provisional`` rows (the prefetch helper's) announce nothing when highlighted: there is
        no client yet to load anything with.
        """
        table = self.experiment_table
        keep = table.current_key or (self.experiment.experiment_id if self.experiment else None)
        moved = self._provisional_experiments and keep != self._provisional_cursors[0]
        keep = keep if moved else (select or keep)
        replaced_provisional = self._provisional_experiments and not provisional
        self._provisional_experiments = provisional
        self.experiments = {} if provisional else {e.experiment_id: e for e in experiments}
        with self.app.batch_update():
            table.clear(columns=True)
            table.add_column(Text("experiment"), key="name")
            table.add_column(Text("id"), key="id")
            for exp in experiments:
                table.add_row(
                    Cell(exp.name, limit=40), Cell(exp.experiment_id), key=exp.experiment_id
                )
        suffix = " (first page; use :experiment NAME)" if more else ""
        title = Text(f"Experiments · {len(experiments)}{suffix}")
        self.query_one("#experiments-title", Static).update(title)
        if keep and keep in {e.experiment_id for e in experiments}:
            table.move_to_key(keep)
        if provisional:
            self._provisional_cursors = (table.current_key, self._provisional_cursors[1])
        if replaced_provisional:
            # the cursor may already sit where it lands, and a cursor that does not move
            # announces nothing: announce the experiment, so its runs load through the client
            current = self.experiments.get(table.current_key or "")
            if current is not None:
                self.post_message(ExperimentHighlighted(current))

    def select_experiment(self, experiment_id: str) -> bool:
        return self.experiment_table.move_to_key(experiment_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event_key(event)
        if event.data_table is self.experiment_table:
            experiment = self.experiments.get(key or "")
            if experiment is not None:
                self.post_message(ExperimentHighlighted(experiment))
        elif key:
            self.post_message(RunHighlighted(key))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # arriving at the runs describes the current one in the detail strip
        if event.widget is self.runs_table and self.runs_table.current_key:
            self.post_message(RunHighlighted(self.runs_table.current_key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table is self.experiment_table:
            self.runs_table.focus()
        elif event_key(event):
            self.post_message(RunChosen(event_key(event)))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = next((c for c in self.columns if c.key == event.column_key.value), None)
        if column is None:
            return
        descending = f"{column.order_key} DESC"
        self.post_message(
            RunOrderChosen(f"{column.order_key} ASC" if self.order_by == descending else descending)
        )

    # --- runs -----------------------------------------------------------------------------

    def runs_loading(
        self, experiment: Experiment, filter: str | None, order_by: str | None, *, more: bool
    ) -> None:
        self.experiment = experiment
        self.filter = filter
        self.order_by = order_by
        self._runs_state = "loading more…" if more else "loading…"
        if not more:
            self.runs_table.loading_more = True
        self._update_runs_title()

    def query_refused(self, filter: str | None, order_by: str | None) -> None:
        """The server refused a filter or sort: the title goes back to what the rows show."""
        self.filter = filter
        self.order_by = order_by
        self._runs_state = ""
        self.runs_table.loading_more = False
        self._update_runs_title()

    def refresh_ages(self) -> None:
        """Ages ("4s", "3m") as of now: they tick while the console is open."""
        column = next(
            (c for c in self.columns if c.kind == "attribute" and c.name == "start_time"), None
        )
        if column is None:
            return
        now = _clock_ms(self)
        table = self.runs_table
        for run_id, summary in self.summaries.items():
            with contextlib.suppress(CellDoesNotExist, RowDoesNotExist):
                table.update_cell(run_id, column.key, Cell(age(summary.start_time, now)))

    def runs_failed(self) -> None:
        self._runs_state = "failed (r to retry)"
        self.runs_table.loading_more = False
        self._update_runs_title()

    def show_runs_page(self, page: Page[Run], *, reset: bool, provisional: bool = False) -> None:
        """Add one page; ``reset`` replaces what was shown (new experiment, filter or sort).

        A ``provisional`` page (the prefetch helper's) is drawn the same way and replaced by the
        client's first page, which keeps the cursor where the operator moved it meanwhile.
        """
        table = self.runs_table
        now = _clock_ms(self)
        moved = self._provisional_runs and table.current_key != self._provisional_cursors[1]
        keep_cursor = table.current_key if reset and moved else None
        self._provisional_runs = provisional
        with self.app.batch_update():
            if reset:
                self.summaries.clear()
                keep = [self._order_column_key()] if self.order_by else []
                self.columns = choose_columns(page.items, keep=[k for k in keep if k])
                table.clear(columns=True)
                table.prefetch = max(1, min(PREFETCH_ROWS, len(page.items) // 4))
                for column in self.columns:
                    table.add_column(self._label(column), key=column.key)
            for run in page.items:
                if run.run_id in self.summaries:
                    continue  # offsets shift when runs are added while paging
                self.summaries[run.run_id] = RunSummary(
                    run_id=run.run_id,
                    name=run.name,
                    status=run.info.status,
                    start_time=run.info.start_time,
                    duration_s=run.info.duration_s,
                    user=run.info.user_id,
                    experiment_id=run.info.experiment_id,
                    n_params=len(run.params),
                    n_metrics=len(run.metrics),
                )
                table.add_row(*(self._cell(run, c, now) for c in self.columns), key=run.run_id)
        table.has_more = page.has_more
        table.loading_more = False
        self._runs_state = "loading…" if provisional else ""
        self._update_runs_title()
        table.call_after_refresh(table.check_more)
        if reset and table.row_count:
            if keep_cursor is None or not table.move_to_key(keep_cursor):
                table.move_cursor(row=0, animate=False)
            if provisional:
                self._provisional_cursors = (self._provisional_cursors[0], table.current_key)
            self.post_message(RunHighlighted(table.current_key or ""))

    def withdraw_provisional(self) -> None:
        """The client could not confirm the prefetched rows (the server stopped answering, or
        refused what the helper was given): they go, rather than stay as if loading."""
        if self._provisional_experiments:
            self._provisional_experiments = False
            self.experiment_table.clear(columns=True)
            self.query_one("#experiments-title", Static).update(Text("Experiments"))
        if self._provisional_runs:
            self._provisional_runs = False
            self.summaries.clear()
            self.columns = []
            self.experiment = None
            self.runs_table.clear(columns=True)
            self._runs_state = ""
            self._update_runs_title()

    def highlight_run(self, run_id: str) -> bool:
        return self.runs_table.move_to_key(run_id)

    def _order_column_key(self) -> str | None:
        field = (self.order_by or "").rsplit(" ", 1)[0]
        for prefix, kind in (("metrics.", "metric"), ("params.", "param")):
            if field.startswith(prefix):
                return f"{kind}:{field[len(prefix) :].strip('`')}"
        return None

    def _label(self, column: RunColumn) -> Text:
        label = literal(column.label, limit=24)
        if self.order_by and self.order_by.rsplit(" ", 1)[0] == column.order_key:
            label.append(" ▲" if self.order_by.endswith("ASC") else " ▼")
        return label

    @staticmethod
    def _cell(run: Run, column: RunColumn, now: float) -> Cell:
        if column.kind == "metric":
            return Cell(number(run.metric_value(column.name)))
        if column.kind == "param":
            return Cell(run.params.get(column.name), limit=16)
        if column.name == "run_name":
            return Cell(run.name or run.run_id[:12], limit=28)
        if column.name == "status":
            return Cell(run.info.status)
        return Cell(age(run.info.start_time, now))

    def _update_runs_title(self) -> None:
        parts = ["Runs"]
        if self.experiment is not None:
            parts.append(self.experiment.name)
        count = len(self.summaries)
        if count:
            parts.append(f"{count} loaded" + (", more below" if self.runs_table.has_more else ""))
        if self.filter:
            parts.append(f"filter: {self.filter}")
        if self.order_by:
            parts.append(f"sort: {self.order_by}")
        if self._runs_state:
            parts.append(self._runs_state)
        self.query_one("#runs-title", Static).update(literal(" · ".join(parts), limit=200))

    def summary_of(self, run_id: str) -> RunSummary | None:
        return self.summaries.get(run_id)


def describe_duration(summary: RunSummary) -> str:
    return duration(summary.duration_s)

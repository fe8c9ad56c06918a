"""The run detail screen: overview, params, metrics with history sparklines, tags, dataset
inputs, logged models and where the artifacts live. Escape goes back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from widgets.detail_base import DetailBody, DetailScreen
from widgets.format import duration, format_ms, number, sparkline
from widgets.sections import columns, heading, key_values, stack
from widgets.text import literal

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import LoggedModel, MetricHistory, Run

HELP = (
    "Run detail\n"
    "  j/k, arrows, pgup/pgdn   scroll\n"
    "  g/G, home/end            top / bottom\n"
    "  r                        reload this run\n"
    "  escape                   back to the main screen"
)


class RunScreen(DetailScreen):
    """One run in full; the shell loads it and calls ``show`` (or ``failed``)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
        # top and bottom, as in every list (the version screen keeps g for "go to run")
        Binding("g", "top", "Top", show=False),
        Binding("G", "bottom", "Bottom", show=False),
    ]
    FAILED = "Could not load this run: "
    HELP = HELP
    HELP_TITLE = "Help · Run"

    def action_top(self) -> None:
        self.query_one(DetailBody).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(DetailBody).scroll_end(animate=False)

    def __init__(self, run_id: str) -> None:
        super().__init__(f"Run {run_id}", title_limit=100)
        self.run_id = run_id
        self.run: Run | None = None

    def show(
        self,
        run: Run,
        histories: Mapping[str, MetricHistory],
        logged_models: Sequence[LoggedModel],
    ) -> None:
        if not self._ready(self.show, run, histories, logged_models):
            return
        self.run = run
        info = run.info
        self.query_one("#title", Static).update(
            literal(f"Run {run.name or info.run_id} · {info.run_id}", limit=150)
        )
        overview = key_values(
            [
                ("name", run.name or "-"),
                ("run id", info.run_id),
                ("experiment", info.experiment_id),
                ("status", info.status),
                ("started", format_ms(info.start_time)),
                ("ended", format_ms(info.end_time)),
                ("took", duration(info.duration_s)),
                ("user", info.user_id),
                ("artifacts", info.artifact_uri),
            ]
        )
        metric_rows = []
        for key in sorted(run.metrics):
            latest = run.metrics[key]
            points = histories[key].points if key in histories else []
            values = [p.value for p in points]
            finite = [v for v in values if v is not None]
            metric_rows.append(
                [
                    key,
                    number(latest.value),
                    number(min(finite)) if finite else "-",
                    number(max(finite)) if finite else "-",
                    str(len(points)) if points else "-",
                    Text(sparkline(values)),
                ]
            )
        dataset_rows = [
            [
                d.dataset.name,
                d.dataset.digest,
                d.context,
                d.dataset.source_type,
                d.dataset.source,
            ]
            for d in run.inputs
        ]
        model_rows = [
            [m.model_id, m.name, m.model_type, m.status, m.artifact_uri] for m in logged_models
        ]
        known = {m.model_id for m in logged_models}
        model_rows += [
            [o.model_id, "-", "-", "(not loaded)", "-"]
            for o in run.outputs
            if o.model_id not in known
        ]
        content = stack(
            heading("Overview"),
            overview,
            heading("Params", len(run.params)),
            key_values(sorted(run.params.items())),
            heading("Metrics", len(run.metrics)),
            columns(["metric", "latest", "min", "max", "steps", "history"], metric_rows),
            heading("Tags", len(run.tags)),
            key_values(sorted(run.tags.items())),
            heading("Dataset inputs", len(run.inputs)),
            columns(["name", "digest", "context", "source type", "source"], dataset_rows),
            heading("Logged models", len(model_rows)),
            columns(["model id", "name", "type", "status", "artifacts"], model_rows),
        )
        self._set(content)

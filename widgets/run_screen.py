"""The run detail screen: overview, params, metrics with history sparklines, tags, dataset
inputs, logged models and where the artifacts live. Escape goes back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from widgets.format import duration, format_ms, number, sparkline
from widgets.help_screen import HelpScreen
from widgets.sections import columns, heading, key_values, stack
from widgets.text import literal

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import LoggedModel, MetricHistory, Run

HELP = (
    "Run detail\n"
    "  j/k, arrows, pgup/pgdn   scroll\n"
    "  r                        reload this run\n"
    "  escape                   back to the main screen"
)


class DetailBody(VerticalScroll):
    """The scrollable body of a detail screen, scrolled with j/k as well as the arrows.

    No ``g``/``G`` here: ``g`` is "go to run" on the version screen (home/end scroll instead).
    """

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]
    can_focus = True


class RunScreen(Screen):
    """One run in full; the shell loads it and calls ``show`` (or ``failed``)."""

    DEFAULT_CSS = """
    RunScreen #title { height: 1; background: $panel; text-style: bold; }
    RunScreen DetailBody { padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "help", "Help", key_display="?", show=False),
        Binding("f1", "help", "Help", show=False),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self._pending: tuple | None = None
        self.run_id = run_id
        self.run: Run | None = None

    def compose(self) -> ComposeResult:
        yield Static(literal(f"Run {self.run_id}", limit=100), id="title")
        with DetailBody(id="body"):
            yield Static(Text("loading…"), id="content")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DetailBody).focus()
        if self._pending is not None:
            method, args = self._pending
            self._pending = None
            method(*args)

    def _ready(self, method, *args) -> bool:
        """False (and the call kept for ``on_mount``) when the screen is not composed yet."""
        if self.is_mounted:
            return True
        self._pending = (method, args)
        return False

    def loading(self) -> None:
        if self._ready(self.loading):
            self.query_one("#content", Static).update(Text("loading…"))

    def failed(self, message: str) -> None:
        if not self._ready(self.failed, message):
            return
        body = Text("Could not load this run: ")
        body.append_text(literal(message, limit=400))
        body.append("\nr retries, escape goes back.")
        self.query_one("#content", Static).update(body)

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
            points = histories.get(key).points if key in histories else []
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
        self.query_one("#content", Static).update(content)

    def action_back(self) -> None:
        self.dismiss()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(HELP, "Help · Run"))

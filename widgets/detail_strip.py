"""The detail strip under the panes: a few facts about whatever is highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from console.safe_text import printable
from widgets.format import duration, format_ms
from widgets.text import literal

# a zoomed strip shows values whole, up to this many characters each
EXPANDED_LIMIT = 20_000

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import Experiment, ModelVersion, RegisteredModel


def _field(text: Text, label: str, value: object, limit: int = 60) -> None:
    if len(text):
        text.append("  ")
    text.append(f"{label} ", style="bold")
    text.append_text(literal(value, limit=limit))


class DetailStrip(Static):
    """Two lines describing the current selection; every value rendered literally.

    Expanded (the zoomed strip), values are shown whole and wrap instead of being cut.
    """

    DEFAULT_CSS = """
    DetailStrip { height: 3; border-top: solid $primary; padding: 0 1; }
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expanded = False
        self._last: tuple | None = None

    def set_expanded(self, expanded: bool) -> None:
        """Show whole values (zoomed) or the cut two-line summary; re-renders the selection."""
        if expanded == self.expanded:
            return
        self.expanded = expanded
        if self._last is not None:
            method, args = self._last
            method(*args)

    def _field(self, text: Text, label: str, value: object, limit: int = 60) -> None:
        if self.expanded:
            if len(text):
                text.append("\n")
            text.append(f"{label} ", style="bold")
            text.append(printable(value if value is not None else "-", limit=EXPANDED_LIMIT))
            return
        _field(text, label, value, limit)

    def show_message(self, message: str) -> None:
        self._last = (self.show_message, (message,))
        self.update(literal(message, limit=200))

    def show_experiment(self, experiment: Experiment) -> None:
        self._last = (self.show_experiment, (experiment,))
        text = Text()
        self._field(text, "experiment", experiment.name)
        self._field(text, "id", experiment.experiment_id)
        self._field(text, "created", format_ms(experiment.creation_time))
        self.update(text)

    def show_run(self, summary) -> None:
        """``summary`` is a ``widgets.runs_pane.RunSummary``."""
        self._last = (self.show_run, (summary,))
        text = Text()
        self._field(text, "run", summary.name or "-", 50)
        self._field(text, "id", summary.run_id)
        text.append("\n")
        self._field(text, "status", summary.status)
        self._field(text, "started", format_ms(summary.start_time))
        self._field(text, "took", duration(summary.duration_s))
        self._field(text, "user", summary.user, 30)
        self._field(text, "params", summary.n_params)
        self._field(text, "metrics", summary.n_metrics)
        self.update(text)

    def show_model(self, model: RegisteredModel) -> None:
        self._last = (self.show_model, (model,))
        text = Text()
        self._field(text, "model", model.name)
        self._field(text, "latest", model.latest_version)
        aliases = ", ".join(f"@{a}→v{v}" for a, v in sorted(model.aliases.items()))
        self._field(text, "aliases", aliases or "none", 80)
        if model.description:
            text.append("\n")
            self._field(text, "about", model.description.replace("\n", " "), 120)
        self.update(text)

    def show_version(self, version: ModelVersion) -> None:
        self._last = (self.show_version, (version,))
        text = Text()
        self._field(text, "model", version.name, 40)
        self._field(text, "version", version.version)
        self._field(text, "aliases", " ".join(f"@{a}" for a in version.aliases) or "none", 40)
        self._field(text, "stage", version.current_stage or "None")
        text.append("\n")
        self._field(text, "status", version.status)
        self._field(text, "run", version.run_id)
        self._field(text, "created", format_ms(version.creation_timestamp))
        self.update(text)

    def show_lineage_node(
        self, kind: str, name: str, urn: str, properties: dict, snapshot: str | None = None
    ) -> None:
        """A lineage node (dataset, job, …): its name, the snapshot pinned on the edge that led
        to it (first: it is what the operator came for), then the URN and DataHub's facts."""
        self._last = (self.show_lineage_node, (kind, name, urn, properties, snapshot))
        text = Text()
        self._field(text, kind, name, 60)
        if snapshot:
            self._field(text, "pinned snapshot", snapshot, 40)
            text.append("\n")
        self._field(text, "urn", urn, 100)
        facts = Text()
        for key, value in sorted(properties.items())[:8]:
            self._field(facts, key, value, 40)
        if len(facts):
            text.append("\n")
            text.append_text(facts)
        self.update(text)

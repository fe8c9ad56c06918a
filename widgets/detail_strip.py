"""The detail strip under the panes: a few facts about whatever is highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from widgets.format import duration, format_ms
from widgets.text import literal

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import Experiment, ModelVersion, RegisteredModel


def _field(text: Text, label: str, value: object, limit: int = 60) -> None:
    if len(text):
        text.append("  ")
    text.append(f"{label} ", style="bold")
    text.append_text(literal(value, limit=limit))


class DetailStrip(Static):
    """Two lines describing the current selection; every value rendered literally."""

    DEFAULT_CSS = """
    DetailStrip { height: 3; border-top: solid $primary; padding: 0 1; }
    """

    def show_message(self, message: str) -> None:
        self.update(literal(message, limit=200))

    def show_experiment(self, experiment: Experiment) -> None:
        text = Text()
        _field(text, "experiment", experiment.name)
        _field(text, "id", experiment.experiment_id)
        _field(text, "created", format_ms(experiment.creation_time))
        self.update(text)

    def show_run(self, summary) -> None:
        """``summary`` is a ``widgets.runs_pane.RunSummary``."""
        text = Text()
        _field(text, "run", summary.name or "-", 50)
        _field(text, "id", summary.run_id)
        text.append("\n")
        _field(text, "status", summary.status)
        _field(text, "started", format_ms(summary.start_time))
        _field(text, "took", duration(summary.duration_s))
        _field(text, "user", summary.user, 30)
        _field(text, "params", summary.n_params)
        _field(text, "metrics", summary.n_metrics)
        self.update(text)

    def show_model(self, model: RegisteredModel) -> None:
        text = Text()
        _field(text, "model", model.name)
        _field(text, "latest", model.latest_version)
        aliases = ", ".join(f"@{a}→v{v}" for a, v in sorted(model.aliases.items()))
        _field(text, "aliases", aliases or "none", 80)
        if model.description:
            text.append("\n")
            _field(text, "about", model.description.replace("\n", " "), 120)
        self.update(text)

    def show_version(self, version: ModelVersion) -> None:
        text = Text()
        _field(text, "model", version.name, 40)
        _field(text, "version", version.version)
        _field(text, "aliases", " ".join(f"@{a}" for a in version.aliases) or "none", 40)
        _field(text, "stage", version.current_stage or "None")
        text.append("\n")
        _field(text, "status", version.status)
        _field(text, "run", version.run_id)
        _field(text, "created", format_ms(version.creation_timestamp))
        self.update(text)

    def show_lineage_node(
        self, kind: str, name: str, urn: str, properties: dict, snapshot: str | None = None
    ) -> None:
        """A lineage node (dataset, job, …): its name, the snapshot pinned on the edge that led
        to it (first: it is what the operator came for), then the URN and DataHub's facts."""
        text = Text()
        _field(text, kind, name, 60)
        if snapshot:
            _field(text, "pinned snapshot", snapshot, 40)
            text.append("\n")
        _field(text, "urn", urn, 100)
        facts = Text()
        for key, value in sorted(properties.items())[:8]:
            _field(facts, key, value, 40)
        if len(facts):
            text.append("\n")
            text.append_text(facts)
        self.update(text)

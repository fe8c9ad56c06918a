"""The registry pane: registered models on top, the selected model's versions below.

Versions show their compare mark, aliases, stage, status, source run and age. Highlighting a
version posts ``VersionHighlighted`` (the shell then highlights its run and loads its lineage);
enter posts ``VersionChosen`` to open its detail.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from widgets.format import age
from widgets.messages import ModelHighlighted, VersionChosen, VersionHighlighted
from widgets.tables import CellDoesNotExist, NavTable, RowDoesNotExist, event_key
from widgets.text import Cell, literal

if TYPE_CHECKING:  # the model module costs import time before the first frame
    from console.model import ModelVersion, RegisteredModel


def _clock_ms(widget) -> float:
    return getattr(widget.app, "clock", time.time)() * 1000


class ModelTable(NavTable):
    """Registered models: enter moves to their versions."""


class VersionTable(NavTable):
    """Versions of one registered model, newest first."""

    BINDINGS = [Binding("enter", "select_cursor", "Open version", show=True)]


class RegistryPane(Vertical):
    """Pane 2: the model registry."""

    HELP = (
        "Registry\n"
        "  j/k, arrows   move; the highlighted model's versions load below\n"
        "  enter         on a model: go to its versions; on a version: its detail\n"
        "  escape        from the versions back to the models\n"
        "  m             mark a version for compare (◆ in column m); c compares two\n"
        "  /             filter models by name (plain text) or MLflow filter syntax\n"
        "  h             the model's history: who moved which alias or stage; undo\n"
        "  moving through versions highlights each one's source run in the runs\n"
        "  pane and shows its lineage in the lineage pane"
    )

    DEFAULT_CSS = """
    RegistryPane ModelTable { height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.models: dict[str, RegisteredModel] = {}
        self.versions: dict[str, ModelVersion] = {}
        self.versions_complete = False
        self.model: RegisteredModel | None = None
        self.filter: str | None = None
        # versions marked for compare, as (model, version): shown in the versions table
        self.marks: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        yield Static(Text("Models"), id="models-title", classes="pane-title")
        yield ModelTable(id="models")
        yield Static(Text("Versions"), id="versions-title", classes="pane-title")
        yield VersionTable(id="versions")

    @property
    def model_table(self) -> ModelTable:
        return self.query_one(ModelTable)

    @property
    def version_table(self) -> VersionTable:
        return self.query_one(VersionTable)

    def models_loading(self, filter: str | None = None) -> None:
        self.filter = filter
        title = "Models · loading…" + (f" · filter: {filter}" if filter else "")
        self.query_one("#models-title", Static).update(literal(title, limit=200))

    def show_models(self, models: Sequence[RegisteredModel], *, more: bool = False) -> None:
        table = self.model_table
        keep = table.current_key
        now = _clock_ms(self)
        self.models = {m.name: m for m in models}
        with self.app.batch_update():
            table.clear(columns=True)
            for label, key in (("model", "name"), ("latest", "latest"), ("aliases", "aliases")):
                table.add_column(Text(label), key=key)
            table.add_column(Text("updated"), key="updated")
            for model in models:
                aliases = ", ".join(f"@{a}→v{v}" for a, v in sorted(model.aliases.items()))
                table.add_row(
                    Cell(model.name, limit=32),
                    Cell(model.latest_version),
                    Cell(aliases or "", limit=40),
                    Cell(age(model.last_updated_timestamp, now)),
                    key=model.name,
                )
        title = f"Models · {len(models)}" + (" (first page)" if more else "")
        if self.filter:
            title += f" · filter: {self.filter}"
        self.query_one("#models-title", Static).update(literal(title, limit=200))
        if keep and keep in self.models:
            table.move_to_key(keep)

    def select_model(self, name: str) -> bool:
        return self.model_table.move_to_key(name)

    def versions_loading(self, model: RegisteredModel) -> None:
        self.model = model
        self.query_one("#versions-title", Static).update(
            literal(f"Versions · {model.name} · loading…", limit=200)
        )

    def versions_failed(self) -> None:
        name = self.model.name if self.model else ""
        self.query_one("#versions-title", Static).update(
            literal(f"Versions · {name} · failed (r to retry)", limit=200)
        )

    def show_versions(self, versions: Sequence[ModelVersion], *, more: bool = False) -> None:
        table = self.version_table
        keep = table.current_key
        now = _clock_ms(self)
        self.versions = {v.version: v for v in versions}
        self.versions_complete = not more  # every version of the model, not the newest page
        with self.app.batch_update():
            table.clear(columns=True)
            table.add_column(Text("m"), key="mark", width=1)
            for label in ("ver", "aliases", "stage", "status", "run", "age"):
                table.add_column(Text(label), key=label)
            for v in versions:
                table.add_row(
                    self._mark_cell(v.name, v.version),
                    Cell(v.version),
                    Cell(" ".join(f"@{a}" for a in v.aliases), limit=30),
                    Cell(v.current_stage or "None"),
                    Cell(v.status),
                    Cell((v.run_id or "-")[:8]),
                    Cell(age(v.creation_timestamp, now)),
                    key=v.version,
                )
        name = self.model.name if self.model else ""
        title = f"Versions · {name} · {len(versions)}" + (" (newest shown)" if more else "")
        self.query_one("#versions-title", Static).update(literal(title, limit=200))
        if keep and keep in self.versions:
            table.move_to_key(keep)

    def _mark_cell(self, model: str, version: str) -> Text:
        return Text("◆", style="bold") if (model, version) in self.marks else Text("")

    def show_marks(self, marks: set[tuple[str, str]]) -> None:
        """Mark these versions (the compare selection) in the versions table."""
        self.marks = set(marks)
        table = self.version_table
        if "mark" not in table.columns:
            return
        for number, version in self.versions.items():
            table.update_cell(number, "mark", self._mark_cell(version.name, number))

    def refresh_ages(self) -> None:
        """The "updated" and "age" columns as of now: they tick while the console is open."""
        now = _clock_ms(self)
        for name, model in self.models.items():
            with contextlib.suppress(CellDoesNotExist, RowDoesNotExist):
                self.model_table.update_cell(
                    name, "updated", Cell(age(model.last_updated_timestamp, now))
                )
        for key, version in self.versions.items():
            with contextlib.suppress(CellDoesNotExist, RowDoesNotExist):
                self.version_table.update_cell(
                    key, "age", Cell(age(version.creation_timestamp, now))
                )

    def select_version(self, version: str) -> bool:
        return self.version_table.move_to_key(version)

    @property
    def current_version(self) -> ModelVersion | None:
        return self.versions.get(self.version_table.current_key or "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        key = event_key(event)
        if event.data_table is self.model_table:
            if key in self.models:
                self.post_message(ModelHighlighted(self.models[key]))
        elif key in self.versions:
            self.post_message(VersionHighlighted(self.versions[key]))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # arriving at the versions links the current one, as moving onto it would
        if event.widget is self.version_table and self.current_version is not None:
            self.post_message(VersionHighlighted(self.current_version))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event_key(event)
        if event.data_table is self.model_table:
            self.version_table.focus()
        elif key in self.versions:
            self.post_message(VersionChosen(self.versions[key]))

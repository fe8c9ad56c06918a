"""Shell wiring of the lineage pane: what is selected → its lineage, read in a worker, shown.

A feature of the shell (``console.tui.shell``): a highlighted version (or a run, while the runs
list has the focus) is read with ``console.lineage.reader`` in a job; enter on a lineage node
selects it in the other panes; depth and direction changes re-fetch. Lineage, widgets and
Textual are imported inside the methods so importing this module costs nothing before the first
frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.tui.shell import Shell

GMS_HINT = (
    "Set DATAHUB_GMS_URL (and DATAHUB_GMS_TOKEN) for DataHub GMS, or build a DataHub Lite "
    "store in the console home with `mlops-console lineage sync`."
)


@dataclass(frozen=True)
class LineageSubject:
    """What the pane shows the lineage of: a model version, a run or a dataset."""

    kind: str  # "version", "run" or "dataset"
    key: str  # the run id or dataset URN/table; the model name for a version
    version: str = ""

    @property
    def label(self) -> str:
        if self.kind == "version":
            return f"{self.key} version {self.version}"
        if self.kind == "run":
            return f"run {self.key[:8]}"  # the pane is narrow; the detail strip has the full id
        return f"dataset {self.key}"


@dataclass(frozen=True)
class LineageUnavailable:
    """No lineage store exists: why, and how to get one."""

    how: str


def unavailable(settings: Any) -> LineageUnavailable | None:
    """Why there is no lineage store to read, or ``None`` when GMS or a Lite store exists."""
    from console.embedded.lifecycle import EmbeddedPaths
    from console.lineage.gms import gms_config

    if gms_config(settings) is not None:
        return None
    lite = EmbeddedPaths.for_home(settings.home).datahub_lite_db
    if lite.exists():
        return None
    if settings.embedded:
        return LineageUnavailable(
            f"No DataHub Lite store at {lite} yet: the demo build writes it "
            f"(`mlops-console demo`), or `mlops-console lineage sync`. {GMS_HINT}"
        )
    return LineageUnavailable(f"No DataHub is configured for this server. {GMS_HINT}")


async def load_lineage(
    settings: Any, client: Any, subject: LineageSubject, depth: int, direction: str
) -> Any:
    """The graph of ``subject`` (with the MLflow cross-checks), or ``LineageUnavailable``."""
    from console.errors import ConsoleError
    from console.lineage.reader import open_reader

    missing = unavailable(settings)
    if missing is not None:
        return missing
    async with open_reader(settings) as reader:
        if subject.kind == "version":
            return await reader.lineage_for_version(
                subject.key,
                subject.version,
                depth=depth,
                direction=direction,  # type: ignore[arg-type]
                mlflow=client,
            )
        if subject.kind == "run":
            run = None
            if client is not None:
                try:
                    run = await client.get_run(subject.key)
                except ConsoleError:
                    run = None  # the graph still shows; the checks say params are unavailable
            return await reader.lineage_for_run(
                subject.key,
                depth=depth,
                direction=direction,  # type: ignore[arg-type]
                mlflow_run=run,
            )
        return await reader.lineage_for_dataset(
            subject.key,
            depth=depth,
            direction=direction,  # type: ignore[arg-type]
        )


class LineageFeature:
    """The lineage pane's controller.

    Wiring: the app calls ``show_lineage_of_version`` when a version is highlighted,
    ``show_lineage_of_run`` when a run is highlighted in the focused runs list,
    ``reload_lineage`` on refresh, and hands it the lineage tree's messages; it registers
    ``select_pending_version`` to run after a model's versions are shown.
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self._lineage_subject: LineageSubject | None = None
        self._lineage_shown: tuple[Any, ...] | None = None
        self._pending_version: tuple[str, str] | None = None
        shell.hooks.versions_shown.append(self.select_pending_version)

    # --- what to show -----------------------------------------------------------------------

    def show_lineage_of_version(self, model: str, version: str) -> None:
        self._show_lineage(LineageSubject("version", model, version))

    def show_lineage_of_run(self, run_id: str) -> None:
        self._show_lineage(LineageSubject("run", run_id))

    def _show_lineage(self, subject: LineageSubject) -> None:
        tree = self.shell.main.lineage_pane.tree
        if (subject, tree.depth, tree.direction) == self._lineage_shown:
            return  # already shown or on its way (focus moves re-post the same selection)
        self._lineage_subject = subject
        self._load_lineage()

    def reload_lineage(self) -> None:
        if self._lineage_subject is not None:
            self._load_lineage()

    def _load_lineage(self) -> None:
        from functools import partial

        from console.tui.jobs import Job

        subject = self._lineage_subject
        if subject is None:
            return
        pane = self.shell.main.lineage_pane
        tree = pane.tree
        self._lineage_shown = (subject, tree.depth, tree.direction)
        pane.loading(subject.label)

        def failed(message: str) -> None:
            self._lineage_shown = None  # a later selection of the same subject tries again
            pane.failed(message)

        self.shell.run(
            Job(
                "lineage",
                f"reading the lineage of {subject.label}",
                partial(
                    load_lineage,
                    self.shell.settings,
                    self.shell.client,
                    subject,
                    tree.depth,
                    tree.direction,
                ),
                partial(self._lineage_loaded, subject),
                on_fail=failed,
            )
        )

    def _lineage_loaded(self, subject: LineageSubject, result: Any) -> None:
        pane = self.shell.main.lineage_pane
        if isinstance(result, LineageUnavailable):
            self._lineage_shown = None  # look again next time: the demo may have built a store
            pane.not_configured(subject.label, result.how)
        else:
            pane.show_graph(result, subject.label)

    # --- the tree's messages ----------------------------------------------------------------

    def view_changed(self, message: Any) -> None:
        self._load_lineage()

    def node_chosen(self, message: Any) -> None:
        main = self.shell.main
        props = message.properties
        if message.node_type == "run" and props.get("run_id"):
            main.detail.show_lineage_node("run", message.name, message.urn, props)
            self.shell.hooks.link_run(props["run_id"])
        elif message.node_type == "model_version" and props.get("model"):
            self._select_version(props["model"], props.get("version", ""))
        elif message.node_type == "model_group":
            main.detail.show_lineage_node("model", message.name, message.urn, props)
            main.registry_pane.select_model(message.name)
        else:
            kind = {"dataset": "dataset", "data_job": "job"}.get(message.node_type, "entity")
            main.detail.show_lineage_node(
                kind, message.name, message.urn, props, getattr(message, "snapshot", None)
            )

    def _select_version(self, model: str, version: str) -> None:
        """Select ``version`` of ``model`` in the registry pane, loading the model's versions."""
        registry = self.shell.main.registry_pane
        current = registry.model
        if current is not None and current.name == model:
            if not registry.select_version(version):
                self.shell.notify(f"version {version} is not among the listed versions")
            return
        if registry.select_model(model):
            self._pending_version = (model, version)  # selected once its versions arrive
        else:
            self.shell.notify(f"model {model} is not in the registry list")

    def select_pending_version(self) -> None:
        """Called after a model's versions were shown: finish a selection made from lineage."""
        pending, self._pending_version = self._pending_version, None
        registry = self.shell.main.registry_pane
        if pending is not None and registry.model is not None and registry.model.name == pending[0]:
            registry.select_version(pending[1])

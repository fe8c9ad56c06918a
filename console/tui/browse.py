"""Browsing: experiments and their runs, registered models and their versions, run and version
detail screens — the requests behind the two list panes, and where their results go.

A feature of the shell (``console.tui.shell``): every request is a ``Job``; the filter and sort
of the runs list and the models filter live here.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from console.tui import data
from console.tui.jobs import Job
from widgets import messages as msg

if TYPE_CHECKING:
    from console.model import Experiment
    from console.prefetch_views import FirstAnswers
    from console.tui.shell import Shell
    from widgets.run_screen import RunScreen
    from widgets.version_screen import VersionScreen


class BrowseFeature:
    """The experiments/runs and registry panes, and the run and version detail screens."""

    def __init__(self, shell: Shell, *, page_size: int, on_experiments: Any = None) -> None:
        self.shell = shell
        self.page_size = page_size
        # called with the first page of experiments (the demo build decides on it)
        self.on_experiments = on_experiments
        self.runs_filter: str | None = None
        self.runs_order: str | None = None
        self.models_filter: str | None = None
        self._runs_token: str | None = None
        self._pending_run: str | None = None
        self._experiments_seen = False
        # the experiment the console landed on while no experiment held a run (an empty
        # server, or the first start before the demo is built): the first list that holds runs
        # lands again, on the experiment with the most recent run, unless the operator has
        # moved off it meanwhile
        self._landed_empty: str | None = None
        # the filter and sort of the runs on screen (a refused filter goes back to these)
        self._shown_query: tuple[str | None, str | None] = (None, None)
        self._history_note_shown = False

    def _need_client(self) -> bool:
        return self.shell.client is not None

    def reload_all(self) -> None:
        self.load_experiments()
        self.load_models()
        self.load_runs(reset=True)
        self.reload_registry()

    def reload_registry(self) -> None:
        """The models, the selected model's versions and any open version screen."""
        self.load_models()
        model = self.shell.main.registry_pane.model
        if model is not None:
            self.model_highlighted(msg.ModelHighlighted(model))
        from widgets.version_screen import VersionScreen

        for screen in self.shell.app.screen_stack:
            if isinstance(screen, VersionScreen):
                self.load_version_detail(screen)

    def clear_runs_query(self) -> None:
        self.runs_filter = None
        self.runs_order = None
        self.load_runs(reset=True)

    # --- experiments and runs -------------------------------------------------------------

    def load_experiments(self) -> None:
        if not self._need_client():
            return
        self.shell.main.runs_pane.experiments_loading()
        self.shell.run(
            Job(
                "experiments",
                "loading experiments",
                partial(data.load_experiments, self.shell.client),
                self._show_experiments,
                on_fail=lambda _: self.withdraw_first_page(),
            )
        )

    def _show_experiments(self, found: data.ExperimentList) -> None:
        page = found.page
        pane = self.shell.main.runs_pane
        first = not self._experiments_seen
        self._experiments_seen = True
        # the first time, land on the experiment with the most recent run (not an empty Default);
        # and again when the first runs appear (the demo built on the first start), unless the
        # operator moved off where the console landed
        select = found.latest if first else self._land_again(found)
        pane.show_experiments(page.items, more=page.has_more, select=select)
        if found.latest is None:
            current = pane.experiment_table.current_key
            self._landed_empty = current if first else self._landed_empty
        elif select is not None:
            self._landed_empty = None
            if pane.experiment is None or pane.experiment.experiment_id != select:
                # the cursor row may not announce a move onto a rebuilt table: load its runs
                experiment = pane.experiments.get(select)
                if experiment is not None:
                    self.load_runs(experiment, reset=True)
        if first and not page.items:
            self.shell.main.detail.show_message("no experiments on this server yet")
        if first and self.on_experiments is not None:
            self.on_experiments(page.items)

    def _land_again(self, found: data.ExperimentList) -> str | None:
        """Where a later list lands: the experiment with the most recent run, when the console
        landed while there were no runs and the cursor is still where it landed."""
        if self._landed_empty is None or found.latest is None:
            return None
        current = self.shell.main.runs_pane.experiment_table.current_key
        if current is not None and current != self._landed_empty:
            self._landed_empty = None  # the operator moved: their choice stays
            return None
        return found.latest

    def show_first_page(self, answers: FirstAnswers) -> None:
        """Draw what the prefetch helper found (``console.prefetch``) until the client's own
        answers replace it; never over anything the client has loaded."""
        if self._experiments_seen:
            return
        pane = self.shell.main.runs_pane
        landing = answers.landing
        pane.show_experiments(
            answers.experiments,  # pyright: ignore[reportArgumentType] - wire types, same shape
            more=answers.more_experiments,
            select=landing.experiment_id if landing else None,
            provisional=True,
        )
        if landing is not None and answers.runs.items:
            from console.prefetch_views import WirePage

            pane.runs_loading(landing, None, None, more=False)  # type: ignore[arg-type]
            page = WirePage(answers.runs.items[: self.page_size])
            pane.show_runs_page(page, reset=True, provisional=True)  # type: ignore[arg-type]

    def withdraw_first_page(self) -> None:
        """The client could not confirm the prefetched page: it goes."""
        self.shell.main.runs_pane.withdraw_provisional()

    def experiment_highlighted(self, message: msg.ExperimentHighlighted) -> None:
        if self.shell.main.focused is self.shell.main.runs_pane.experiment_table:
            self.shell.main.detail.show_experiment(message.experiment)
        current = self.shell.main.runs_pane.experiment
        switched = current is None or current.experiment_id != message.experiment.experiment_id
        if switched and (self.runs_filter or "").startswith("attributes.run_id ="):
            self.runs_filter = None  # a pin to one run does not carry over
        self.load_runs(message.experiment, reset=True)

    def load_runs(self, experiment: Experiment | None = None, *, reset: bool) -> None:
        pane = self.shell.main.runs_pane
        experiment = experiment or pane.experiment
        if experiment is None or not self._need_client():
            return
        token = None if reset else self._runs_token
        if not reset and token is None:
            return
        pane.runs_loading(experiment, self.runs_filter, self.runs_order, more=not reset)
        query = (self.runs_filter, self.runs_order)

        refusal: list[bool] = []

        def refused(error: BaseException) -> None:
            from console.mlflow.errors import InvalidRequest

            if isinstance(error, InvalidRequest) and query != self._shown_query:
                # the server refused the filter or sort: the runs shown are still those of the
                # previous query, and the header must say so (the banner says why, once; a
                # refusal is not retried, so the title claims no failure and no retry)
                refusal.append(True)
                self.runs_filter, self.runs_order = self._shown_query
                pane.query_refused(*self._shown_query)

        def failed(_: str) -> None:
            if not refusal:
                pane.runs_failed()

        self.shell.run(
            Job(
                "runs",
                f"loading runs of experiment {experiment.name or experiment.experiment_id}",
                partial(
                    data.load_runs,
                    self.shell.client,
                    experiment.experiment_id,
                    filter=self.runs_filter,
                    order_by=self.runs_order,
                    page_size=self.page_size,
                    page_token=token,
                ),
                partial(self._show_runs, reset=reset, query=query),
                on_fail=failed,
                on_error=refused,
            )
        )

    def _show_runs(self, page, *, reset: bool, query: tuple[str | None, str | None]) -> None:
        pane = self.shell.main.runs_pane
        self._shown_query = query
        self._runs_token = page.next_page_token
        pane.show_runs_page(page, reset=reset)
        if self._pending_run is not None:
            run_id, self._pending_run = self._pending_run, None
            pin = f"attributes.run_id = '{run_id}'"
            if not pane.highlight_run(run_id) and self.runs_filter != pin:
                # beyond the loaded page: show just that run, saying how to get back
                self.runs_filter = pin
                self._pending_run = run_id
                self.shell.notify(
                    "runs filtered to the version's source run; / then enter clears it"
                )
                self.load_runs(reset=True)

    def more_runs_wanted(self, message: msg.MoreRunsWanted) -> None:
        if self._runs_token:
            self.load_runs(reset=False)
        else:
            self.shell.main.runs_pane.runs_table.loading_more = False

    def run_highlighted(self, message: msg.RunHighlighted) -> None:
        pane = self.shell.main.runs_pane
        summary = pane.summary_of(message.run_id)
        if self.shell.main.focused is pane.runs_table:
            if summary is not None:
                self.shell.main.detail.show_run(summary)
            if self._need_client():  # not on the prefetched first page, before connecting
                self.shell.hooks.show_run_lineage(message.run_id)

    def run_order_chosen(self, message: msg.RunOrderChosen) -> None:
        self.runs_order = message.order_by
        self.load_runs(reset=True)

    def run_chosen(self, message: msg.RunChosen) -> None:
        self.open_run(message.run_id)

    def open_run(self, run_id: str) -> None:
        if not self._need_client():
            return
        from widgets.run_screen import RunScreen

        screen = RunScreen(run_id)
        self.shell.app.push_screen(screen)
        self.load_run_detail(screen)

    def load_run_detail(self, screen: RunScreen) -> None:
        screen.loading()
        self.shell.run(
            Job(
                "detail",
                f"loading run {screen.run_id}",
                partial(data.load_run_detail, self.shell.client, screen.run_id),
                lambda d: screen.show(d.run, d.histories, d.logged_models),
                on_fail=screen.failed,
                alive=lambda: screen.is_attached,
                banner=False,
            )
        )

    # --- registry -------------------------------------------------------------------------

    def load_models(self, select: str | None = None) -> None:
        if not self._need_client():
            return
        self.shell.main.registry_pane.models_loading(self.models_filter)

        def show(page) -> None:
            registry = self.shell.main.registry_pane
            registry.show_models(page.items, more=page.has_more)
            if select is not None:
                registry.select_model(select)

        self.shell.run(
            Job(
                "models",
                "loading registered models",
                partial(data.load_models, self.shell.client, self.models_filter),
                show,
            )
        )

    def model_highlighted(self, message: msg.ModelHighlighted) -> None:
        pane = self.shell.main.registry_pane
        if self.shell.main.focused is pane.model_table:
            self.shell.main.detail.show_model(message.model)
        if not self._need_client():
            return
        pane.versions_loading(message.model)
        self.shell.run(
            Job(
                "versions",
                f"loading versions of model {message.model.name}",
                partial(data.load_versions, self.shell.client, message.model.name),
                self._show_versions,
                on_fail=lambda _: pane.versions_failed(),
            )
        )

    def _show_versions(self, page) -> None:
        self.shell.main.registry_pane.show_versions(page.items, more=page.has_more)
        for done in self.shell.hooks.versions_shown:
            done()
        self.shell.app.refresh_bindings()  # promotion keys depend on a version being there
        self._record_read(page)
        self._resolve_pending()

    def _resolve_pending(self) -> None:
        """Resolve this home's unfinished promotions of the model just read (an intent whose
        verification got no answer, or whose console died): its audit outcome and tags."""
        model = self.shell.main.registry_pane.model
        if model is None:
            return
        settings, client, name = self.shell.settings, self.shell.client, model.name

        async def resolve() -> list[str]:
            from commands.history import resolve_pending

            return await resolve_pending(settings, client, name)

        def resolved(notes: list[str]) -> None:
            for note in notes:
                self.shell.notify(note, severity="warning")

        self.shell.run(
            Job(
                "history-resolve",
                f"resolving unfinished promotions of {name}",
                resolve,
                resolved,
                retry=False,
                banner=False,
            )
        )

    def _record_read(self, page) -> None:
        """Feed the registry history with what was just read (observation), off the UI thread.

        The aliases come from the same read as the versions (the client merges them from the
        model it fetches right after the search), so a complete page is one consistent look;
        with more versions than one page, aliases on versions not listed are unknown and the
        read is not recorded (``history`` and ``h`` observe the whole model anyway).
        """
        model = self.shell.main.registry_pane.model
        if model is None or page.has_more:
            return
        name = model.name
        versions = [v for v in page.items if v.name == name]
        aliases = {alias: v.version for v in versions for alias in v.aliases}
        settings, client = self.shell.settings, self.shell.client

        def record() -> list[str]:
            from commands.history import record_read

            return record_read(settings, client, name, aliases, versions)

        self.shell.run(
            Job(
                "history-observe",
                f"recording what was read of {name} in the registry history",
                record,
                self._recorded,
                thread=True,
                retry=False,
            )
        )

    def _recorded(self, notes: list[str]) -> None:
        if notes and not self._history_note_shown:
            self._history_note_shown = True  # once per session: it is secondary to the read
            self.shell.notify(notes[0], severity="warning")

    def version_highlighted(self, message: msg.VersionHighlighted) -> None:
        version = message.version
        self.shell.hooks.show_version_lineage(version.name, version.version)
        if self.shell.main.focused is self.shell.main.registry_pane.version_table:
            self.shell.main.detail.show_version(version)
            if version.run_id:
                self.link_run(version.run_id)

    def link_run(self, run_id: str) -> None:
        """Highlight ``run_id`` in the runs pane, switching experiment when needed."""
        pane = self.shell.main.runs_pane
        if pane.highlight_run(run_id) or not self._need_client():
            return
        self.shell.run(
            Job(
                "locate",
                f"finding run {run_id}",
                partial(data.load_run, self.shell.client, run_id),
                self._show_located_run,
                retry=False,
            )
        )

    def _show_located_run(self, run) -> None:
        pane = self.shell.main.runs_pane
        experiment_id = run.info.experiment_id or ""
        self._pending_run = run.run_id
        if pane.experiment is not None and pane.experiment.experiment_id == experiment_id:
            self.load_runs(reset=True)
        elif not pane.select_experiment(experiment_id):
            # not among the listed experiments: load its runs directly
            from console.model import Experiment

            self.load_runs(Experiment(experiment_id=experiment_id, name=experiment_id), reset=True)

    def version_chosen(self, message: msg.VersionChosen) -> None:
        if not self._need_client():
            return
        from widgets.version_screen import VersionScreen

        screen = VersionScreen(message.version)
        self.shell.app.push_screen(screen)
        self.load_version_detail(screen)

    def load_version_detail(self, screen: VersionScreen) -> None:
        screen.loading()
        v = screen.version
        self.shell.run(
            Job(
                "detail",
                f"loading version {v.version} of model {v.name}",
                partial(data.load_version_detail, self.shell.client, v.name, v.version),
                lambda d: screen.show(d.version, d.files, d.files_error),
                on_fail=screen.failed,
                alive=lambda: screen.is_attached,
                banner=False,
            )
        )

    def jump_to_run(self, message: msg.JumpToRun) -> None:
        # on top of the version: escape from the run comes back to it, as from any detail
        self.link_run(message.run_id)
        self.open_run(message.run_id)

    def go_to_experiment(self, name: str) -> None:
        pane = self.shell.main.runs_pane
        for experiment in pane.experiments.values():
            if name in (experiment.name, experiment.experiment_id):
                pane.select_experiment(experiment.experiment_id)
                self.shell.main.focus_pane(0, pane.runs_table)
                return
        if not self._need_client():
            return

        async def find() -> Experiment:
            return await data.find_experiment(self.shell.client, name)

        def found(experiment: Experiment) -> None:
            self.load_runs(experiment, reset=True)
            self.shell.main.focus_pane(0, pane.runs_table)

        self.shell.run(Job("locate", f"finding experiment {name!r}", find, found, retry=False))

    def go_to_model(self, name: str) -> None:
        """Select model ``name`` in the registry; say so when it does not exist."""
        main = self.shell.main
        if main.registry_pane.select_model(name):
            main.focus_pane(1, main.registry_pane.model_table)
            return
        if not self._need_client():
            return

        def found(model: Any) -> None:
            # beyond the first page of models: show just that one
            self.models_filter = model.name
            self.load_models(select=model.name)
            main.focus_pane(1, main.registry_pane.model_table)

        self.shell.run(
            Job(
                "locate",
                f"finding model {name!r}",
                partial(data.find_model, self.shell.client, name),
                found,
                retry=False,
            )
        )

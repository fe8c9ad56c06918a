"""The TUI shell: builds the configured app (CLI and tests alike) and wires widgets to MLflow.

Every network call runs in a worker (``exclusive=True``, ``exit_on_error=False``, one group per
pane); workers only return results, and one ``Worker.StateChanged`` handler hands them to widgets
or turns failures into a non-fatal banner with automatic retry and backoff. Widgets post typed
messages (``widgets.messages``); the handlers below turn them into requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import inspect
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from console import app_data
from console.app_commands import Command, CommandError, parse_command
from console.app_crash import CrashGuard
from console.app_lineage import LineageShell
from console.app_promotion import PromotionShell
from console.app_provenance import ProvenanceShell
from console.app_runbooks import RunbookShell
from console.errors import ConsoleError, EmbeddedError
from console.settings import Settings, show_url
from widgets import messages as msg
from widgets.main_screen import MainScreen
from widgets.run_columns import parse_filter, parse_order
from widgets.run_screen import RunScreen
from widgets.version_screen import VersionScreen

if TYPE_CHECKING:
    from console.model import Experiment

ClientFactory = Callable[[str], Any]

# seconds between automatic retries of a failed read; the last value repeats
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
RUNS_PAGE_SIZE = 100
TOUCH_EVERY_S = 60.0
DEMO_EXPERIMENT = "next-week-commits"
DEMO_MODULE = "commands.demo"
# palette entries that move the focus: (title, help, `:` focus target)
PANE_COMMANDS = (
    ("Experiments", "go to the experiments list", "experiments"),
    ("Runs", "go to the runs of the selected experiment", "runs"),
    ("Models", "go to the registered models", "models"),
    ("Versions", "go to the versions of the selected model", "versions"),
    ("Lineage", "go to the lineage pane", "lineage"),
)


class Progress(Message):
    """A progress line from a background task (embedded server start, demo build)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


@dataclass
class Job:
    """A named request of one pane: how to run it, where its result goes, what to do on failure."""

    group: str
    what: str
    work: Callable[[], Any]
    deliver: Callable[[Any], None]
    on_fail: Callable[[str], None] | None = None
    thread: bool = False
    retry: bool = True
    # False once the result has nowhere to go (a detail screen that was closed)
    alive: Callable[[], bool] = lambda: True
    attempts: int = field(default=0)


def _no_auto_retry() -> tuple[type[BaseException], ...]:
    from console.mlflow.errors import InvalidRequest, NotFound, PermissionDenied, Unauthorized

    return (InvalidRequest, NotFound, Unauthorized, PermissionDenied, CommandError)


def describe_failure(what: str, error: BaseException) -> str:
    """One line: what failed, why, and what to do (auth failures say so)."""
    from console.mlflow.errors import PermissionDenied, Unauthorized

    if isinstance(error, Unauthorized):
        return f"{what}: authentication failed — {error}"
    if isinstance(error, PermissionDenied):
        return f"{what}: permission denied — {error}"
    if isinstance(error, ConsoleError):
        return f"{what}: {error}"
    return f"{what}: unexpected {type(error).__name__}: {error} (please report it)"


def _tolerate_teardown(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Drop a message that arrives while the main screen is being torn down (on quit).

    Workers and widgets may still post during shutdown; with the panes gone, ``query_one``
    raises ``NoMatches``, which must not end the console with a traceback.
    """

    @functools.wraps(handler)
    def guarded(self: ConsoleApp, *args: Any) -> Any:
        try:
            return handler(self, *args)
        except NoMatches:
            if self.main.children:
                raise
            return None

    return guarded


def _default_client_factory(settings: Settings) -> ClientFactory:
    def make(uri: str) -> Any:
        from console.mlflow.client import MlflowRestClient, RetryPolicy

        # short in-client retries: the console retries on its own, visibly, with backoff
        return MlflowRestClient.from_settings(
            settings, tracking_uri=uri, retry=RetryPolicy(attempts=2)
        )

    return make


class ConsoleApp(CrashGuard, LineageShell, PromotionShell, RunbookShell, ProvenanceShell, App[int]):
    """The operations console: experiments and runs, registry, lineage; keyboard first."""

    TITLE = "mlops-console"
    # the shell mixins' keys are listed here: Textual merges BINDINGS only from DOM classes
    BINDINGS = [
        # promotions (console/app_promotion.py): in the footer only on a version, greyed out
        # in read-only mode; first, so they fit in the footer at 80 columns
        Binding("a", "alias", "Alias", id="promote.alias", tooltip="set, move or remove an alias"),
        Binding("s", "stage", "Stage", id="promote.stage", tooltip="change the version's stage"),
        # quit is in the help and the command line (:q); the footer keeps the pane's keys
        Binding("q", "quit", "Quit", show=False, id="quit"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="reload and retry what failed"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("f1", "help", "Help", show=False, id="help.f1"),
        # provenance and compare (console/app_provenance.py); off the footer to keep it short
        Binding("p", "provenance", "Provenance", show=False, id="provenance"),
        Binding("m", "mark", "Mark", show=False, id="mark"),
        Binding("c", "compare", "Compare", show=False, id="compare"),
        # runbooks (console/app_runbooks.py)
        Binding("b", "runbooks", "Runbooks", show=False, id="runbooks"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: ClientFactory | None = None,
        page_size: int = RUNS_PAGE_SIZE,
        clock: Callable[[], float] = time.time,
        retry_delays: Iterable[float] = RETRY_DELAYS,
        build_demo: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.client_factory = client_factory or _default_client_factory(settings)
        self.page_size = page_size
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.build_demo = build_demo
        self.client: Any = None
        self.tracking_uri: str | None = None
        self.main = MainScreen(read_only=settings.read_only)
        self._jobs: dict[str, Job] = {}
        self._current: dict[str, Worker] = {}
        self._retry_timers: dict[str, Timer] = {}
        self._failed: set[str] = set()
        self.runs_filter: str | None = None
        self.runs_order: str | None = None
        self.models_filter: str | None = None
        self._runs_token: str | None = None
        self._pending_run: str | None = None
        self._experiments_seen = False
        self._demo_started = False

    def get_default_screen(self) -> Screen:
        return self.main

    # --- startup --------------------------------------------------------------------------

    def on_main_screen_ready(self, message: MainScreen.Ready) -> None:
        if self.settings.tracking_uri:
            self.main.status.set_target(show_url(self.settings.tracking_uri) or "")
            self.main.status.set_state("connecting…")
        else:
            self.main.status.set_target(f"embedded · {self.settings.home}")
            self.main.status.set_state("starting the embedded MLflow server…")
            self.set_interval(TOUCH_EVERY_S, self._touch_embedded)
        self.main.detail.show_message("connecting…")
        self._connect()

    def _connect(self) -> None:
        def resolve() -> str:
            # the client's imports (httpx, the models) cost a few hundred ms: pay them here,
            # off the UI thread, after the first frame
            import console.mlflow.client  # noqa: F401
            from console.connection import resolve_tracking_uri

            # progress comes from this thread: post_message is the thread-safe way to the UI
            return resolve_tracking_uri(
                self.settings, lambda text: self.post_message(Progress(text))
            )

        self._run(
            Job(
                "connect",
                "connecting to MLflow",
                resolve,
                self._connected,
                on_fail=lambda _: self.main.status.set_state("not connected (r to retry)"),
                thread=True,
            )
        )

    def _connected(self, uri: str) -> None:
        from console.mlflow.auth import redact_url

        self.tracking_uri = uri
        if self.client is None:
            self.client = self.client_factory(uri)
        self.main.status.set_target(redact_url(uri))
        self.main.status.set_state("connected")
        self.main.detail.show_message("")
        self._load_experiments()
        self._load_models()
        self.load_runbook_catalog()

    def _touch_embedded(self) -> None:
        from console.embedded import touch

        with contextlib.suppress(OSError):
            touch(self.settings.home)

    def on_progress(self, message: Progress) -> None:
        self.main.status.set_state(message.text)

    async def on_unmount(self) -> None:
        if self.client is not None and hasattr(self.client, "aclose"):
            with contextlib.suppress(Exception):
                await self.client.aclose()

    # --- jobs -----------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        timer = self._retry_timers.pop(job.group, None)
        if timer is not None:
            timer.stop()
        if not job.alive():
            self.main.banner.clear(job.group)
            return
        self._jobs[job.group] = job
        self._current[job.group] = self.run_worker(
            job.work,
            name=job.what,
            group=job.group,
            exclusive=True,
            exit_on_error=False,
            thread=job.thread,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        job = self._jobs.get(worker.group)
        if job is None or self._current.get(worker.group) is not worker:
            return  # a superseded request: its result is stale
        if not job.alive():
            self.main.banner.clear(job.group)
            return
        if event.state == WorkerState.SUCCESS:
            job.attempts = 0
            self._failed.discard(job.group)
            self.main.banner.clear(job.group)
            job.deliver(worker.result)
        elif event.state == WorkerState.ERROR and worker.error is not None:
            self._failed_job(job, worker.error)

    def _failed_job(self, job: Job, error: BaseException) -> None:
        message = describe_failure(job.what, error)
        self._failed.add(job.group)
        if job.retry and not isinstance(error, _no_auto_retry()):
            delay = self.retry_delays[min(job.attempts, len(self.retry_delays) - 1)]
            job.attempts += 1
            message += f" — retrying in {delay:g} s (r retries now)"
            self._retry_timers[job.group] = self.set_timer(delay, partial(self._run, job))
        else:
            message += " (r retries)"
        self.main.banner.report(job.group, message)
        if job.on_fail is not None:
            job.on_fail(message)

    def _need_client(self) -> bool:
        return self.client is not None

    # --- experiments and runs -------------------------------------------------------------

    def _load_experiments(self) -> None:
        if not self._need_client():
            return
        self.main.runs_pane.experiments_loading()
        self._run(
            Job(
                "experiments",
                "loading experiments",
                partial(app_data.load_experiments, self.client),
                self._show_experiments,
            )
        )

    def _show_experiments(self, page) -> None:
        self.main.runs_pane.show_experiments(page.items, more=page.has_more)
        first = not self._experiments_seen
        self._experiments_seen = True
        if first and not page.items:
            self.main.detail.show_message("no experiments on this server yet")
        demo_missing = not any(e.name == DEMO_EXPERIMENT for e in page.items)
        if first and self.settings.embedded and self.build_demo and demo_missing:
            self._start_demo()

    def on_experiment_highlighted(self, message: msg.ExperimentHighlighted) -> None:
        if self.main.focused is self.main.runs_pane.experiment_table:
            self.main.detail.show_experiment(message.experiment)
        current = self.main.runs_pane.experiment
        switched = current is None or current.experiment_id != message.experiment.experiment_id
        if switched and (self.runs_filter or "").startswith("attributes.run_id ="):
            self.runs_filter = None  # a pin to one run does not carry over
        self._load_runs(message.experiment, reset=True)

    def _load_runs(self, experiment: Experiment | None = None, *, reset: bool) -> None:
        pane = self.main.runs_pane
        experiment = experiment or pane.experiment
        if experiment is None or not self._need_client():
            return
        token = None if reset else self._runs_token
        if not reset and token is None:
            return
        pane.runs_loading(experiment, self.runs_filter, self.runs_order, more=not reset)
        self._run(
            Job(
                "runs",
                f"loading runs of experiment {experiment.name or experiment.experiment_id}",
                partial(
                    app_data.load_runs,
                    self.client,
                    experiment.experiment_id,
                    filter=self.runs_filter,
                    order_by=self.runs_order,
                    page_size=self.page_size,
                    page_token=token,
                ),
                partial(self._show_runs, reset=reset),
                on_fail=lambda _: pane.runs_failed(),
            )
        )

    def _show_runs(self, page, *, reset: bool) -> None:
        pane = self.main.runs_pane
        self._runs_token = page.next_page_token
        pane.show_runs_page(page, reset=reset)
        if self._pending_run is not None:
            run_id, self._pending_run = self._pending_run, None
            pin = f"attributes.run_id = '{run_id}'"
            if not pane.highlight_run(run_id) and self.runs_filter != pin:
                # beyond the loaded page: show just that run, saying how to get back
                self.runs_filter = pin
                self._pending_run = run_id
                self.notify("runs filtered to the version's source run; / then enter clears it")
                self._load_runs(reset=True)

    def on_more_runs_wanted(self, message: msg.MoreRunsWanted) -> None:
        if self._runs_token:
            self._load_runs(reset=False)
        else:
            self.main.runs_pane.runs_table.loading_more = False

    def on_run_highlighted(self, message: msg.RunHighlighted) -> None:
        pane = self.main.runs_pane
        summary = pane.summary_of(message.run_id)
        if self.main.focused is pane.runs_table:
            if summary is not None:
                self.main.detail.show_run(summary)
            self.show_lineage_of_run(message.run_id)

    def on_run_order_chosen(self, message: msg.RunOrderChosen) -> None:
        self.runs_order = message.order_by
        self._load_runs(reset=True)

    def on_run_chosen(self, message: msg.RunChosen) -> None:
        self._open_run(message.run_id)

    def _open_run(self, run_id: str) -> None:
        if not self._need_client():
            return
        screen = RunScreen(run_id)
        self.push_screen(screen)
        self._load_run_detail(screen)

    def _load_run_detail(self, screen: RunScreen) -> None:
        screen.loading()
        self._run(
            Job(
                "detail",
                f"loading run {screen.run_id}",
                partial(app_data.load_run_detail, self.client, screen.run_id),
                lambda d: screen.show(d.run, d.histories, d.logged_models),
                on_fail=screen.failed,
                alive=lambda: screen.is_attached,
            )
        )

    # --- registry -------------------------------------------------------------------------

    def _load_models(self) -> None:
        if not self._need_client():
            return
        self.main.registry_pane.models_loading(self.models_filter)
        self._run(
            Job(
                "models",
                "loading registered models",
                partial(app_data.load_models, self.client, self.models_filter),
                lambda page: self.main.registry_pane.show_models(page.items, more=page.has_more),
            )
        )

    def on_model_highlighted(self, message: msg.ModelHighlighted) -> None:
        pane = self.main.registry_pane
        if self.main.focused is pane.model_table:
            self.main.detail.show_model(message.model)
        if not self._need_client():
            return
        pane.versions_loading(message.model)
        self._run(
            Job(
                "versions",
                f"loading versions of model {message.model.name}",
                partial(app_data.load_versions, self.client, message.model.name),
                self._show_versions,
                on_fail=lambda _: pane.versions_failed(),
            )
        )

    def _show_versions(self, page) -> None:
        self.main.registry_pane.show_versions(page.items, more=page.has_more)
        self.select_pending_version()
        self.refresh_bindings()  # promotion keys depend on a version being there

    def on_version_highlighted(self, message: msg.VersionHighlighted) -> None:
        version = message.version
        self.show_lineage_of_version(version.name, version.version)
        if self.main.focused is self.main.registry_pane.version_table:
            self.main.detail.show_version(version)
            if version.run_id:
                self._link_run(version.run_id)

    def _link_run(self, run_id: str) -> None:
        """Highlight ``run_id`` in the runs pane, switching experiment when needed."""
        pane = self.main.runs_pane
        if pane.highlight_run(run_id) or not self._need_client():
            return
        self._run(
            Job(
                "locate",
                f"finding run {run_id}",
                partial(app_data.load_run, self.client, run_id),
                self._show_located_run,
                retry=False,
            )
        )

    def _show_located_run(self, run) -> None:
        pane = self.main.runs_pane
        experiment_id = run.info.experiment_id or ""
        self._pending_run = run.run_id
        if pane.experiment is not None and pane.experiment.experiment_id == experiment_id:
            self._load_runs(reset=True)
        elif not pane.select_experiment(experiment_id):
            # not among the listed experiments: load its runs directly
            from console.model import Experiment

            self._load_runs(Experiment(experiment_id=experiment_id, name=experiment_id), reset=True)

    def on_version_chosen(self, message: msg.VersionChosen) -> None:
        if not self._need_client():
            return
        screen = VersionScreen(message.version)
        self.push_screen(screen)
        self._load_version_detail(screen)

    def _load_version_detail(self, screen: VersionScreen) -> None:
        screen.loading()
        v = screen.version
        self._run(
            Job(
                "detail",
                f"loading version {v.version} of model {v.name}",
                partial(app_data.load_version_detail, self.client, v.name, v.version),
                lambda d: screen.show(d.version, d.files, d.files_error),
                on_fail=screen.failed,
                alive=lambda: screen.is_attached,
            )
        )

    def on_jump_to_run(self, message: msg.JumpToRun) -> None:
        if isinstance(self.screen, VersionScreen):
            self.pop_screen()
        self._link_run(message.run_id)
        self._open_run(message.run_id)

    # --- prompt and commands --------------------------------------------------------------

    def on_prompt_submitted(self, message: msg.PromptSubmitted) -> None:
        if message.cancelled:
            return
        if message.kind == "filter":
            self.runs_filter = parse_filter(message.text)
            self._load_runs(reset=True)
        elif message.kind == "model-filter":
            self.models_filter = message.text.strip() or None
            self._load_models()
        elif message.kind == "order":
            self.runs_order = parse_order(message.text, self.main.runs_pane.columns)
            self._load_runs(reset=True)
        else:
            try:
                command = parse_command(message.text)
            except CommandError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            if command is not None:
                self.execute(command)

    def execute(self, command: Command) -> None:
        """Carry out a ``:`` command (also used by the command palette)."""
        main = self.main
        if command.action == "quit":
            self.exit(0)
        elif command.action == "refresh":
            self.action_refresh()
        elif command.action == "help":
            self.action_help()
        elif command.action == "focus":
            targets = {
                "experiments": (0, main.runs_pane.experiment_table),
                "runs": (0, main.runs_pane.runs_table),
                "models": (1, main.registry_pane.model_table),
                "versions": (1, main.registry_pane.version_table),
                "lineage": (2, main.lineage_pane.tree),
            }
            index, widget = targets[command.argument]
            main.focus_pane(index, widget)
        elif command.action == "experiment":
            self._go_to_experiment(command.argument)
        elif command.action == "model":
            if main.registry_pane.select_model(command.argument):
                main.focus_pane(1, main.registry_pane.model_table)
            else:
                self.models_filter = command.argument
                self._load_models()
                main.focus_pane(1, main.registry_pane.model_table)
        elif command.action == "run":
            self._open_run(command.argument)
        elif command.action == "filter":
            self.runs_filter = parse_filter(command.argument)
            self._load_runs(reset=True)
        elif command.action == "order":
            self.runs_order = parse_order(command.argument, main.runs_pane.columns)
            self._load_runs(reset=True)
        elif command.action == "audit":
            self.action_audit()
        elif command.action == "runbook":
            self.open_runbook(command.argument or None)

    def _go_to_experiment(self, name: str) -> None:
        pane = self.main.runs_pane
        for experiment in pane.experiments.values():
            if name in (experiment.name, experiment.experiment_id):
                pane.select_experiment(experiment.experiment_id)
                self.main.focus_pane(0, pane.runs_table)
                return
        if not self._need_client():
            return

        async def find() -> Experiment:
            return await self.client.find_experiment(name)

        def found(experiment: Experiment) -> None:
            self._load_runs(experiment, reset=True)
            self.main.focus_pane(0, pane.runs_table)

        self._run(Job("locate", f"finding experiment {name!r}", find, found, retry=False))

    # --- actions --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.refresh_provenance_screen():
            return
        screen = self.screen
        if isinstance(screen, RunScreen):
            self._load_run_detail(screen)
            return
        if isinstance(screen, VersionScreen):
            self._load_version_detail(screen)
            return
        if self.client is None:
            self._connect()
            return
        self._load_experiments()
        self._load_models()
        self._load_runs(reset=True)
        self.reload_lineage()
        model = self.main.registry_pane.model
        if model is not None:
            self.on_model_highlighted(msg.ModelHighlighted(model))
        if "demo" in self._failed:
            self._demo_started = False
            self._start_demo()

    def action_help(self) -> None:
        screen = self.screen
        helper = getattr(screen, "action_help", None)
        if callable(helper):
            helper()

    def on_retry_requested(self, message: msg.RetryRequested) -> None:
        self.action_refresh()

    # --- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, MainScreen):
            run = self.execute
            for title, help_text, target in PANE_COMMANDS:
                yield SystemCommand(title, help_text, partial(run, Command("focus", target)))
            yield SystemCommand(
                "Filter runs",
                "MLflow filter syntax or part of a run name",
                partial(screen.open_prompt, "filter"),
            )
            yield SystemCommand(
                "Sort runs",
                "by a metric, param or attribute (server side)",
                partial(screen.open_prompt, "order"),
            )
            yield SystemCommand(
                "Clear run filter and sort", "show every run, newest first", self._clear_runs_query
            )
            yield SystemCommand(
                "Refresh", "reload everything and retry what failed", self.action_refresh
            )
            yield SystemCommand("Help", "keys for the focused pane", self.action_help)
            yield from self.promotion_commands(screen)
            yield from self.runbook_commands()
            for experiment in list(screen.runs_pane.experiments.values())[:200]:
                yield SystemCommand(
                    f"Experiment: {experiment.name}",
                    "show this experiment's runs",
                    partial(run, Command("experiment", experiment.experiment_id)),
                    discover=False,
                )
            for name in list(screen.registry_pane.models)[:200]:
                yield SystemCommand(
                    f"Model: {name}",
                    "show this model's versions",
                    partial(run, Command("model", name)),
                    discover=False,
                )
        elif isinstance(screen, RunScreen | VersionScreen):
            yield SystemCommand("Back", "return to the main screen", screen.action_back)
            yield SystemCommand("Reload", "load this view again", self.action_refresh)
            if isinstance(screen, VersionScreen):
                yield SystemCommand(
                    "Go to source run",
                    "open the run that produced this version",
                    screen.action_go_to_run,
                )
                yield from self.promotion_commands(screen)
            yield SystemCommand("Help", "keys for this view", self.action_help)
        yield from super().get_system_commands(screen)

    def _clear_runs_query(self) -> None:
        self.runs_filter = None
        self.runs_order = None
        self._load_runs(reset=True)

    # --- the embedded demo ----------------------------------------------------------------

    def _start_demo(self) -> None:
        if self._demo_started or self.tracking_uri is None:
            return
        try:
            available = importlib.util.find_spec(f"{DEMO_MODULE}.__main__") is not None
        except ImportError:
            available = False
        if not available:
            return
        self._demo_started = True
        self.main.status.set_state("building the demo lifecycle…")

        def built(_: object) -> None:
            self.main.status.set_state("demo built")
            self._load_experiments()
            self._load_models()

        self._run(
            Job(
                "demo",
                "building the demo lifecycle",
                partial(self._build_demo, self.tracking_uri),
                built,
                retry=False,
            )
        )

    async def _build_demo(self, uri: str) -> None:
        """Run the demo pipeline in its own process (it imports mlflow), relaying its progress."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            DEMO_MODULE,
            "--home",
            str(self.settings.home),
            "--tracking-uri",
            uri,
            "--progress-jsonl",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        last_error: list[str] = []

        async def errors() -> None:
            assert proc.stderr is not None
            async for raw in proc.stderr:
                line = raw.decode("utf-8", errors="replace").strip()
                if line:
                    last_error[:] = [line]

        drain = asyncio.ensure_future(errors())
        failure = ""
        try:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                kind, text = _progress_record(raw)
                if kind == "error":
                    failure = text
                elif text:
                    self.post_message(Progress(f"demo: {text}"))
            code = await proc.wait()
            await drain
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            raise
        if code != 0:
            detail = failure or (last_error[0] if last_error else "")
            raise EmbeddedError(
                f"the demo build failed (exit {code}): {detail}",
                hint="run `mlops-console demo` to see the whole output",
            )


def _progress_record(raw: bytes) -> tuple[str, str]:
    """One line of the demo's JSON-lines protocol as (type, text to show)."""
    line = raw.decode("utf-8", errors="replace").strip()
    try:
        doc = json.loads(line)
    except ValueError:
        return "progress", line
    if not isinstance(doc, dict):
        return "progress", line
    kind = str(doc.get("type") or "progress")
    if kind == "result":
        return kind, "done"
    text = str(doc.get("message") or "")
    fraction = doc.get("fraction")
    if kind == "progress" and isinstance(fraction, int | float):
        text = f"{text} ({fraction:.0%})"
    elif kind == "warning":
        text = f"warning: {text}"
    return kind, text


for _name, _handler in list(vars(ConsoleApp).items()):
    if _name.startswith("on_") and callable(_handler) and not inspect.iscoroutinefunction(_handler):
        setattr(ConsoleApp, _name, _tolerate_teardown(_handler))


def build_app(
    settings: Settings,
    *,
    client_factory: ClientFactory | None = None,
    page_size: int = RUNS_PAGE_SIZE,
    clock: Callable[[], float] = time.time,
    retry_delays: Iterable[float] = RETRY_DELAYS,
    build_demo: bool = True,
) -> ConsoleApp:
    """The configured console, for the CLI and the tests alike."""
    return ConsoleApp(
        settings,
        client_factory=client_factory,
        page_size=page_size,
        clock=clock,
        retry_delays=retry_delays,
        build_demo=build_demo,
    )

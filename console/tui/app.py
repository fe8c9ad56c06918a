"""The TUI app: builds the shell, owns one object per feature, and routes keys and messages to them.

The app holds no feature logic. ``ConsoleApp`` creates the ``Shell`` handle (``console.tui.shell``)
and the features (browse, lineage, promotion, provenance, runbooks, deployments, demo), wires the
few calls between features through ``ShellHooks``, and turns Textual's bindings, messages and
palette requests into calls on those objects. Network calls run as jobs (``console.tui.jobs``).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import SystemCommand
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker

from console.safe_text import printable
from console.tui import verbs
from console.tui.browse import BrowseFeature
from console.tui.commands import Command, CommandError, parse_command
from console.tui.connect import ConnectFeature
from console.tui.crash import CrashGuardedApp
from console.tui.demo import DemoFeature
from console.tui.deployments import DeploymentsFeature
from console.tui.history import HistoryFeature
from console.tui.jobs import RETRY_DELAYS, JobRunner
from console.tui.lineage import LineageFeature
from console.tui.promotion import PromotionFeature
from console.tui.provenance import ProvenanceFeature
from console.tui.runbooks import RunbookFeature
from console.tui.shell import Connection, Shell, ShellHooks
from widgets import messages as msg
from widgets.main_screen import MainScreen
from widgets.run_columns import parse_filter, parse_order

if TYPE_CHECKING:  # pydantic is imported after the first frame (see ``_settings_loaded``)
    from textual.command import Provider

    from console.prefetch import FirstPage
    from console.settings import Settings

ClientFactory = Callable[[str], Any]

RUNS_PAGE_SIZE = 100
TEXTUAL_COMMANDS_DROPPED = frozenset({"Keys", "Maximize", "Minimize"})
# seconds between updates of the ages shown ("4s", "3m") in the lists
AGE_TICK_S = 5.0
PROGRESS_TTL_S = 60.0
# how long the settings wait for the prefetched first page before they are read anyway: both are
# CPU work under one GIL, and the page is what the operator is waiting for
FIRST_PAGE_WAIT_S = 0.4
# seconds after connecting before the runbook catalog is read (for the palette)
CATALOG_DELAY_S = 2.0


class Progress(Message):
    """A progress line from a background task (embedded server start, demo build)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def _tolerate_teardown(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Drop a message that arrives while the main screen is being torn down (on quit).

    Workers and widgets may still post during shutdown; with the panes (or some of their
    children) gone, ``query_one`` raises ``NoMatches``, which must not end the console with a
    traceback. A ``NoMatches`` while the app runs with its panes is a bug, and is raised.
    """

    @functools.wraps(handler)
    def guarded(self: ConsoleApp, *args: Any) -> Any:
        try:
            return handler(self, *args)
        except NoMatches:
            # shutting down (the app stopped running: its screens are being closed, a pane's
            # children may already be gone while the pane is not), or the panes are gone
            if self.is_running and self.main.children:
                raise
            return None

    return guarded


def _palette_provider() -> type[Provider]:
    """The palette's provider, imported when the palette first opens (as Textual's own is)."""
    from widgets.palette import ConsoleCommands

    return ConsoleCommands


def _default_client_factory(settings: Settings) -> ClientFactory:
    def make(uri: str) -> Any:
        from console.mlflow.client import MlflowRestClient, RetryPolicy

        # short in-client retries: the console retries on its own, visibly, with backoff
        return MlflowRestClient.from_settings(
            settings, tracking_uri=uri, retry=RetryPolicy(attempts=2)
        )

    return make


class ConsoleApp(CrashGuardedApp):
    """The operations console: experiments and runs, registry, lineage; keyboard first."""

    TITLE = "mlops-console"
    # the palette's only provider: titles and help as plain Content (Textual's own parses markup)
    COMMANDS = {_palette_provider}
    # every modal's frame scrolls when it does not fit (80×24): tab then brings the focused
    # field or button into view instead of onto a line below the screen
    CSS = """
    ModalScreen > Vertical { overflow-y: auto; }
    /* a placeholder never passes for typed text (a typed confirmation showed the model name
       as if typed): dim and italic, in colour and without it */
    Input > .input--placeholder { text-style: dim italic; }
    """
    # every operator verb's keys, from the one registry (``console.tui.verbs``); their ids are
    # the verbs' ids, so a profile's ``[keys]`` table remaps them
    BINDINGS = verbs.bindings()

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        settings_loader: Callable[[], Settings] | None = None,
        client_factory: ClientFactory | None = None,
        page_size: int = RUNS_PAGE_SIZE,
        clock: Callable[[], float] = time.time,
        retry_delays: Iterable[float] = RETRY_DELAYS,
        build_demo: bool = True,
        first_page: FirstPage | None = None,
    ) -> None:
        super().__init__()
        # the first page a forked helper asked for while Textual imported (console.prefetch)
        self.first_page = first_page
        self._watching_first_page = False
        self._settings_started = False
        if settings is None and settings_loader is None:
            raise TypeError("build_app needs settings or a settings_loader")
        # with a loader, the settings are validated in a worker after the first frame; until
        # then nothing reads them (connecting starts once they are there)
        self._settings_loader = settings_loader
        self.settings: Settings = settings  # type: ignore[assignment]
        # a setting that did not validate: the console ends and the CLI prints it in one line
        self.startup_error: BaseException | None = None
        self.client_factory = client_factory or (
            lambda uri: _default_client_factory(self.settings)(uri)
        )
        self.clock = clock
        # verb id → keys, from the profile's ``[keys]`` (``apply_keymap``)
        self.keymap: dict[str, str] = {}
        self.main = MainScreen(read_only=bool(settings and settings.read_only))
        self.main.on_body = self._take_first_page
        self.jobs = JobRunner(self, lambda: self.main.banner, tuple(retry_delays))
        self.connection = Connection()
        hooks = ShellHooks()
        self.shell = Shell(self, self.settings, self.main, self.jobs, self.connection, hooks)
        self.browse = BrowseFeature(self.shell, page_size=page_size)
        self.lineage = LineageFeature(self.shell)
        self.promotion = PromotionFeature(self.shell)
        self.provenance = ProvenanceFeature(self.shell)
        self.runbooks = RunbookFeature(self.shell)
        self.deployments = DeploymentsFeature(self.shell, clock=clock)
        self.history = HistoryFeature(self.shell)
        self.demo = DemoFeature(
            self.shell, enabled=build_demo, progress=lambda t: self.post_message(Progress(t))
        )
        self.connect = ConnectFeature(
            self.shell,
            self.client_factory,
            progress=lambda t: self.post_message(Progress(t)),
            clock=clock,
        )
        self.connect.on_connected = self._load_everything
        self.connect.on_reconnected = self._reload_everything
        self.connect.on_down = self.browse.withdraw_first_page
        self.browse.on_experiments = self.demo.experiments_seen
        hooks.link_run = self.browse.link_run
        hooks.reload_registry = self.browse.reload_registry
        hooks.refresh = self.action_refresh
        hooks.show_run_lineage = self.lineage.show_lineage_of_run
        hooks.show_version_lineage = self.lineage.show_lineage_of_version
        hooks.open_runbook = self.runbooks.open_prefilled

    @property
    def client(self) -> Any:
        return self.connection.client

    @property
    def tracking_uri(self) -> str | None:
        return self.connection.tracking_uri

    def get_default_screen(self) -> Screen:
        return self.main

    # --- startup --------------------------------------------------------------------------

    # keys that still work in the tenth of a second before the panes are mounted
    KEYS_BEFORE_PANES = frozenset({"q", "ctrl+q", "ctrl+c"})

    async def on_event(self, event: events.Event) -> None:
        # until the panes exist (the frame after the first) no key has anything to act on:
        # dropped, rather than reaching an action that looks for a pane
        if (
            isinstance(event, events.Key)
            and not self.main.body_ready
            and event.key not in self.KEYS_BEFORE_PANES
        ):
            event.stop()
            return
        await super().on_event(event)

    @contextlib.asynccontextmanager
    async def run_test(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Textual's Pilot starts after the first frame; the console's panes come one frame
        later. A test starts with the panes there, as an operator's first key does."""
        async with super().run_test(*args, **kwargs) as pilot:
            for _ in range(500):
                if self.main.body_ready:
                    break
                await pilot.pause(0.01)
            yield pilot

    def on_main_screen_ready(self, message: MainScreen.Ready) -> None:
        self.set_interval(AGE_TICK_S, self._tick_ages)
        first_page = self.first_page
        if first_page is not None:
            import asyncio

            # the helper has not finished: draw its page when it does, and let the settings
            # (CPU work under the same GIL) wait for it a little, not longer
            asyncio.get_running_loop().add_reader(first_page.fd, self._first_page_readable)
            self._watching_first_page = True
            self.set_timer(FIRST_PAGE_WAIT_S, self._start_settings)
            return
        self._start_settings()

    def _take_first_page(self) -> bool:
        """Draw the prefetched first page if the helper has finished; True once it has."""
        first_page = self.first_page
        if first_page is None:
            return True
        if not first_page.read_available():
            return False
        try:
            answers = first_page.result()
        finally:
            self._drop_first_page()
        # not once the client has found the server down: nothing would confirm the page
        if answers is not None and self.connect.down_since is None:
            try:
                self.browse.show_first_page(answers)
            except Exception:  # noqa: BLE001 - provisional rows: the client's page comes anyway
                self.browse.withdraw_first_page()
        return True

    def _first_page_readable(self) -> None:
        if self._take_first_page():
            self._start_settings()

    def _drop_first_page(self) -> None:
        """Stop watching the helper's pipe, close it and reap the helper (ended if running)."""
        first_page, self.first_page = self.first_page, None
        if first_page is None:
            return
        if self._watching_first_page:
            import asyncio

            self._watching_first_page = False
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                asyncio.get_running_loop().remove_reader(first_page.fd)
        first_page.close()

    def _start_settings(self) -> None:
        """Read and validate the settings (in a worker), then connect; once."""
        if self._settings_started:
            return
        self._settings_started = True
        if self.settings is not None:
            self._start_with_settings()
            return
        self.main.detail.show_message("reading the settings…")
        loader = self._settings_loader
        assert loader is not None
        self.run_worker(loader, name="settings", group="settings", thread=True, exit_on_error=False)

    def _settings_loaded(self, worker: Worker) -> None:
        from textual.worker import WorkerState

        if worker.state == WorkerState.SUCCESS:
            self.settings = self.shell.settings = worker.result
            self.main.set_read_only(self.settings.read_only)
            self._start_with_settings()
        elif worker.state == WorkerState.ERROR:
            self.startup_error = worker.error
            self.exit(return_code=2)

    def _start_with_settings(self) -> None:
        if self.settings.keys:
            self.apply_keymap(dict(self.settings.keys))
        self.main.detail.show_message("connecting…")
        self.connect.start()

    def _load_everything(self) -> None:
        self.main.detail.show_message("")
        self.browse.load_experiments()
        self.browse.load_models()
        # parsing the runbooks is CPU work: after the first page, not competing with it
        self.set_timer(CATALOG_DELAY_S, self.runbooks.load_runbook_catalog)

    def _reload_everything(self) -> None:
        self.browse.reload_all()
        self.lineage.reload_lineage()

    def _tick_ages(self) -> None:
        self.main.runs_pane.refresh_ages()
        self.main.registry_pane.refresh_ages()

    def on_progress(self, message: Progress) -> None:
        # progress lines come often while a task runs; the last one fades if it stops
        self.main.status.set_state(message.text, ttl=PROGRESS_TTL_S)

    async def on_unmount(self) -> None:
        self._drop_first_page()
        client = self.connection.client
        if client is not None and hasattr(client, "aclose"):
            with contextlib.suppress(Exception):
                await client.aclose()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "settings":
            self._settings_loaded(event.worker)
            return
        self.jobs.state_changed(event.worker)

    # --- messages from the widgets, routed to their feature -------------------------------

    def on_experiment_highlighted(self, message: msg.ExperimentHighlighted) -> None:
        self.browse.experiment_highlighted(message)

    def on_more_runs_wanted(self, message: msg.MoreRunsWanted) -> None:
        self.browse.more_runs_wanted(message)

    def on_run_highlighted(self, message: msg.RunHighlighted) -> None:
        self.browse.run_highlighted(message)

    def on_run_order_chosen(self, message: msg.RunOrderChosen) -> None:
        self.browse.run_order_chosen(message)

    def on_run_chosen(self, message: msg.RunChosen) -> None:
        self.browse.run_chosen(message)

    def on_model_highlighted(self, message: msg.ModelHighlighted) -> None:
        self.browse.model_highlighted(message)

    def on_version_highlighted(self, message: msg.VersionHighlighted) -> None:
        self.browse.version_highlighted(message)

    def on_version_chosen(self, message: msg.VersionChosen) -> None:
        self.browse.version_chosen(message)

    def on_jump_to_run(self, message: msg.JumpToRun) -> None:
        self.browse.jump_to_run(message)

    def on_lineage_tree_view_changed(self, message: Any) -> None:
        self.lineage.view_changed(message)

    def on_lineage_tree_node_chosen(self, message: Any) -> None:
        self.lineage.node_chosen(message)

    def on_promotion_progress(self, message: Any) -> None:
        self.promotion.progress(message)

    def on_probe_wanted(self, message: Any) -> None:
        self.provenance.probe_wanted(message)

    def on_probe_cancel_wanted(self, message: Any) -> None:
        self.provenance.probe_cancel_wanted(message)

    def on_reproduce_wanted(self, message: Any) -> None:
        self.provenance.reproduce_wanted(message)

    def on_deployments_screen_wanted(self, message: Any) -> None:
        self.deployments.act(message.action, message.row)

    def on_deploy_progress(self, message: Any) -> None:
        self.deployments.progress(message)

    def on_history_screen_undo_wanted(self, message: Any) -> None:
        self.history.undo_wanted(message)

    def on_history_screen_at_wanted(self, message: Any) -> None:
        self.history.at_wanted(message)

    def on_retry_requested(self, message: msg.RetryRequested) -> None:
        self.action_refresh()

    # --- prompt and commands --------------------------------------------------------------

    def on_prompt_submitted(self, message: msg.PromptSubmitted) -> None:
        if message.cancelled:
            return
        browse = self.browse
        if message.kind == "filter":
            browse.runs_filter = parse_filter(message.text)
            browse.load_runs(reset=True)
        elif message.kind == "model-filter":
            browse.models_filter = message.text.strip() or None
            browse.load_models()
        elif message.kind == "order":
            browse.runs_order = parse_order(message.text, self.main.runs_pane.columns)
            browse.load_runs(reset=True)
        else:
            try:
                command = parse_command(message.text)
            except CommandError as exc:
                self.shell.notify(str(exc), severity="error")
                return
            if command is not None:
                self.execute(command)

    def execute(self, command: Command) -> None:
        """Carry out a ``:`` command: its verb, with the argument typed."""
        self.run_verb(command.verb, command.argument)

    def run_verb(self, verb: verbs.Verb, argument: str | None = None) -> None:
        """Carry out ``verb`` (``verbs.Verb.run``); ``argument`` None: from a key or the palette."""
        main = self.main
        if verb.mutates and self.settings is not None and self.settings.read_only:
            # refused at once, whichever way it came (key, palette, ``:``), with the reason
            if verb.explain:
                self._path(verb.explain)()
            return
        if verb.on_main:
            # typed on a detail screen: the panes it acts on are on the main screen
            while len(self.screen_stack) > 1 and self.screen is not main:
                self.pop_screen()
        target = self._path(verb.run)
        if verb.fixed:
            target(verb.fixed)
        elif verb.argument == "none":
            target()
        else:
            target(argument)  # None from a key or the palette, the text (maybe "") typed

    def _path(self, path: str) -> Callable[..., Any]:
        target: Any = self
        for part in path.split("."):
            target = getattr(target, part)
        return target

    def verb_help_lines(self, read_only: bool) -> list[tuple[str, str, bool]]:
        """The help screen's commands block (``widgets.help_screen.command_text``)."""
        return verbs.help_lines(self.keymap, read_only=read_only)

    def action_verb(self, verb_id: str) -> None:
        self.run_verb(verbs.BY_ID[verb_id])

    def verb_state(self, verb: verbs.Verb) -> bool | None:
        """Offered (True), greyed (None) or not offered here (False)."""
        return self._path(verb.state)(verb) if verb.state else True

    # what the verbs run that is the app's own

    def exit_console(self) -> None:
        self.exit(0)

    def filter_runs(self, text: str | None) -> None:
        if text is None:
            self.main.open_prompt("filter")
            return
        self.browse.runs_filter = parse_filter(text)
        self.browse.load_runs(reset=True)

    def sort_runs(self, text: str | None) -> None:
        if text is None:
            self.main.open_prompt("order")
            return
        self.browse.runs_order = parse_order(text, self.main.runs_pane.columns)
        self.browse.load_runs(reset=True)

    def focus_list(self, target: str) -> None:
        main = self.main
        targets = {
            "experiments": (0, main.runs_pane.experiment_table),
            "runs": (0, main.runs_pane.runs_table),
            "models": (1, main.registry_pane.model_table),
            "versions": (1, main.registry_pane.version_table),
            "lineage": (2, main.lineage_pane.tree),
        }
        index, widget = targets[target]
        main.focus_pane(index, widget)

    def completion_candidates(self, what: str) -> list[str]:
        """The names a ``:`` command's argument completes from, as the console knows them."""
        main = self.main
        if what == "experiment":
            return [e.name for e in main.runs_pane.experiments.values()]
        if what == "model":
            return list(main.registry_pane.models)
        if what == "runbook":
            return [e.name for e in self.runbooks.catalog or [] if not e.error]
        if what == "deployment":
            return self.deployments.names()
        return []

    # --- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "verb" and parameters and str(parameters[0]) in verbs.BY_ID:
            return self.verb_state(verbs.BY_ID[str(parameters[0])])
        return super().check_action(action, parameters)

    def on_key(self, event: events.Key) -> None:
        # j/k in the choosers (alias, stage, runbook): an option list has no keys of its own
        # for them, and a modal screen stops app bindings, so this handles the key that
        # bubbled up unused (an input consumes j and k before they get here)
        from textual.widgets import OptionList

        focused = self.focused
        if event.key in ("j", "k") and isinstance(focused, OptionList):
            event.stop()
            if event.key == "j":
                focused.action_cursor_down()
            else:
                focused.action_cursor_up()
            return
        # a greyed verb's key does not run it (Textual skips a disabled binding): say why
        for verb in verbs.VERBS:
            if not verb.explain or event.key not in verbs.bound_keys(verb, self.keymap):
                continue
            if self.verb_state(verb) is None:
                event.stop()
                self._path(verb.explain)()
            return

    def apply_keymap(self, keymap: dict[str, str]) -> None:
        """A profile's ``[keys]`` (verb id → keys): bound now, shown in the help; an id that
        names no verb is reported, not applied."""
        unknown = verbs.unknown_keymap_ids(keymap)
        if unknown:
            known = ", ".join(sorted(verbs.BY_ID))
            self.shell.notify(
                f"[keys] names no command: {', '.join(unknown)} (known: {known})",
                severity="warning",
            )
        self.keymap = {k: v for k, v in keymap.items() if k in verbs.BY_ID}
        self.set_keymap(self.keymap)

    def action_refresh(self) -> None:
        self.jobs.clear_final()  # a 404 or refused filter is not retried: r puts it away
        if self.provenance.refresh_provenance_screen():
            return
        if self.history.refresh_history_screen():
            return
        from widgets.run_screen import RunScreen
        from widgets.version_screen import VersionScreen

        screen = self.screen
        if isinstance(screen, RunScreen):
            self.browse.load_run_detail(screen)
            return
        if isinstance(screen, VersionScreen):
            self.browse.load_version_detail(screen)
            return
        if self.connect.retry():
            return
        self._reload_everything()
        self.demo.retry_if_failed()

    def action_command_palette(self) -> None:
        """Ctrl+P: the console's palette (``widgets.palette.ConsolePalette``)."""
        from widgets.palette import ConsolePalette

        if self.use_command_palette and not ConsolePalette.is_open(self):
            self.push_screen(ConsolePalette(id="--command-palette"))

    def action_help(self) -> None:
        helper = getattr(self.screen, "action_help", None)
        if callable(helper):
            helper()

    # --- the one gate for server text on Textual's own surfaces ----------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, from any screen or feature: sanitized and never markup.

        Toasts often quote server text (model names, errors); control characters become visible
        escapes like in the CLI, so no OSC/CSI sequence reaches the terminal.
        """
        super().notify(
            printable(message, limit=1000, keep_newlines=True),
            title=printable(title, limit=200),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's entries; titles and help may hold server text as it is.

        Only ``widgets.palette.ConsoleCommands`` (``COMMANDS``) reads them: it sanitizes each
        and shows it as plain ``Content``, never markup (Textual's own provider parses titles
        as markup, so it is not used).
        """
        yield from self._palette_entries(screen)

    # --- command palette ------------------------------------------------------------------

    def _verb_entries(self, screen: Screen) -> Iterable[SystemCommand]:
        """The verbs offered on ``screen`` (``verbs.applies``, live here), each with its keys."""
        where = {"main"} if isinstance(screen, MainScreen) else set()
        if self.promotion.version_on(screen) is not None:
            where.add("version")
        for verb in verbs.VERBS:
            if not verbs.applies(verb, where) or self.verb_state(verb) is not True:
                continue
            keys = " ".join(verbs.keys_of(verb, self.keymap))
            hint = " · ".join(part for part in (keys, verbs.usage(verb)) if part)
            yield SystemCommand(verb.title, f"{verb.help} ({hint})", partial(self.run_verb, verb))

    def _palette_entries(self, screen: Screen) -> Iterable[SystemCommand]:
        from widgets.history_screen import HistoryScreen
        from widgets.run_screen import RunScreen
        from widgets.version_screen import VersionScreen

        if isinstance(screen, MainScreen | RunScreen | VersionScreen):
            yield from self._verb_entries(screen)
        if isinstance(screen, MainScreen):
            run = self.execute
            yield from self.history.history_commands(screen)
            yield from self.runbooks.runbook_commands()
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
                yield from self.history.history_commands(screen)
        elif isinstance(screen, HistoryScreen):
            yield from self.history.history_commands(screen)
            yield SystemCommand("Help", "keys for this view", self.action_help)
        else:
            yield from self.deployments.deployment_commands(screen)
        for command in super().get_system_commands(screen):
            # Textual's "Keys" panel did not close on escape and ran its text together, and its
            # maximize is not our zoom: `?` and `z` are the console's own
            if command.title not in TEXTUAL_COMMANDS_DROPPED:
                yield command


for _name, _handler in list(vars(ConsoleApp).items()):
    if _name.startswith("on_") and callable(_handler) and not inspect.iscoroutinefunction(_handler):
        setattr(ConsoleApp, _name, _tolerate_teardown(_handler))


def build_app(
    settings: Settings | None = None,
    *,
    settings_loader: Callable[[], Settings] | None = None,
    client_factory: ClientFactory | None = None,
    page_size: int = RUNS_PAGE_SIZE,
    clock: Callable[[], float] = time.time,
    retry_delays: Iterable[float] = RETRY_DELAYS,
    build_demo: bool = True,
    first_page: FirstPage | None = None,
) -> ConsoleApp:
    """The configured console, for the CLI and the tests alike."""
    return ConsoleApp(
        settings,
        settings_loader=settings_loader,
        first_page=first_page,
        client_factory=client_factory,
        page_size=page_size,
        clock=clock,
        retry_delays=retry_delays,
        build_demo=build_demo,
    )

"""Shell wiring of runbooks: ``b``, ``:runbook [NAME]`` and the palette → chooser → form → runner.

A feature of the shell (``console.tui.shell``). The catalog is read once in
a worker thread (parsing YAML) and kept for the palette; choosing a runbook loads it, turns its
declared parameters into plain ``ParamField`` data for ``RunbookForm``, and pushes
``RunbookScreen`` with the engine's ``run_runbook`` bound to the runbook, settings and choices.
The form starts from what is selected where the runbook was opened (a model, a version: into the
parameters named ``model`` and ``version``); a ``model`` default that this server does not have
is not used silently: the field is left empty, required, and says why.
Commands, widgets and Textual are imported inside the methods: nothing before the first frame.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.tui.shell import Shell


def read_catalog() -> list[Any]:
    """The runbooks as ``widgets.runbook_chooser.RunbookEntry`` values (plain data)."""
    from commands.runbooks.catalog import list_runbooks
    from widgets.runbook_chooser import RunbookEntry

    return [
        RunbookEntry(
            name=e.name,
            title=e.title,
            summary=e.summary,
            steps=e.steps,
            actions=e.actions,
            error=e.error,
        )
        for e in list_runbooks()
    ]


def interrupted_run(settings: Any, runbook: Any) -> str | None:
    """The newest interrupted run of ``runbook`` that can be resumed, described; else None."""
    from commands.runbooks.transcript import latest_resumable
    from console.embedded.lifecycle import EmbeddedPaths

    try:
        found = latest_resumable(
            EmbeddedPaths.for_home(settings.home).transcripts_dir, runbook.name
        )
    except (OSError, ValueError):
        return None  # an unreadable transcript directory offers no resume, and says nothing
    if found is None or [r.id for r in found.steps] != [s.id for s in runbook.steps]:
        return None
    done = sum(1 for r in found.steps if r.state in ("ok", "skipped"))
    started = found.started_at.strftime("%Y-%m-%d %H:%M UTC")
    steps = len(found.steps)
    return f"run {found.run_id[:8]} of {started} ({found.status}) after {done} of {steps} steps"


def param_fields(runbook: Any, env: Any = None) -> list[Any]:
    """The runbook's declared parameters as form fields (defaults as text)."""
    from widgets.runbook_chooser import ParamField

    env = os.environ if env is None else env
    fields = []
    for name, param in runbook.header.parameters.items():
        default = param.default
        if isinstance(default, bool):
            default = "true" if default else "false"
        fields.append(
            ParamField(
                name=name,
                # a credential-looking string (env MLFLOW_TRACKING_PASSWORD...) is typed unseen
                type="secret" if param.is_secret(name) else param.type,
                description=param.description,
                default="" if default is None else str(default),
                env=param.env,
                env_set=bool(param.env and env.get(param.env)),
                required=param.required,
            )
        )
    return fields


def prefilled(fields: list[Any], values: dict[str, str]) -> list[Any]:
    """``fields`` with ``values`` in the parameters they name (as typed, not from the env)."""
    return [
        replace(f, default=values[f.name], env=None, env_set=False) if values.get(f.name) else f
        for f in fields
    ]


async def check_model_default(client: Any, fields: list[Any], values: dict[str, str]) -> list[Any]:
    """Empty and require a ``model`` field whose default is not a registered model on the server.

    Only a default is checked (a selected model exists, a typed one is the operator's); a
    server that cannot be asked leaves the field as it is.
    """
    from console.mlflow.errors import MlflowError, NotFound

    field = next((f for f in fields if f.name == "model"), None)
    if client is None or field is None or values.get("model") or not field.default:
        return fields
    if field.env_set or field.env:
        return fields  # the environment variable comes first, and may well be set on purpose
    try:
        await client.get_registered_model(field.default)
    except NotFound:
        note = (
            f"the default model {field.default} is not registered on this server: "
            "type the model to work on (or select it before opening the runbook)"
        )
        checked = replace(field, default="", required=True, note=note)
        return [checked if f is field else f for f in fields]
    except MlflowError:
        pass  # cannot tell: the run says so if it is missing
    return fields


class RunbookFeature:
    """Runbooks: chooser, parameter form, runner screen.

    Wiring: the app binds ``b`` to ``runbooks``, calls ``open_runbook(name)`` for ``:runbook``
    and yields ``runbook_commands`` in its palette.
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.catalog: list[Any] | None = None

    def open_runbook(self, name: str | None) -> None:
        """The chooser (no name) or the named runbook's form, starting from the selection.

        Read once the focus has settled: after ``:runbook`` the command line gives it back to
        the pane it came from only on the next turn of the loop.
        """
        self.shell.app.call_later(self._open_runbook, name)

    def _open_runbook(self, name: str | None) -> None:
        values = self.selection()
        if name:
            self._runbook_form(name, values)
            return
        self._with_catalog(lambda entries: self._choose_runbook(entries, values))

    def selection(self) -> dict[str, str]:
        """The model (and version) selected where the operator is: the parameters it fills in.

        A version screen's version; on the main screen the registry pane's focused row (a model,
        or a version and its model). Elsewhere nothing: a runbook is not about some model
        highlighted in a pane the operator left.
        """
        from widgets.version_screen import VersionScreen

        screen = self.shell.app.screen
        if isinstance(screen, VersionScreen):
            return {"model": screen.version.name, "version": screen.version.version}
        main = self.shell.main
        registry = main.registry_pane
        if screen is not main:
            return {}
        if main.focused is registry.version_table and registry.current_version is not None:
            version = registry.current_version
            return {"model": version.name, "version": version.version}
        if main.focused is registry.model_table:
            model = registry.models.get(registry.model_table.current_key or "")
            return {"model": model.name} if model is not None else {}
        return {}

    def open_prefilled(self, name: str, values: dict[str, str]) -> None:
        """The named runbook's form with ``values`` in the parameters it declares.

        Says so (one line) when no runbook has that name, instead of failing in a worker.
        """

        def check(entries: list[Any]) -> None:
            entry = next((e for e in entries if e.name == name), None)
            if entry is None:
                self.shell.notify(
                    f"no runbook named {name} is installed (see `mlops-console runbook list`)",
                    severity="warning",
                )
            elif entry.error:
                self.shell.notify(f"runbook {name} cannot be read: {entry.error}", severity="error")
            else:
                self._runbook_form(name, values)

        self._with_catalog(check)

    def _with_catalog(self, then: Any) -> None:
        from console.tui.jobs import Job

        if self.catalog is not None:
            then(self.catalog)
            return

        def loaded(entries: list[Any]) -> None:
            self.catalog = entries
            then(entries)

        self.shell.run(
            Job("runbook-catalog", "listing the runbooks", read_catalog, loaded, thread=True)
        )

    def load_runbook_catalog(self) -> None:
        """Read the catalog in the background once, so the palette can offer each runbook."""
        self._with_catalog(lambda _: None)

    def _choose_runbook(self, entries: list[Any], values: dict[str, str]) -> None:
        from widgets.runbook_chooser import RunbookChooser

        def chosen(name: str | None) -> None:
            if name:
                self._runbook_form(name, values)

        self.shell.app.push_screen(RunbookChooser(entries), chosen)

    def _runbook_form(self, name: str, values: dict[str, str] | None = None) -> None:
        from commands.runbooks.catalog import load_runbook
        from console.tui.jobs import Job

        values = values or {}
        client = self.shell.client

        settings = self.shell.settings

        async def load() -> tuple[Any, list[Any], str | None]:
            # parsing the YAML is CPU work: off the event loop
            runbook = await asyncio.to_thread(load_runbook, name)
            fields = prefilled(param_fields(runbook), values)
            resumable = await asyncio.to_thread(interrupted_run, settings, runbook)
            return runbook, await check_model_default(client, fields, values), resumable

        self.shell.run(
            Job(
                "runbooks",
                f"loading runbook {name}",
                load,
                lambda loaded: self._show_runbook_form(*loaded),
                retry=False,
            )
        )

    def _show_runbook_form(
        self, runbook: Any, fields: list[Any], resumable: str | None = None
    ) -> None:
        from functools import partial

        from widgets.runbook_chooser import RunbookForm

        form = RunbookForm(
            runbook.header.title,
            runbook.header.summary,
            fields,
            read_only=self.shell.settings.read_only,
            actions=sum(1 for s in runbook.steps if s.kind == "action"),
            resumable=resumable,
        )
        self.shell.app.push_screen(form, partial(self._launch_runbook, runbook))

    def _launch_runbook(self, runbook: Any, launch: Any) -> None:
        from commands.runbooks.engine import run_runbook
        from widgets.runbook_screen import RunbookScreen, StepView

        if launch is None:
            return
        settings = self.shell.settings
        if (
            settings.read_only
            and not launch.dry_run
            and any(s.kind == "action" for s in runbook.steps)
        ):
            # the form refuses this already; never start checks and gates only to refuse later
            self.shell.notify("read-only mode: only a dry run of this runbook", severity="warning")
            return
        steps = [StepView(s.id, s.title, s.kind, s.command, s.explanation) for s in runbook.steps]

        resume = bool(getattr(launch, "resume", False))

        def runner(driver: Any) -> Any:
            return run_runbook(
                runbook,
                settings,
                driver,
                dry_run=launch.dry_run,
                overrides=launch.params,
                resume=resume,
            )

        self.shell.app.push_screen(
            RunbookScreen(runbook.header.title, steps, runner, dry_run=launch.dry_run),
            # a runbook may have moved aliases or repaired lineage: show the registry as it is now
            lambda _: self.shell.hooks.refresh(),
        )

    def runbook_commands(self) -> Any:
        """Palette entries: the chooser, and one per runbook once the catalog was read."""
        from functools import partial

        from textual.app import SystemCommand

        for entry in self.catalog or []:
            if entry.error:
                continue
            yield SystemCommand(
                f"Runbook: {entry.title or entry.name}",
                entry.summary or entry.name,
                partial(self.open_runbook, entry.name),
            )

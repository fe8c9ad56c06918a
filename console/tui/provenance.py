"""Shell wiring of provenance and compare: ``p`` provenance, ``m`` mark, ``c`` compare, the probe.

A feature of the shell (``console.tui.shell``): it opens the provenance and compare screens,
loads their data in jobs, runs the
prediction probe as a cancellable worker whose child process is terminated on cancel, and relays
the probe's progress as messages. Widgets, Textual and commands are imported inside the methods
so importing this module costs nothing before the first frame.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.tui.shell import Shell

MAX_MARKS = 2


async def load_provenance(client: Any, settings: Any, model: str, version: str):
    from console.provenance.collect import ProvenanceSources, collect

    sources = ProvenanceSources.from_settings(settings)
    try:
        return await collect(client, model, version, sources)
    finally:
        await sources.aclose()


async def load_diagnosis(client: Any, settings: Any, model: str, left: str, right: str):
    from commands.diagnose import diagnose
    from console.provenance.collect import ProvenanceSources

    sources = ProvenanceSources.from_settings(settings)
    try:
        return await diagnose(client, model, left, right, sources, probe=False)
    finally:
        await sources.aclose()


class ProvenanceFeature:
    """Provenance, marks, compare and the probe.

    Wiring: the app binds ``p``, ``m`` and ``c`` to the actions below, hands it the compare
    screen's probe messages and asks ``refresh_provenance_screen()`` first on refresh.
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.marks: list[tuple[str, str]] = []
        self._probe_screen: Any = None
        self._probe_worker: Any = None

    # --- which version ----------------------------------------------------------------------

    def _version_here(self) -> Any:
        from widgets.version_screen import VersionScreen

        screen = self.shell.app.screen
        if isinstance(screen, VersionScreen):
            return screen.version
        main = self.shell.main
        if screen is main and main.focused is main.registry_pane.version_table:
            return main.registry_pane.current_version
        return None

    # --- provenance -------------------------------------------------------------------------

    def action_provenance(self) -> None:
        version = self._version_here()
        if version is None:
            self.shell.notify("move to a version in the registry pane first", severity="warning")
            return
        self.open_provenance(version.name, version.version)

    def open_provenance(self, model: str, version: str) -> None:
        from widgets.provenance_screen import ProvenanceScreen

        if self.shell.client is None:
            return
        screen = ProvenanceScreen(model, version)
        self.shell.app.push_screen(screen)
        self._load_provenance(screen)

    def _load_provenance(self, screen) -> None:
        from functools import partial

        from console.tui.jobs import Job

        screen.loading()
        self.shell.run(
            Job(
                "provenance",
                f"loading the provenance of version {screen.version} of {screen.model}",
                partial(
                    load_provenance,
                    self.shell.client,
                    self.shell.settings,
                    screen.model,
                    screen.version,
                ),
                screen.show,
                on_fail=screen.failed,
                retry=False,
                alive=lambda: screen.is_attached,
            )
        )

    # --- marks and compare ------------------------------------------------------------------

    def action_mark(self) -> None:
        version = self._version_here()
        if version is None:
            self.shell.notify(
                "move to a version in the registry pane to mark it", severity="warning"
            )
            return
        key = (version.name, version.version)
        marks = self.marks
        if key in marks:
            marks.remove(key)
            self._show_marks()
            self._say(f"unmarked version {version.version}")
            return
        same_model = [m for m in marks if m[0] == version.name]
        marks[:] = [*same_model[-(MAX_MARKS - 1) :], key]
        self._show_marks()
        shown = ", ".join(f"v{v}" for _, v in marks)
        hint = " — c compares them" if len(marks) == MAX_MARKS else " — mark one more"
        self._say(f"marked {shown} of {version.name}{hint}")

    def _say(self, text: str) -> None:
        """A mark's news on the top line, not a toast: a toast stayed over the compare screen's
        causes for seconds after `c` (the marks themselves show as ◆ in the versions)."""
        self.shell.main.status.set_state(text)

    def _show_marks(self) -> None:
        self.shell.main.registry_pane.show_marks(set(self.marks))

    def action_compare(self) -> None:
        if len(self.marks) != MAX_MARKS:
            self.shell.notify("mark two versions of one model with m, then c compares them")
            return
        (model, left), (_, right) = sorted(self.marks, key=lambda m: _number(m[1]))
        self.open_compare(model, left, right)

    def open_compare(self, model: str, left: str, right: str) -> None:
        from widgets.compare_screen import CompareScreen

        if self.shell.client is None:
            return
        screen = CompareScreen(model, left, right)
        self.shell.app.clear_notifications()  # nothing of the screen below covers the causes
        self.shell.app.push_screen(screen)
        self._load_compare(screen)

    def _load_compare(self, screen) -> None:
        from functools import partial

        from console.tui.jobs import Job

        screen.loading()
        self.shell.run(
            Job(
                "compare",
                f"comparing versions {screen.left} and {screen.right} of {screen.model}",
                partial(
                    load_diagnosis,
                    self.shell.client,
                    self.shell.settings,
                    screen.model,
                    screen.left,
                    screen.right,
                ),
                screen.show,
                on_fail=screen.failed,
                retry=False,
                alive=lambda: screen.is_attached,
            )
        )

    # --- the probe --------------------------------------------------------------------------

    def probe_wanted(self, message: Any) -> None:
        from widgets.compare_screen import CompareScreen

        screen = self.shell.app.screen
        if not isinstance(screen, CompareScreen) or screen.diagnosis is None:
            self.shell.notify("the comparison is still loading", severity="warning")
            if isinstance(screen, CompareScreen):
                screen.probe_finished("not started: the comparison is still loading", ok=False)
            return
        self._probe_screen = screen
        self._probe_worker = self.shell.app.run_worker(
            self._probe(screen, getattr(message, "rows_file", None)),
            name="prediction probe",
            group="probe",
            exclusive=True,
            exit_on_error=False,
        )

    async def _probe(self, screen, rows_file: str | None = None) -> None:
        from commands.diagnose import apply_probe, probe_request
        from commands.probe_runner import ProbeError, child_env, run_probe
        from console.errors import ConsoleError
        from console.provenance.collect import ProvenanceSources

        diagnosis = screen.diagnosis
        sources = ProvenanceSources.from_settings(self.shell.settings, lineage=False)
        request = probe_request(
            self.shell.connected_uri,
            diagnosis.left_record,
            diagnosis.right_record,
            sources,
            rows_file=rows_file,
            tolerance=self.shell.settings.probe_tolerance,
        )

        def progress(text: str, fraction: float | None) -> None:
            self.shell.app.call_later(screen.probe_progress, text, fraction)

        try:
            outcome = await run_probe(request, progress, env=child_env(self.shell.settings))
        except ProbeError as exc:
            apply_probe(diagnosis, error=exc)
            screen.probe_finished(str(exc), ok=False)
            screen.show(diagnosis)
            return
        except ConsoleError as exc:
            diagnosis.probe_error = str(exc)
            screen.probe_finished(str(exc), ok=False)
            screen.show(diagnosis)
            return
        except Exception as exc:  # noqa: BLE001 - the probe worker has no Job to report for it
            screen.probe_finished(f"failed: {type(exc).__name__}: {exc}", ok=False)
            return
        apply_probe(diagnosis, outcome)
        p = outcome.predictions
        screen.probe_finished(f"done in {p.seconds or 0:.1f} s: {p.verdict}", ok=True)
        screen.show(diagnosis)

    def probe_cancel_wanted(self, message: Any) -> None:
        worker, screen = self._probe_worker, self._probe_screen
        if worker is not None and not worker.is_finished:
            worker.cancel()  # the runner terminates the probe's process on cancellation
            if screen is not None:
                screen.probe_finished("cancelled", ok=False)

    # --- reproduce --------------------------------------------------------------------------

    def reproduce_wanted(self, message: Any) -> None:
        """``R`` on the provenance screen: retrain the version from its record and compare."""
        from console.tui.jobs import Job

        if self.shell.settings.read_only:
            self.shell.notify(
                "reproduce logs a new run; refused in read-only mode", severity="warning"
            )
            return
        if self.shell.client is None:
            return
        if self.shell.jobs.running("reproduce"):
            self.shell.notify("a reproduction is already running", severity="warning")
            return
        model, version = message.model, message.version
        self.shell.status(f"reproduce: retraining v{version} of {model} from its record…")
        self.shell.run(
            Job(
                "reproduce",
                f"reproducing version {version} of {model}",
                partial(self._reproduce, model, version),
                self._reproduced,
                on_fail=lambda _: self.shell.status("reproduce failed (see the banner)"),
                retry=False,
            )
        )

    async def _reproduce(self, model: str, version: str) -> Any:
        from commands.probe_runner import child_env
        from commands.reproduce import load_train_commands, reproduce
        from console.provenance.collect import ProvenanceSources

        def progress(text: str, fraction: float | None) -> None:
            pct = f" ({fraction:.0%})" if fraction is not None else ""
            self.shell.app.call_later(self.shell.status, f"reproduce: {text}{pct}")

        settings = self.shell.settings
        sources = ProvenanceSources.from_settings(settings, lineage=False)
        try:
            return await reproduce(
                self.shell.client,
                model,
                version,
                sources,
                tracking_uri=self.shell.connected_uri,
                train_commands=load_train_commands(),
                on_progress=progress,
                env=child_env(settings),
            )
        finally:
            await sources.aclose()

    def _reproduced(self, result: Any) -> None:
        from commands.reproduce import audit_result, result_lines
        from widgets.text_viewer import TextViewer

        if result.run_id:
            audit_result(self.shell.settings, result)
        self.shell.status(f"reproduce: {result.verdict} for v{result.version} of {result.model}")
        self.shell.app.push_screen(
            TextViewer(
                f"reproduce {result.model} v{result.version}", "\n".join(result_lines(result))
            )
        )

    # --- refresh ----------------------------------------------------------------------------

    def refresh_provenance_screen(self) -> bool:
        """Reload the provenance or compare screen on top; False when neither is there."""
        from widgets.compare_screen import CompareScreen
        from widgets.provenance_screen import ProvenanceScreen

        screen = self.shell.app.screen
        if isinstance(screen, ProvenanceScreen):
            self._load_provenance(screen)
            return True
        if isinstance(screen, CompareScreen):
            self._load_compare(screen)
            return True
        return False


def _number(version: str) -> int:
    return int(version) if version.isdigit() else 0

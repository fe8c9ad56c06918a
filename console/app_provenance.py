"""Shell wiring of provenance and compare: ``p`` provenance, ``m`` mark, ``c`` compare, the probe.

A mixin for ``console.app.ConsoleApp`` (shell code, like ``app.py``): it opens the provenance and
compare screens, loads their data through the app's workers (``_run``/``Job``), runs the
prediction probe as a cancellable worker whose child process is terminated on cancel, and relays
the probe's progress as messages. Widgets, Textual and commands are imported inside the methods
so importing this module costs nothing before the first frame.
"""

from __future__ import annotations

from typing import Any

MAX_MARKS = 2


async def load_provenance(client: Any, settings: Any, model: str, version: str):
    from console.provenance import ProvenanceSources, collect

    sources = ProvenanceSources.from_settings(settings)
    try:
        return await collect(client, model, version, sources)
    finally:
        await sources.aclose()


async def load_diagnosis(client: Any, settings: Any, model: str, left: str, right: str):
    from commands.diagnose import diagnose
    from console.provenance import ProvenanceSources

    sources = ProvenanceSources.from_settings(settings)
    try:
        return await diagnose(client, model, left, right, sources, probe=False)
    finally:
        await sources.aclose()


class ProvenanceShell:
    """Mixed into the app before ``App``; relies on the app's ``_run``, ``client``, ``settings``.

    Wiring: ``class ConsoleApp(ProvenanceShell, App[int])``; the app binds ``p``, ``m`` and ``c``
    to the actions below (Textual merges ``BINDINGS`` only from DOM classes) and asks
    ``refresh_provenance_screen()`` first in its ``action_refresh``.
    """

    # --- which version ----------------------------------------------------------------------

    def _version_here(self) -> Any:
        from widgets.version_screen import VersionScreen

        screen = self.screen  # type: ignore[attr-defined]
        if isinstance(screen, VersionScreen):
            return screen.version
        main = self.main  # type: ignore[attr-defined]
        if screen is main and main.focused is main.registry_pane.version_table:
            return main.registry_pane.current_version
        return None

    @property
    def marks(self) -> list[tuple[str, str]]:
        if not hasattr(self, "_marks"):
            self._marks: list[tuple[str, str]] = []
        return self._marks

    # --- provenance -------------------------------------------------------------------------

    def action_provenance(self) -> None:
        version = self._version_here()
        if version is None:
            self.notify("move to a version in the registry pane first", severity="warning")  # type: ignore[attr-defined]
            return
        self.open_provenance(version.name, version.version)

    def open_provenance(self, model: str, version: str) -> None:
        from widgets.provenance_screen import ProvenanceScreen

        if self.client is None:  # type: ignore[attr-defined]
            return
        screen = ProvenanceScreen(model, version)
        self.push_screen(screen)  # type: ignore[attr-defined]
        self._load_provenance(screen)

    def _load_provenance(self, screen) -> None:
        from functools import partial

        from console.app import Job

        screen.loading()
        self._run(  # type: ignore[attr-defined]
            Job(
                "provenance",
                f"loading the provenance of version {screen.version} of {screen.model}",
                partial(load_provenance, self.client, self.settings, screen.model, screen.version),  # type: ignore[attr-defined]
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
            self.notify("move to a version in the registry pane to mark it", severity="warning")  # type: ignore[attr-defined]
            return
        key = (version.name, version.version)
        marks = self.marks
        if key in marks:
            marks.remove(key)
            self.notify(f"unmarked version {version.version}", markup=False)  # type: ignore[attr-defined]
            return
        same_model = [m for m in marks if m[0] == version.name]
        marks[:] = [*same_model[-(MAX_MARKS - 1) :], key]
        shown = ", ".join(f"v{v}" for _, v in marks)
        hint = " — c compares them" if len(marks) == MAX_MARKS else " — mark one more"
        self.notify(f"marked {shown} of {version.name}{hint}", markup=False)  # type: ignore[attr-defined]

    def action_compare(self) -> None:
        if len(self.marks) != MAX_MARKS:
            self.notify("mark two versions of one model with m, then c compares them")  # type: ignore[attr-defined]
            return
        (model, left), (_, right) = sorted(self.marks, key=lambda m: _number(m[1]))
        self.open_compare(model, left, right)

    def open_compare(self, model: str, left: str, right: str) -> None:
        from widgets.compare_screen import CompareScreen

        if self.client is None:  # type: ignore[attr-defined]
            return
        screen = CompareScreen(model, left, right)
        self.push_screen(screen)  # type: ignore[attr-defined]
        self._load_compare(screen)

    def _load_compare(self, screen) -> None:
        from functools import partial

        from console.app import Job

        screen.loading()
        self._run(  # type: ignore[attr-defined]
            Job(
                "compare",
                f"comparing versions {screen.left} and {screen.right} of {screen.model}",
                partial(
                    load_diagnosis,
                    self.client,  # type: ignore[attr-defined]
                    self.settings,  # type: ignore[attr-defined]
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

    def on_probe_wanted(self, message) -> None:
        from widgets.compare_screen import CompareScreen

        screen = self.screen  # type: ignore[attr-defined]
        if not isinstance(screen, CompareScreen) or screen.diagnosis is None:
            self.notify("the comparison is still loading", severity="warning")  # type: ignore[attr-defined]
            if isinstance(screen, CompareScreen):
                screen.probe_finished("not started: the comparison is still loading", ok=False)
            return
        self._probe_screen = screen
        self._probe_worker = self.run_worker(  # type: ignore[attr-defined]
            self._probe(screen, getattr(message, "rows_file", None)),
            name="prediction probe",
            group="probe",
            exclusive=True,
            exit_on_error=False,
        )

    async def _probe(self, screen, rows_file: str | None = None) -> None:
        from commands.diagnose import probe_request
        from commands.diagnose_causes import rank_causes
        from commands.probe_runner import child_env, run_probe
        from console.errors import ConsoleError
        from console.provenance import ProvenanceSources

        diagnosis = screen.diagnosis
        sources = ProvenanceSources.from_settings(self.settings, lineage=False)  # type: ignore[attr-defined]
        request = probe_request(
            self.tracking_uri,  # type: ignore[attr-defined]
            diagnosis.left_record,
            diagnosis.right_record,
            sources,
            rows_file=rows_file,
        )

        def progress(text: str, fraction: float | None) -> None:
            self.call_later(screen.probe_progress, text, fraction)  # type: ignore[attr-defined]

        try:
            outcome = await run_probe(request, progress, env=child_env(self.settings))  # type: ignore[attr-defined]
        except ConsoleError as exc:
            diagnosis.probe_error = str(exc)
            screen.probe_finished(str(exc), ok=False)
            screen.show(diagnosis)
            return
        except Exception as exc:  # noqa: BLE001 - the probe worker has no Job to report for it
            screen.probe_finished(f"failed: {type(exc).__name__}: {exc}", ok=False)
            return
        diagnosis.predictions = outcome.predictions
        change = diagnosis.snapshot_change
        diff = outcome.data_diff
        if change is not None and diff:
            older, newer = diff.get("rows_only_older"), diff.get("rows_only_newer")
            if diff.get("older") != change.older:
                older, newer = newer, older
            change.rows_only_older, change.rows_only_newer = older, newer
        diagnosis.causes = rank_causes(
            diagnosis.differences,
            snapshot_change=change,
            commit_range=diagnosis.commit_range,
            predictions=diagnosis.predictions,
            gaps=diagnosis.gaps,
        )
        p = outcome.predictions
        screen.probe_finished(f"done in {p.seconds or 0:.1f} s: {p.verdict}", ok=True)
        screen.show(diagnosis)

    def on_probe_cancel_wanted(self, message) -> None:
        worker = getattr(self, "_probe_worker", None)
        screen = getattr(self, "_probe_screen", None)
        if worker is not None and not worker.is_finished:
            worker.cancel()  # the runner terminates the probe's process on cancellation
            if screen is not None:
                screen.probe_finished("cancelled", ok=False)

    # --- refresh ----------------------------------------------------------------------------

    def refresh_provenance_screen(self) -> bool:
        """Reload the provenance or compare screen on top; False when neither is there."""
        from widgets.compare_screen import CompareScreen
        from widgets.provenance_screen import ProvenanceScreen

        screen = self.screen  # type: ignore[attr-defined]
        if isinstance(screen, ProvenanceScreen):
            self._load_provenance(screen)
            return True
        if isinstance(screen, CompareScreen):
            self._load_compare(screen)
            return True
        return False


def _number(version: str) -> int:
    return int(version) if version.isdigit() else 0

"""Shell wiring of the registry history: ``h``, ``:history [MODEL]``, the ``@`` prompt and undo.

A feature of the shell (``console.tui.shell``). ``h`` on a model or version in the registry pane
(or on a version screen), ``:history MODEL`` and the palette open ``widgets.history_screen`` for
that model; the timeline is read by ``commands.history.timeline`` in a job (which also observes
the model now). The ``@`` prompt's instant is parsed like the CLI's ``--at`` and folded over the
whole timeline (``console.history_model.state_at``). Undo (``u`` or the palette on a history row)
runs ``commands.history.undo`` in an async worker with ``PromotionDriver``: the same plan modal,
gates, typed confirmation, verify and audit as a promotion; refused in read-only mode. Commands,
widgets and Textual are imported inside the methods: nothing before the first frame.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.history.model import HistoryEvent
    from console.tui.shell import Shell


class HistoryFeature:
    """The history screen and undo.

    Wiring: the ``history`` verb (``h``, ``:history [MODEL]``) runs ``open_history`` and asks
    ``verb_state`` where it is offered; the screen's ``UndoWanted``/``AtWanted`` messages to
    ``undo_wanted``/``at_wanted``, ``r`` on the screen to ``refresh_history_screen``, and yields
    ``history_commands`` in the palette.
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    # --- which model -------------------------------------------------------------------------

    def _model_on(self, screen: Any) -> str | None:
        """The model ``h`` means on ``screen``: the registry pane's selection or the version's."""
        from widgets.version_screen import VersionScreen

        if isinstance(screen, VersionScreen):
            return screen.version.name
        main = self.shell.main
        registry = main.registry_pane
        if screen is main and main.focused in (registry.model_table, registry.version_table):
            if main.focused is registry.version_table and registry.current_version is not None:
                return registry.current_version.name
            return registry.model.name if registry.model is not None else None
        return None

    def verb_state(self, verb: Any) -> bool | None:
        """``h`` is offered (and in the footer) only where it names a model."""
        return self._model_on(self.shell.app.screen) is not None

    # --- the screen --------------------------------------------------------------------------

    def open_history(self, model: str | None) -> None:
        from widgets.history_screen import HistoryScreen

        model = (model or "").strip() or self._model_on(self.shell.app.screen)
        if not model:
            self.shell.notify(
                "move to a model or version in the registry pane first (or :history MODEL)",
                severity="warning",
            )
            return
        screen = HistoryScreen(model, read_only=self.shell.settings.read_only)
        self.shell.app.push_screen(screen)
        self.load(screen)

    def load(self, screen: Any) -> None:
        from commands.history import timeline
        from console.tui.jobs import Job

        if self.shell.client is None:
            screen.failed("not connected to MLflow yet")
            return
        screen.loading()
        self.shell.run(
            Job(
                "history",
                f"reading the history of {screen.model_name}",
                partial(timeline, self.shell.settings, self.shell.client, screen.model_name),
                screen.show,
                on_fail=screen.failed,
                retry=False,
                alive=lambda: screen.is_attached,
            )
        )

    def refresh_history_screen(self) -> bool:
        """``r`` on the history screen reads it again; False when it is not on top."""
        from widgets.history_screen import HistoryScreen

        screen = self.shell.app.screen
        if not isinstance(screen, HistoryScreen):
            return False
        self.load(screen)
        return True

    def at_wanted(self, message: Any) -> None:
        """The ``@`` prompt: the state at the typed instant, over the whole timeline."""
        import argparse

        from console.cli.history import parse_instant
        from console.history.model import state_at

        screen = message.screen
        try:
            at = parse_instant(message.text)
        except argparse.ArgumentTypeError as exc:
            self.shell.notify(str(exc), severity="error")
            return
        if screen.timeline is None:
            self.shell.notify("the history is still loading", severity="warning")
            return
        screen.show_state(state_at(screen.timeline.events, at))

    # --- undo --------------------------------------------------------------------------------

    def undo_wanted(self, message: Any) -> None:
        self.start_undo(message.screen, message.event)

    def start_undo(self, screen: Any, event: HistoryEvent) -> None:
        from console.promotion_model import promotion_blocked
        from console.tui.jobs import Job

        reason = promotion_blocked(self.shell.settings.read_only, None)
        if reason:
            self.shell.notify(reason, severity="warning")
            return
        if event.kind == "version":
            self.shell.notify(
                "a version creation cannot be undone (archive or delete the version instead)",
                severity="warning",
            )
            return
        if self.shell.client is None:
            return
        if self.shell.jobs.running("promote"):
            self.shell.notify("a promotion is in progress: finish it first", severity="warning")
            return
        screen.set_busy(f"undo: planning the undo of {event.id}…")
        self.shell.run(
            Job(
                "promote",
                f"undoing {event.describe()} of {event.model}",
                partial(self._undo, screen, event),
                partial(self._undone, screen),
                on_fail=lambda _: self._after_undo(screen, "undo failed (see the banner)"),
                retry=False,
            )
        )

    async def _undo(self, screen: Any, event: HistoryEvent) -> Any:
        from commands.history import undo
        from commands.promote import PromoteContext
        from widgets.promote_modal import PromotionDriver

        ctx = PromoteContext.from_settings(
            self.shell.settings, self.shell.client, self.shell.connected_uri
        )
        driver = PromotionDriver(self.shell.app, target=screen)
        return await undo(ctx, event.model, driver, event_id=event.id)

    def _undone(self, screen: Any, result: Any) -> None:
        from widgets.history_screen import UndoRefusedModal
        from widgets.promote_modal import PlanModal

        state = f"undo {result.outcome.replace('_', ' ')}: {result.message}"
        if result.outcome in ("succeeded", "noop"):
            self.shell.notify(result.message)
        elif result.outcome == "cancelled":
            self.shell.notify(result.message, severity="warning")
        elif result.promotion is not None and result.promotion.plan is not None:
            # refused by the flow, lost race or failed: the plan with the outcome
            self.shell.app.push_screen(PlanModal(result.promotion.plan, result.promotion))
        elif result.plan.refusal:
            # refused before any write (changed since): what it shows now
            self.shell.app.push_screen(UndoRefusedModal(result.plan, result.message))
        else:
            self.shell.notify(result.message, severity="error")
        for warning in result.warnings:
            self.shell.notify(warning, severity="warning")
        self._after_undo(screen, state)

    def _after_undo(self, screen: Any, state: str) -> None:
        """Show how it ended; read the history and the registry again."""
        self.shell.status(state)
        screen.set_busy("")
        if screen.is_attached:
            self.load(screen)
        self.shell.hooks.reload_registry()

    # --- the palette -------------------------------------------------------------------------

    def history_commands(self, screen: Any) -> Any:
        """Palette entries: the history of the model in view; undo on a history row."""
        from textual.app import SystemCommand

        from widgets.history_screen import HistoryScreen

        if isinstance(screen, HistoryScreen):
            yield SystemCommand("Back", "return to the previous screen", screen.action_back)
            yield SystemCommand(
                "Filter by alias",
                "show one alias's changes",
                partial(screen.action_prompt, "alias"),
            )
            yield SystemCommand(
                "State at an instant",
                "aliases and stages at a time you type",
                partial(screen.action_prompt, "at"),
            )
            yield SystemCommand("Reload history", "read it again", self.refresh_history_screen)
            event = screen.current_event
            if event is not None and event.kind != "version" and not screen.read_only:
                yield SystemCommand(
                    f"Undo: {event.describe()}",
                    "restore the state before this change (plan, gates, confirmation, audit)",
                    partial(self.start_undo, screen, event),
                )
            return
        model = self._model_on(screen)
        if model is not None:
            yield SystemCommand(
                f"History: {model}",
                "who moved which alias or stage, when; the state at an instant; undo",
                partial(self.open_history, model),
            )

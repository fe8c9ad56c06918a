"""Shell wiring of promotions and the audit view: ``a`` alias, ``s`` stage, ``:audit``.

A feature of the shell (``console.tui.shell``). On a selected version it asks
the server whether the operator may edit the model, opens the alias or stage chooser, turns the
choice into a ``PromotionRequest`` whose ``expect`` is what the screen showed, and runs
``commands.promote.promote`` in an async worker with ``PromotionDriver`` (gates shown while they
run, cancellable; the plan modal asks for the confirmation; a plan refused by gates offers the
audited override). Read-only mode greys the keys out (``check_action``) and pressing them says why.
Commands, widgets and Textual are imported inside the methods: nothing before the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.tui.shell import Shell


@dataclass
class PromotionInputs:
    """Read when a promotion key is pressed: who may edit, and the aliases when not on screen."""

    permission: Any
    aliases: dict[str, str] = field(default_factory=dict)


async def read_promotion_inputs(
    client: Any, model: str, aliases: dict[str, str] | None
) -> PromotionInputs:
    permission = await client.can_edit_model(model)
    if aliases is None:
        aliases = dict((await client.get_registered_model(model)).aliases)
    return PromotionInputs(permission, aliases)


def read_audit(settings: Any) -> Any:
    from console.audit import AuditFilter, AuditLog

    return AuditLog.for_settings(settings).read(AuditFilter())


class PromotionFeature:
    """Promotions and the audit view.

    Wiring: the verbs ``promote.alias``/``promote.stage`` (``console.tui.verbs``: keys, palette,
    ``:alias``/``:stage``) run ``action_alias``/``action_stage``, ask ``verb_state`` whether they
    are offered and ``explain_disabled`` why not; ``audit`` runs ``action_audit``.
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        # model name → why promotions are not permitted (learnt from the server)
        self._denied: dict[str, str] | None = None
        # the driver of the promotion in progress (its modals: gates running, plan, override)
        self.driver: Any = None

    # --- which version, and may it be promoted ----------------------------------------------

    def version_on(self, screen: Any) -> Any:
        """The version in view on ``screen``: its detail, or the registry pane's cursor."""
        from widgets.version_screen import VersionScreen

        if isinstance(screen, VersionScreen):
            return screen.version
        main = self.shell.main
        if screen is main and main.focused is main.registry_pane.version_table:
            return main.registry_pane.current_version
        return None

    def _blocked(self, model: str | None) -> bool:
        """Cheap (no imports): read-only, or the server said this operator may not edit."""
        if self.shell.settings.read_only:
            return True
        return model is not None and model in (self._denied or {})

    def _block_reason(self, model: str | None) -> str | None:
        from console.promotion_model import promotion_blocked

        if model is not None and model in (self._denied or {}):
            return (self._denied or {})[model]
        return promotion_blocked(self.shell.settings.read_only, None)

    def verb_state(self, verb: Any) -> bool | None:
        """The promotion verbs here: not offered (False), greyed (None) or live (True)."""
        version = self.version_on(self.shell.app.screen)
        if version is None:
            return False  # not offered here (the footer shows what matters on this pane)
        if self._blocked(version.name):
            return None  # shown greyed; pressing the key says why (explain_disabled)
        return True

    # a disabled binding does not run its action: the app hands the key here instead
    def explain_disabled(self) -> None:
        from textual.screen import ModalScreen

        screen = self.shell.app.screen
        if isinstance(screen, ModalScreen):
            return
        version = self.version_on(screen)
        reason = self._block_reason(version.name if version is not None else None)
        if reason:  # read-only says so wherever it is asked (a key, the palette, ``:alias``)
            self.shell.notify(reason, severity="warning")
        elif version is None:
            self.shell.notify("move to a version in the registry pane first", severity="warning")

    # --- the flow ---------------------------------------------------------------------------

    def action_alias(self) -> None:
        self._start_promotion("alias")

    def action_stage(self) -> None:
        self._start_promotion("stage")

    def _start_promotion(self, kind: str, screen: Any = None) -> None:
        from functools import partial

        from console.tui.jobs import Job

        version = self.version_on(screen or self.shell.app.screen)
        if version is None:
            self.shell.notify("move to a version in the registry pane first", severity="warning")
            return
        if self._blocked(version.name):
            self.explain_disabled()
            return
        if self.shell.client is None:
            return
        if self.shell.jobs.running("promote"):
            self.shell.notify("a promotion is in progress: finish it first", severity="warning")
            return
        self.shell.main.status.set_state(f"checking who may change {version.name}…")
        self.shell.run(
            Job(
                "promote",
                f"preparing to change {version.name}",
                partial(
                    read_promotion_inputs,
                    self.shell.client,
                    version.name,
                    self._aliases_shown(version.name),
                ),
                partial(self._choose_target, kind, version),
                on_fail=lambda _: self.shell.main.status.set_state("promotion not started"),
                retry=False,
            )
        )

    def _aliases_shown(self, model: str) -> dict[str, str] | None:
        """The model's aliases as the registry pane shows them (None: not on screen)."""
        shown = self.shell.main.registry_pane.models.get(model)
        return dict(shown.aliases) if shown is not None else None

    def _stage_holder_shown(self, model: str, stage: str) -> str:
        """The newest version in ``stage`` as the registry pane shows it, or ``"none"``."""
        if stage == "None":
            return "none"  # the flow does not compare holders of stage None
        registry = self.shell.main.registry_pane
        if registry.model is None or registry.model.name != model:
            return ""  # not on screen: let the flow compare with what it reads
        holders = [v.version for v in registry.versions.values() if v.current_stage == stage]
        return max(holders, key=int) if holders else "none"

    def _stages_shown(self, model: str) -> dict[str, list[str]] | None:
        """Stage → the versions in it, as the registry pane shows them (None: not on screen)."""
        registry = self.shell.main.registry_pane
        if registry.model is None or registry.model.name != model:
            return None
        if not registry.versions_complete:
            return None  # the newest page only: counts would be wrong
        stages: dict[str, list[str]] = {}
        for v in registry.versions.values():
            stages.setdefault(v.current_stage or "None", []).append(v.version)
        return stages

    def _choose_target(self, kind: str, version: Any, inputs: PromotionInputs) -> None:
        from functools import partial

        from console.promotion_model import promotion_blocked
        from widgets.promote_modal import AliasChooser, StageChooser

        reason = promotion_blocked(self.shell.settings.read_only, inputs.permission)
        if reason:
            if self._denied is None:
                self._denied = {}
            self._denied[version.name] = reason
            self.shell.app.refresh_bindings()
            self.shell.main.status.set_state("promotion not permitted")
            self.shell.notify(reason, severity="warning")
            return
        self.shell.main.status.set_state(f"choose the {kind} for v{version.version}")
        if kind == "alias":
            chooser = AliasChooser(version.name, version.version, inputs.aliases)
        else:
            chooser = StageChooser(
                version.name,
                version.version,
                version.current_stage,
                self._stages_shown(version.name),
            )
        self.shell.app.push_screen(chooser, partial(self._target_chosen, version, inputs.aliases))

    def _target_chosen(self, version: Any, aliases: dict[str, str], choice: Any) -> None:
        from functools import partial

        from pydantic import ValidationError

        from console.promotion_model import PromotionRequest
        from console.tui.jobs import Job

        if choice is None:
            self.shell.main.status.set_state("promotion cancelled: nothing was written")
            return
        if choice.alias is not None:
            expect = aliases.get(choice.alias) or "none"
        else:
            expect = self._stage_holder_shown(version.name, choice.stage) or None
        try:
            request = PromotionRequest(
                model=version.name,
                version=version.version,
                alias=choice.alias,
                stage=choice.stage,
                remove=choice.remove,
                archive_others=choice.archive_others,
                expect=expect,
                reason=choice.reason,
            )
        except ValidationError as exc:
            message = "; ".join(e["msg"] for e in exc.errors())
            self.shell.notify(f"cannot promote: {message}", severity="error")
            return
        self.shell.main.status.set_state(
            f"promotion: planning {request.target} for v{request.version}…"
        )
        self.shell.run(
            Job(
                "promote",
                f"promoting v{request.version} of {request.model} ({request.target})",
                partial(self._promote, request),
                self._promoted,
                on_fail=self._promotion_failed,
                retry=False,
            )
        )

    async def _promote(self, request: Any) -> Any:
        from commands.promote import PromoteContext, promote
        from widgets.promote_modal import PromotionDriver

        ctx = PromoteContext.from_settings(
            self.shell.settings, self.shell.client, self.shell.connected_uri
        )
        self.driver = PromotionDriver(
            self.shell.app,
            on_cancel=self.cancel_promotion,
            # the flow itself refuses in read-only mode; the override is not even offered
            allow_override=not self.shell.settings.read_only,
            title=f"v{request.version} of {request.model} → {request.target}",
        )
        return await promote(ctx, request, self.driver)

    def cancel_promotion(self) -> None:
        """Escape or x while the gates run: stop the flow (a gate's child process is killed)."""
        app = self.shell.app
        app.workers.cancel_group(app, "promote")
        self._close_driver()
        self._after_promotion("promotion cancelled while the gates ran: nothing was written")

    def _close_driver(self) -> None:
        driver, self.driver = self.driver, None
        if driver is not None:
            driver.close_progress()

    def _promotion_failed(self, _: str) -> None:
        self._close_driver()
        self._after_promotion("promotion failed (see the banner)")

    def _promoted(self, result: Any) -> None:
        from widgets.promote_modal import PlanModal

        driver = self.driver
        self._close_driver()
        state = f"promotion {result.outcome.replace('_', ' ')}: {result.message}"
        if result.ok:
            self.shell.notify(result.message)
        elif result.outcome == "cancelled":
            self.shell.notify(result.message, severity="warning")
        elif result.outcome == "refused" and driver is not None and driver.refusal_shown:
            # the operator read this plan in the override form and closed it
            self.shell.notify(result.message, severity="warning")
        elif result.plan is not None:
            # refused, lost race or failed: the plan with the outcome, so the operator sees why
            self.shell.app.push_screen(PlanModal(result.plan, result))
        else:
            self.shell.notify(result.message, severity="error")
        self._after_promotion(state)

    def _after_promotion(self, state: str) -> None:
        """Show how it ended and reload what a promotion may have changed."""
        self.shell.main.status.set_state(state)
        self.shell.hooks.reload_registry()

    def progress(self, message: Any) -> None:
        self.shell.main.status.set_state(f"promotion: {message.text}")
        if message.warning:
            self.shell.notify(message.text, severity="warning")

    # --- the audit view ---------------------------------------------------------------------

    def action_audit(self) -> None:
        from console.tui.jobs import Job
        from widgets.audit_screen import AuditScreen

        if isinstance(self.shell.app.screen, AuditScreen):
            return

        def show(read: Any) -> None:
            self.shell.app.push_screen(
                AuditScreen(read.records, path=read.path, unreadable_lines=read.unreadable_lines)
            )

        self.shell.run(
            Job(
                "audit",
                "reading the audit log",
                lambda: read_audit(self.shell.settings),
                show,
                thread=True,
                retry=False,
            )
        )

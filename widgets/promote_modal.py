"""Promotion modals: choose an alias or a stage, then read the plan and gates and confirm.

The plan modal starts focused on "No"; escape and ``n`` answer no; promotions to ``champion`` or
Production are confirmed only by typing the model name. ``PromotionDriver`` is the driver the
shell hands to ``commands.promote.promote``: its ``confirm`` opens the plan modal and waits.
Server text is rendered literally. No clients or commands are imported here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.promotion_model import (
    STAGES,
    PromotionPlan,
    PromotionResult,
    check_alias,
    plan_lines,
)
from console.safe_text import printable

SUGGESTED_ALIASES = ("champion", "challenger")

_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90; max-width: 100%; height: auto; max-height: 100%;
                     border: heavy $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; }}
{name} .error {{ color: $error; }}
{name} Horizontal {{ height: auto; }}
{name} Button {{ margin: 0 1 0 0; }}
"""


class TargetChoice(BaseModel):
    """What the operator picked: an alias (set or remove) or a stage, and an optional reason."""

    alias: str | None = None
    stage: str | None = None
    remove: bool = False
    archive_others: bool = False
    reason: str | None = None


# --- choosing the target -----------------------------------------------------------------------


class AliasChooser(ModalScreen[TargetChoice | None]):
    """Pick an existing or suggested alias, or type one; ``aliases`` maps alias → version."""

    DEFAULT_CSS = _MODAL_CSS.format(name="AliasChooser")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, model: str, version: str, aliases: dict[str, str]) -> None:
        super().__init__()
        self.model_name, self.version, self.aliases = model, version, dict(aliases)

    def compose(self) -> ComposeResult:
        options = []
        for alias in sorted({*self.aliases, *SUGGESTED_ALIASES}):
            holder = self.aliases.get(alias)
            if holder == self.version:
                label = f"{alias}  (on v{holder}: remove it)"
            elif holder:
                label = f"{alias}  (move from v{holder})"
            else:
                label = f"{alias}  (new)"
            options.append(Option(Text(printable(label)), id=alias))
        with Vertical():
            yield Label(
                Text(printable(f"Alias for {self.model_name} v{self.version}")), classes="title"
            )
            yield OptionList(*options, id="alias-options")
            yield Input(placeholder="or type an alias and press enter", id="alias-typed")
            yield Input(placeholder="reason (optional; recorded in the audit)", id="alias-reason")
            yield Label("", id="alias-error", classes="error")

    def _reason(self) -> str | None:
        return self.query_one("#alias-reason", Input).value.strip() or None

    def _choose(self, alias: str) -> None:
        try:
            check_alias(alias)
        except ValueError as exc:
            self.query_one("#alias-error", Label).update(Text(printable(str(exc))))
            return
        remove = self.aliases.get(alias) == self.version
        self.dismiss(TargetChoice(alias=alias, remove=remove, reason=self._reason()))

    @on(OptionList.OptionSelected, "#alias-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(str(event.option.id))

    @on(Input.Submitted, "#alias-typed")
    def _typed(self, event: Input.Submitted) -> None:
        self._choose(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class StageChooser(ModalScreen[TargetChoice | None]):
    """Pick a stage for the version; optionally archive the others in that stage."""

    DEFAULT_CSS = _MODAL_CSS.format(name="StageChooser")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, model: str, version: str, current_stage: str | None) -> None:
        super().__init__()
        self.model_name, self.version = model, version
        self.current = current_stage or "None"

    def compose(self) -> ComposeResult:
        options = [
            Option(f"{stage}{'  (current)' if stage == self.current else ''}", id=stage)
            for stage in STAGES.values()
        ]
        with Vertical():
            yield Label(
                Text(printable(f"Stage for {self.model_name} v{self.version}")), classes="title"
            )
            yield OptionList(*options, id="stage-options")
            yield Checkbox("archive the other versions in that stage", id="stage-archive")
            yield Input(placeholder="reason (optional; recorded in the audit)", id="stage-reason")

    @on(OptionList.OptionSelected, "#stage-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        stage = str(event.option.id)
        archive = self.query_one("#stage-archive", Checkbox).value
        reason = self.query_one("#stage-reason", Input).value.strip() or None
        self.dismiss(
            TargetChoice(
                stage=stage,
                archive_others=archive and stage not in ("None", "Archived"),
                reason=reason,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


# --- the plan ----------------------------------------------------------------------------------

_GATE_STYLE = {"PASS": "green", "FAIL": "bold red", "SKIP": "dim", "ERR ": "bold red"}


def plan_text(plan: PromotionPlan, result: PromotionResult | None = None) -> Text:
    """The plan as literal text, gate lines coloured by their verdict."""
    text = Text()
    for index, line in enumerate(plan_lines(plan)):
        shown = printable(line)
        mark = line.strip()[:4]
        if index == 0:
            style = "bold"
        elif mark in _GATE_STYLE:
            style = _GATE_STYLE[mark]
        elif "REFUSED" in line or "OVERRIDE" in line:
            style = "bold red"
        else:
            style = ""
        text.append(shown + "\n", style=style)
    if result is not None:
        style = "bold green" if result.ok else "bold red"
        text.append(printable(f"\n{result.outcome}: {result.message}") + "\n", style=style)
    return text


class PlanModal(ModalScreen[bool]):
    """The plan and its gates; dismisses True only on an explicit yes (or the typed name)."""

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="PlanModal")
        + """
    PlanModal VerticalScroll { height: auto; max-height: 20; }
    """
    )
    BINDINGS = [
        Binding("escape", "answer(False)", "No"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "yes", "Yes", show=False),
    ]

    def __init__(
        self,
        plan: PromotionPlan,
        result: PromotionResult | None = None,
        *,
        preface: str | None = None,
    ) -> None:
        super().__init__()
        self.plan, self.result = plan, result
        # what the whole flow does when the promotion is one step of it (a rollback)
        self.preface = preface
        # a refused or finished plan can only be closed
        self.closing_only = result is not None or bool(plan.refusal) or plan.noop
        self.typed = None if self.closing_only else plan.typed_confirmation

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.preface:
                yield Static(
                    Text(printable(self.preface, keep_newlines=True), style="bold"),
                    id="plan-preface",
                )
            with VerticalScroll():
                yield Static(plan_text(self.plan, self.result), id="plan-body")
            if self.closing_only:
                with Horizontal():
                    yield Button("Close", id="plan-no")
                return
            if self.typed is not None:
                yield Label(Text(printable(f"type {self.typed} to confirm")), id="plan-typed-hint")
                yield Input(placeholder=printable(self.typed), id="plan-typed")
            with Horizontal():
                yield Button("No", id="plan-no", variant="primary")
                yield Button("Yes", id="plan-yes", variant="error", disabled=self.typed is not None)

    def on_mount(self) -> None:
        # the safe choice has the focus
        self.query_one("#plan-no", Button).focus()

    def _typed_ok(self) -> bool:
        if self.typed is None:
            return True
        return self.query_one("#plan-typed", Input).value == self.typed

    @on(Input.Changed, "#plan-typed")
    def _typing(self) -> None:
        self.query_one("#plan-yes", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#plan-typed")
    def _typed_enter(self) -> None:
        if self._typed_ok():
            self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "plan-yes" and not self.closing_only and self._typed_ok())

    def action_yes(self) -> None:
        # `y` answers yes only where no typed confirmation is required
        if not self.closing_only and self.typed is None:
            self.dismiss(True)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


# --- the driver --------------------------------------------------------------------------------


class PromotionProgress(Message):
    """What the promotion is doing now (for the status bar)."""

    def __init__(self, text: str, warning: bool = False) -> None:
        super().__init__()
        self.text, self.warning = text, warning


class PromotionDriver:
    """The driver for a promotion running as an async worker on the app's loop.

    ``confirm`` opens ``PlanModal`` on the last plan the command output and waits for the answer.
    Progress and warnings are posted to ``target`` (the app or a screen) as messages.
    """

    def __init__(self, app: Any, target: Any = None) -> None:
        self.app = app
        self.target = target or app
        self.plan: PromotionPlan | None = None
        self.outputs: list[Any] = []

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.target.post_message(PromotionProgress(message))

    def warn(self, message: str) -> None:
        self.target.post_message(PromotionProgress(message, warning=True))

    def output(self, item: Any) -> None:
        self.outputs.append(item)
        if isinstance(item, PromotionPlan):
            self.plan = item

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        if self.plan is None:
            return False  # nothing was shown: never confirm blind
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(value: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(value))

        self.app.push_screen(PlanModal(self.plan), done)
        return await answer

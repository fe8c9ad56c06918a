"""Confirming a rollout or rollback of a deployment: the modal and the driver the shell hands over.

``DeployDriver`` has the shape of ``PromotionDriver``: a rollout asks with its prompt (served →
alias version) in ``RolloutConfirm``; a rollback's promotion outputs a plan, shown in
``PlanModal`` under the rollback's own first line. Both start on "No"; escape and ``n`` answer no.
A rollback's plan refused by gates alone opens ``PlanOverrideModal`` under that line (a reason and
the model name typed: the audited override, as ``a`` offers it). A deployment with no previously
served version gets ``RollbackVersionChooser``: the model's versions, what is served and where
the alias points. Server text is rendered literally. No clients or commands are imported here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.promotion_model import GateProgress, PromotionPlan, plan_lines
from console.safe_text import printable
from widgets.promote_modal import GatesModalHost, GatesRunning, PlanModal, PlanOverrideModal


class RolloutConfirm(ModalScreen[bool]):
    """What a rollout will do, literally; dismisses True only on an explicit yes."""

    DEFAULT_CSS = """
    RolloutConfirm { align: center middle; }
    RolloutConfirm > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                border: heavy $accent; background: $surface; padding: 0 1; }
    RolloutConfirm Horizontal { height: auto; }
    RolloutConfirm Button { margin: 0 1 0 0; }
    """
    BINDINGS = [
        Binding("escape", "answer(False)", "No"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
    ]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        lines = printable(self.prompt, limit=4000, keep_newlines=True).split("\n")
        body = Text()
        for index, line in enumerate(lines):
            body.append(line + "\n", style="bold" if index == 0 else "")
        body.append("\nproceed? (y / n)", style="dim")
        with Vertical():
            yield Static(body, id="rollout-body")
            with Horizontal():
                yield Button("No", id="rollout-no", variant="primary")
                yield Button("Yes", id="rollout-yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#rollout-no", Button).focus()  # the safe choice

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "rollout-yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class RollbackVersionChooser(ModalScreen[str | None]):
    """The version a rollback should move the alias back to, when no previous one is recorded.

    Newest first, each marked with what it is now (served, behind the alias); the highlight
    starts on the newest version that is neither. Enter chooses (the plan and its gates come
    next, nothing is written yet); escape cancels.
    """

    DEFAULT_CSS = """
    RollbackVersionChooser { align: center middle; }
    RollbackVersionChooser > Vertical { width: 90; max-width: 100%; height: auto;
                                        max-height: 100%; border: heavy $accent;
                                        background: $surface; padding: 0 1; }
    RollbackVersionChooser .title { text-style: bold; }
    RollbackVersionChooser OptionList { height: auto; max-height: 12; }
    RollbackVersionChooser #rollback-choose-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        name: str,
        model: str,
        alias: str,
        versions: list[str],
        *,
        serving: str | None = None,
        holder: str | None = None,
    ) -> None:
        super().__init__()
        self.deployment, self.model_name, self.alias = name, model, alias
        self.versions, self.serving, self.holder = list(versions), serving, holder

    def _label(self, version: str) -> str:
        marks = []
        if version == self.serving:
            marks.append(f"served by {self.deployment} now")
        if version == self.holder:
            marks.append(f"{self.alias} points here now")
        return f"v{version}" + (f"  ({'; '.join(marks)})" if marks else "")

    def compose(self) -> ComposeResult:
        options = [Option(Text(printable(self._label(v))), id=v) for v in self.versions]
        with Vertical():
            yield Label(
                Text(printable(f"Roll back {self.deployment}: to which version?")),
                classes="title",
            )
            yield Static(
                Text(
                    printable(
                        f"{self.deployment} has no previously served version on record. Choose "
                        f"the version {self.model_name}@{self.alias} moves back to; its plan "
                        "and gates come next."
                    )
                ),
                id="rollback-choose-why",
            )
            if options:
                yield OptionList(*options, id="rollback-versions")
            else:
                yield Label(Text(printable(f"{self.model_name} has no versions")))
            yield Static("enter chooses · escape cancels", id="rollback-choose-hint")

    def on_mount(self) -> None:
        for options in self.query("#rollback-versions").results(OptionList):
            current = {self.serving, self.holder}
            others = [i for i, v in enumerate(self.versions) if v not in current]
            options.highlighted = others[0] if others else 0
            options.focus()

    @on(OptionList.OptionSelected, "#rollback-versions")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DeployProgress(Message):
    """What a rollout or rollback is doing now (for the deployments view's status line)."""

    def __init__(self, text: str, warning: bool = False) -> None:
        super().__init__()
        self.text, self.warning = text, warning


class DeployDriver(GatesModalHost):
    """The driver for ``commands.rollout`` running as an async worker on the app's loop."""

    def __init__(self, app: Any, *, on_cancel: Any = None, title: str = "") -> None:
        self.app = app
        self.plan: PromotionPlan | None = None
        self.outputs: list[Any] = []
        self.prompts: list[str] = []
        # the operator already read the refused plan (in the override form)
        self.refusal_shown = False
        # while a rollback's gates run, a modal shows them and takes the keys (typed ahead,
        # they once reached the deployments view: `a` said "move to a version…", enter opened
        # the monitoring); escape or x there calls ``on_cancel``
        self.on_cancel, self.title = on_cancel, title
        self.gates_screen: GatesRunning | None = None

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.app.post_message(DeployProgress(message))

    def warn(self, message: str) -> None:
        self.app.post_message(DeployProgress(message, warning=True))

    def output(self, item: Any) -> None:
        self.outputs.append(item)
        if isinstance(item, PromotionPlan):
            self.plan = item
        elif isinstance(item, GateProgress):
            self.show_gate(item)

    def _screen_for(self, prompt: str) -> ModalScreen[bool]:
        if self.plan is None:
            return RolloutConfirm(prompt)
        # a rollback: the promotion's plan (gates, typed confirmation) under the rollback's line
        shown = "\n".join(plan_lines(self.plan))
        preface = prompt[: -len(shown)].strip() if prompt.endswith(shown) else None
        return PlanModal(self.plan, preface=preface or None)

    async def _ask(self, modal: ModalScreen[Any]) -> Any:
        self.close_progress()
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(value: Any) -> None:
            if not answer.done():
                answer.set_result(value)

        self.app.push_screen(modal, done)
        return await answer

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        if not prompt.strip():
            return False  # nothing was shown: never confirm blind
        self.prompts.append(prompt)
        return bool(await self._ask(self._screen_for(prompt)))

    async def override(self, plan: PromotionPlan, *, preface: str | None = None) -> str | None:
        """The plan the gates refused, with the override form; the typed reason, or None."""
        self.refusal_shown = True
        return await self._ask(PlanOverrideModal(plan, preface=preface))

    async def choose_version(
        self,
        name: str,
        model: str,
        alias: str,
        versions: list[str],
        *,
        serving: str | None = None,
        holder: str | None = None,
    ) -> str | None:
        """The version a rollback without a previous one goes back to, or None (cancelled)."""
        chooser = RollbackVersionChooser(
            name, model, alias, versions, serving=serving, holder=holder
        )
        return await self._ask(chooser)

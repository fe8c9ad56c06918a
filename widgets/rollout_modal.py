"""Confirming a rollout or rollback of a deployment: the modal and the driver the shell hands over.

``DeployDriver`` has the shape of ``PromotionDriver``: a rollout asks with its prompt (served →
alias version) in ``RolloutConfirm``; a rollback's promotion outputs a plan, shown in
``PlanModal`` under the rollback's own first line. Both start on "No"; escape and ``n`` answer no.
Server text is rendered literally. No clients or commands are imported here.
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
from textual.widgets import Button, Static

from console.promotion_model import PromotionPlan, plan_lines
from console.safe_text import printable
from widgets.promote_modal import PlanModal


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


class DeployProgress(Message):
    """What a rollout or rollback is doing now (for the deployments view's status line)."""

    def __init__(self, text: str, warning: bool = False) -> None:
        super().__init__()
        self.text, self.warning = text, warning


class DeployDriver:
    """The driver for ``commands.rollout`` running as an async worker on the app's loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.plan: PromotionPlan | None = None
        self.outputs: list[Any] = []
        self.prompts: list[str] = []

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.app.post_message(DeployProgress(message))

    def warn(self, message: str) -> None:
        self.app.post_message(DeployProgress(message, warning=True))

    def output(self, item: Any) -> None:
        self.outputs.append(item)
        if isinstance(item, PromotionPlan):
            self.plan = item

    def _screen_for(self, prompt: str) -> ModalScreen[bool]:
        if self.plan is None:
            return RolloutConfirm(prompt)
        # a rollback: the promotion's plan (gates, typed confirmation) under the rollback's line
        shown = "\n".join(plan_lines(self.plan))
        preface = prompt[: -len(shown)].strip() if prompt.endswith(shown) else None
        return PlanModal(self.plan, preface=preface or None)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        if not prompt.strip():
            return False  # nothing was shown: never confirm blind
        self.prompts.append(prompt)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(value: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(value))

        self.app.push_screen(self._screen_for(prompt), done)
        return await answer

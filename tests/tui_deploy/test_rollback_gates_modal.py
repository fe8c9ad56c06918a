"""While a rollback's gates run, the gates modal shows them and takes the keys (typed ahead,
they reached the deployments view: `a` said "move to a version in the registry pane first",
enter opened the monitoring screen); escape cancels the flow; the plan or the override form
takes its place when the gates are done."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import Static

from console.promotion_model import GateProgress
from tests.tui.support import showing, wait_for
from widgets.promote_modal import GatesRunning
from widgets.rollout_modal import DeployDriver, RolloutConfirm


class Host(App):
    """A screen below the modal that records every key reaching it."""

    def __init__(self) -> None:
        super().__init__()
        self.keys_below: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("deployments")

    def on_key(self, event) -> None:
        if self.screen is self.screen_stack[0]:
            self.keys_below.append(event.key)


async def test_the_gates_modal_takes_the_keys_and_escape_cancels() -> None:
    app = Host()
    cancelled: list[bool] = []
    async with app.run_test(size=(80, 24)) as pilot:
        driver = DeployDriver(app, on_cancel=lambda: cancelled.append(True), title="rollback of d")
        driver.output(GateProgress(name="metric", status="running"))
        await wait_for(pilot, lambda: showing(app, GatesRunning))
        await pilot.press("a", "enter", "M")
        assert app.keys_below == []  # typed ahead: held by the modal, not the view below
        await pilot.press("escape")
        await wait_for(pilot, lambda: cancelled == [True])


async def test_the_next_question_replaces_the_gates_modal() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        driver = DeployDriver(app, on_cancel=lambda: None, title="rollback of d")
        driver.output(GateProgress(name="metric", status="running"))
        await wait_for(pilot, lambda: showing(app, GatesRunning))
        driver.output(GateProgress(name="metric", status="passed", seconds=0.1))
        answer = asyncio.ensure_future(driver.confirm("roll d back to v1?"))
        await wait_for(pilot, lambda: showing(app, RolloutConfirm))
        assert not any(isinstance(s, GatesRunning) for s in app.screen_stack)
        await pilot.press("escape")
        assert await answer is False

"""The deployments view's poll: polls never overlap and pause while something covers the view.

Driven with Pilot on the real app; the rows come from a slow counting stand-in for
``gather_deployments`` (the real one is exercised against a live deployment in
``test_deployments_view.py``), so only the scheduling is under test here.
"""

from __future__ import annotations

import asyncio

from console.deployment_model import DeploymentStatus
from console.monitor_contract import MonitorState
from console.settings import Settings
from console.tui.app import build_app
from console.tui.commands import parse_command
from tests.tui.fake_client import FakeClient
from tests.tui.support import showing, wait_for
from widgets.deployments_screen import DeploymentsScreen
from widgets.help_screen import HelpScreen

ROW = DeploymentStatus(
    name="d",
    kind="embedded",
    url="http://127.0.0.1:1",
    protocol="mlops",
    model="m",
    alias="champion",
    served_version="1",
    alias_version="1",
    in_sync=True,
    healthy=True,
    state="running",
)


class SlowGather:
    """Counts calls and how many run at once; each takes ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.calls, self.running, self.most = seconds, 0, 0, 0

    async def __call__(self) -> list[DeploymentStatus]:
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.running -= 1
        return [ROW]


def _app(tmp_path, gather: SlowGather):
    app = build_app(
        Settings(home=tmp_path, tracking_uri="http://mlflow.test"), client_factory=FakeClient
    )
    app.deployments.poll_s = 0.05
    app.deployments.gather = gather
    app.deployments.monitor[("m", "champion")] = MonitorState(unavailable=True, at=1e18)
    return app


async def test_polls_never_overlap(tmp_path) -> None:
    gather = SlowGather(0.5)
    app = _app(tmp_path, gather)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.connection.client is not None)
        await pilot.press("D")
        await wait_for(pilot, lambda: app.deployments.polls >= 4, within=60)
        await pilot.press("r")  # a refresh while a poll runs does not start a second one
        await wait_for(pilot, lambda: app.deployments.polls >= 6, within=60)
    assert gather.most == 1


async def test_polls_pause_under_a_modal(tmp_path) -> None:
    gather = SlowGather(0.0)
    app = _app(tmp_path, gather)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.connection.client is not None)
        await pilot.press("D")
        await wait_for(pilot, lambda: app.deployments.polls >= 3, within=60)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: showing(app, HelpScreen))
        await pilot.pause(0.3)  # a poll in flight may still land
        paused_at = gather.calls
        await pilot.pause(1.0)  # twenty poll intervals
        assert gather.calls == paused_at
        await pilot.press("escape")
        assert isinstance(app.screen, DeploymentsScreen)
        await wait_for(pilot, lambda: gather.calls > paused_at + 2, within=60)
        await pilot.press("escape")  # leaving the view stops the poll
        await pilot.pause(0.3)
        left_at = gather.calls
        await pilot.pause(1.0)
        assert gather.calls == left_at


async def test_monitor_command_line_opens_one_deployment(tmp_path) -> None:
    from widgets.monitor_screen import MonitorScreen

    app = _app(tmp_path, SlowGather(0.0))
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **_: notes.append(message)  # type: ignore[method-assign]
        await wait_for(pilot, lambda: app.connection.client is not None)
        app.execute(parse_command(":monitor d"))
        await wait_for(pilot, lambda: showing(app, MonitorScreen), within=60)
        assert app.screen.row.name == "d"
        await pilot.press("escape")
        await pilot.press("escape")
        app.execute(parse_command(":monitor nope"))
        await wait_for(
            pilot, lambda: any("no deployment named nope" in n for n in notes), within=60
        )
        # and names the deployments that exist
        assert "no deployment named nope; the deployments are: d" in notes, notes
        assert isinstance(app.screen, DeploymentsScreen)


def test_new_traffic_makes_a_drift_check_stale(tmp_path) -> None:
    """A check made before the deployment served anything said `ok 0/8` for ten minutes while
    the data drifted: once requests arrive since the check, it is redone after 30 s."""
    from console.monitor_contract import MonitorReport
    from console.tui.deployments import MONITOR_RECHECK_S, MONITOR_TTL_S

    app = build_app(
        Settings(home=tmp_path, tracking_uri="http://mlflow.test"), client_factory=FakeClient
    )
    controller = app.deployments
    now = [1000.0]
    controller.clock = lambda: now[0]
    started: list[tuple[str, str]] = []
    controller._start_monitor = lambda key, group: started.append(key)  # type: ignore[method-assign]
    key = ("m", "champion")
    controller.rows = {"d": ROW.model_copy(update={"requests": 0})}
    controller._served_at_check[key] = 0
    report = MonitorReport(model="m", version="1")
    controller.monitor[key] = MonitorState(report=report, at=now[0])

    now[0] += MONITOR_RECHECK_S + 1
    controller._check_drift()
    assert started == []  # no traffic since: fresh for MONITOR_TTL_S
    assert controller._ttl(key) == MONITOR_TTL_S

    controller.rows = {"d": ROW.model_copy(update={"requests": 96})}
    controller._check_drift()
    assert started == [key]
    assert controller._ttl(key) == MONITOR_RECHECK_S

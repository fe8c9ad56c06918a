"""The prefetched first page in the real app (``console.prefetch``), against a real MLflow server.

The helper's page is drawn while the client has not answered yet (its requests are held back
here, as a slow server would), inert: the experiments it lists announce nothing. When the client
answers, its own page replaces the helper's without moving the operator's cursor, and from then
on the panes work from the client alone. A helper's page that arrives after the client's is
ignored.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from console import prefetch
from console.overrides import CliOverrides
from console.tui.app import build_app
from tests.tui.conftest import World
from tests.tui.support import wait_for

SIZES = [(160, 48), (80, 24)]


class HeldClient:
    """The real client, whose every request waits until the test opens ``gate``."""

    def __init__(self, client, gate: asyncio.Event) -> None:
        self._client = client
        self._gate = gate

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        async def held(*args, **kwargs):
            await self._gate.wait()
            return await attr(*args, **kwargs)

        return held


def _first_page(url: str, tmp_path: Path) -> prefetch.FirstPage:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    first = prefetch.start(CliOverrides(tracking_uri=url), env)
    assert first is not None
    return first


async def _client_page(url: str):
    from console.mlflow.client import MlflowRestClient
    from console.tui import data

    async with MlflowRestClient(url) as client:
        listed = await data.load_experiments(client)
        page = await data.load_runs(
            client, listed.latest or "", filter=None, order_by=None, page_size=5
        )
    return listed.latest, [r.run_id for r in page.items]


@pytest.mark.parametrize("size", SIZES, ids=["160x48", "80x24"])
async def test_the_helpers_page_first_then_the_clients_under_the_same_cursor(
    tui_world: World, settings_for, tmp_path: Path, size: tuple[int, int]
) -> None:
    from console.tui.app import _default_client_factory

    settings = settings_for(tui_world.url)
    gate = asyncio.Event()
    make = _default_client_factory(settings)
    app = build_app(
        settings,
        page_size=5,
        client_factory=lambda uri: HeldClient(make(uri), gate),
        first_page=_first_page(tui_world.url, tmp_path),
    )
    landing, newest = await _client_page(tui_world.url)
    async with app.run_test(size=size) as pilot:
        pane = app.main.runs_pane
        table = pane.runs_table
        await wait_for(pilot, lambda: table.row_count > 0)
        # drawn from the helper's answers: the landing experiment's newest runs, in order
        assert pane._provisional_runs
        assert [str(k.value) for k in list(table.rows)[:5]] == newest
        assert pane.experiment is not None and pane.experiment.experiment_id == landing
        assert pane.experiments == {}  # inert: highlighting loads nothing
        assert app.main.status.connection != "connected"
        assert "loading…" in str(app.main.query_one("#runs-title").render())

        await pilot.press("enter")  # into the runs
        await pilot.press("j")
        await pilot.pause()
        chosen = table.current_key
        assert chosen == newest[1]

        gate.set()
        await wait_for(
            pilot,
            lambda: not pane._provisional_runs and landing in pane.experiments,
            within=60,
        )
        await wait_for(pilot, lambda: app.main.status.connection == "connected", within=60)
        # the client's page (and, where the screen has room, the pages after it), under the
        # cursor the operator left
        assert [str(k.value) for k in table.rows][:5] == newest
        assert table.current_key == chosen
        assert app.focused is table
        assert "loading…" not in str(app.main.query_one("#runs-title").render())
        # and from here on the client pages on (the landing is whichever experiment holds the
        # newest run on the shared server: it may have no second page)
        await wait_for(pilot, lambda: not table.loading_more, within=60)
        if table.has_more:
            await pilot.press("G")
            await wait_for(pilot, lambda: table.row_count > 5, within=60)


async def test_a_helpers_page_after_the_clients_changes_nothing(
    tui_world: World, settings_for, tmp_path: Path
) -> None:
    first = _first_page(tui_world.url, tmp_path)
    deadline = time.monotonic() + 30
    while not first.read_available():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    first.close()
    answers = first.result()
    assert answers is not None
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.main.runs_pane
        await wait_for(pilot, lambda: pane.experiments and pane.runs_table.row_count > 0)
        await wait_for(pilot, lambda: not pane.runs_table.loading_more)
        before = [str(k.value) for k in pane.runs_table.rows]
        app.browse.show_first_page(answers)
        await pilot.pause()
        # not redrawn as the helper's (inert, "loading…") page: the client's rows stay, and
        # more of them may have loaded meanwhile where the screen had room
        assert not pane._provisional_runs and pane.experiments
        assert [str(k.value) for k in pane.runs_table.rows][: len(before)] == before
        assert "loading…" not in str(app.main.query_one("#runs-title").render())


async def test_a_run_started_meanwhile_leads_when_the_cursor_was_not_moved(
    tui_world: World, settings_for, tmp_path: Path
) -> None:
    """Only a cursor the operator moved is kept: untouched, it lands on the newest run, which
    may have started between the helper's answer and the client's."""
    from mlflow import MlflowClient

    from console.tui.app import _default_client_factory

    settings = settings_for(tui_world.url)
    gate = asyncio.Event()
    make = _default_client_factory(settings)
    landing, newest = await _client_page(tui_world.url)
    app = build_app(
        settings,
        page_size=5,
        client_factory=lambda uri: HeldClient(make(uri), gate),
        first_page=_first_page(tui_world.url, tmp_path),
    )
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.main.runs_pane
        table = pane.runs_table
        await wait_for(pilot, lambda: table.row_count > 0)
        assert pane._provisional_runs and table.current_key == newest[0]
        # a run starts in the landing experiment now, newer than any (other tests on the shared
        # server may have logged runs with start times of their choosing)
        mlflow = MlflowClient(tui_world.url)
        latest = mlflow.get_run(newest[0]).info.start_time or 0
        started = max(int(time.time() * 1000), latest + 1000)
        run = mlflow.create_run(landing, run_name="started-meanwhile", start_time=started)
        gate.set()
        await wait_for(pilot, lambda: not pane._provisional_runs, within=60)
        assert table.current_key == run.info.run_id


async def test_the_helpers_page_goes_when_the_client_cannot_confirm_it(
    tui_world: World, settings_for, tmp_path: Path
) -> None:
    """The helper answered, then nothing answers the client (here: the client is pointed at a
    port where nothing listens, as a server that went down would be): the unconfirmed rows go,
    and the header says why."""
    from console.tui.app import _default_client_factory

    settings = settings_for(tui_world.url)
    make = _default_client_factory(settings)
    app = build_app(
        settings,
        page_size=5,
        client_factory=lambda uri: make("http://127.0.0.1:1"),
        first_page=_first_page(tui_world.url, tmp_path),
        retry_delays=(30.0,),
    )
    drawn: list[int] = []
    show = app.browse.show_first_page

    def recording(answers) -> None:
        show(answers)
        drawn.append(app.main.runs_pane.runs_table.row_count)

    app.browse.show_first_page = recording  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.main.runs_pane
        await wait_for(pilot, lambda: "unreachable" in app.main.status.connection, within=60)
        await pilot.pause()
        assert drawn and drawn[0] > 0  # the helper's page was on screen
        assert not pane._provisional_runs and not pane._provisional_experiments
        assert pane.runs_table.row_count == 0 and pane.experiment_table.row_count == 0
        assert "loading…" not in str(app.main.query_one("#runs-title").render())

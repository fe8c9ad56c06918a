"""Pilot tests of the provenance drill-down and the compare screen in the real console app,
against the real server: keys p, m, c; escape back; the probe
with progress, its result and its cancellation (the probe's process is terminated)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.tui.app import build_app
from tests.provenance.conftest import settings_for
from tests.provenance.world import World
from tests.tui.support import plain, showing, wait_for
from widgets.compare_screen import CompareScreen
from widgets.provenance_screen import ProvenancePartScreen, ProvenanceScreen


def _text(screen) -> str:
    return plain(screen.query_one("#content").content, width=250)


async def _versions_of(pilot, app, model: str, count: int) -> None:
    await wait_for(pilot, lambda: model in app.main.registry_pane.models, within=30)
    app.main.registry_pane.select_model(model)
    app.main.focus_pane(1, app.main.registry_pane.version_table)
    await wait_for(pilot, lambda: len(app.main.registry_pane.versions) >= count, within=30)
    await pilot.pause()


async def _compare(pilot, app, case) -> CompareScreen:
    """The compare screen of ``case``'s two versions, its diagnosis read (the app connected)."""
    await _versions_of(pilot, app, case.model, 2)
    app.provenance.open_compare(case.model, case.left, case.right)
    await wait_for(pilot, lambda: showing(app, CompareScreen), within=10)
    compare = app.screen
    assert isinstance(compare, CompareScreen)
    await wait_for(pilot, lambda: compare.diagnosis is not None, within=30)
    return compare


def _probe_processes() -> list[int]:
    """Probe processes: started as ``python -m commands.probe``, or forked by a home's model
    worker (``commands.model_worker_server``: its children and theirs run the probe)."""
    found, parents, forked = [], {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat[0] == b"Z":
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[1])
        if b"commands.model_worker_server" in cmdline:
            forked.add(pid)  # the worker, or a child it forked (same command line)
        elif b"commands.probe" in cmdline and pid != os.getpid():
            found.append(pid)
    workers = {pid for pid in forked if parents[pid] not in forked}
    for pid in parents:
        ancestor = parents[pid]
        while ancestor in parents and ancestor not in workers:
            ancestor = parents[ancestor]
        if ancestor in workers and pid not in workers:
            found.append(pid)
    return found


async def test_provenance_drilldown_and_compare(world: World) -> None:
    case = world.cases["commit"]
    app = build_app(settings_for(world.home, world.tracking_uri), build_demo=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await _versions_of(pilot, app, case.model, 2)
        app.main.registry_pane.select_version(case.right)
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, ProvenanceScreen)
        await wait_for(pilot, lambda: screen.record is not None, within=20)
        assert "training code step 2" in _text(screen)
        for key, part, expected in (
            ("g", "commit", "Test Trainer"),
            ("d", "snapshot", world.snapshots[1]),
            ("e", "environment", "scikit-learn==1.9.1"),
            ("u", "run", "max_depth"),
        ):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ProvenancePartScreen) and app.screen.part == part
            assert expected in _text(app.screen)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main

        # mark both versions, compare them
        await pilot.press("m")
        app.main.registry_pane.select_version(case.left)
        await pilot.pause()
        await pilot.press("m")
        await pilot.press("c")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        assert (compare.left, compare.right) == (case.left, case.right)
        await wait_for(pilot, lambda: compare.diagnosis is not None, within=20)
        shown = _text(compare)
        assert "Metrics exactly equal" in shown
        assert "trained from different commits" in shown
        assert "max_depth" not in shown  # differences only
        await pilot.press("a")
        assert "max_depth" in _text(compare)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_keys_need_a_version(world: World) -> None:
    app = build_app(settings_for(world.home, world.tracking_uri), build_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is app.main


@pytest.mark.slow
async def test_demo_pair_in_the_tui_with_probe_and_cancel(demo_home, prov_server) -> None:
    home, result = demo_home
    left, right = result.scenario_versions
    app = build_app(settings_for(home, prov_server.url), build_demo=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await _versions_of(pilot, app, result.model, 3)
        for version in (left, right):
            app.main.registry_pane.select_version(version)
            await pilot.pause()
            await pilot.press("m")
        await pilot.press("c")
        compare = app.screen
        assert isinstance(compare, CompareScreen)
        await wait_for(pilot, lambda: compare.diagnosis is not None, within=20)
        assert "Metrics exactly equal" in _text(compare)
        assert compare.diagnosis.causes[0].kind == "data"

        # start and cancel: the probe's process goes away
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(_probe_processes()), within=20)
        await pilot.press("x")
        await wait_for(pilot, lambda: not _probe_processes(), within=15)
        assert not compare.probe_running
        assert compare.diagnosis.predictions is None

        # run it to the end
        await pilot.press("p")
        await wait_for(pilot, lambda: compare.diagnosis.predictions is not None, within=120)
        p = compare.diagnosis.predictions
        assert p.rows > 0 and p.disagreements > 0
        top = compare.diagnosis.causes[0]
        assert top.kind == "data" and "rows changed" in top.summary
        shown = _text(compare)
        assert "rows predicted differently" in shown
        assert "different snapshots of lake.git.commits" in shown


async def test_compare_probes_a_rows_file_and_provenance_asks_for_reproduce(
    foreign, tmp_path: Path
) -> None:
    """``f`` on the compare screen asks for a path and probes its rows (someone else's models:
    the disagreeing rows are shown by their id); ``R`` on provenance reproduces the version."""
    import pandas as pd

    from widgets.provenance_messages import ReproduceWanted

    rows = tmp_path / "mine.csv"
    pd.read_csv(foreign.eval_csv).head(300).to_csv(rows, index=False)
    case = foreign.cases["data"]
    app = build_app(settings_for(foreign.home, foreign.tracking_uri), build_demo=False)
    async with app.run_test(size=(160, 48)) as pilot:
        compare = await _compare(pilot, app, case)
        await pilot.press("f")
        await pilot.pause()
        box = compare.query_one("#rows-path")
        assert box.has_class("open") and box.has_focus
        box.value = str(rows)
        await pilot.press("enter")
        await wait_for(pilot, lambda: compare.diagnosis.predictions is not None, within=240)
        p = compare.diagnosis.predictions
        assert p.rows == 300 and "mine.csv" in p.source and p.disagreements > 0
        shown = _text(compare)
        assert "rows predicted differently" in shown and "mine.csv" in shown
        assert "id=row-7-" in shown  # the identifying column of the file
        assert "says" in shown  # the class-by-class table

        await pilot.press("escape")
        await pilot.pause()
        app.provenance.open_provenance(case.model, case.left)
        await wait_for(pilot, lambda: showing(app, ProvenanceScreen), within=10)
        screen = app.screen
        assert isinstance(screen, ProvenanceScreen)
        posted: list = []
        original = screen.post_message

        def spy(message):
            if isinstance(message, ReproduceWanted):
                posted.append(message)
            return original(message)

        screen.post_message = spy  # type: ignore[method-assign]
        await pilot.press("R")
        await pilot.pause()
        assert [(m.model, m.version) for m in posted] == [(case.model, case.left)]
        # the shell runs it: someone else's model has no training entry point, so the answer
        # is INCOMPLETE, naming what is missing, in a viewer (nothing trained, nothing audited)
        from widgets.text_viewer import TextViewer

        await wait_for(pilot, lambda: showing(app, TextViewer), within=120)
        assert "INCOMPLETE" in app.screen.body.plain


async def test_compare_shows_each_output_of_a_frame_model_at_80x24(outputs_world) -> None:
    """A model answering a frame (label, score): the compare screen's probe names the output
    that differs and tables each output's size; ``f`` with the team's rows file."""
    case = outputs_world.cases["frame"]
    app = build_app(settings_for(outputs_world.home, outputs_world.tracking_uri), build_demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        compare = await _compare(pilot, app, case)
        await pilot.press("f")
        await pilot.pause()
        compare.query_one("#rows-path").value = str(outputs_world.eval_csv)
        await pilot.press("enter")
        await wait_for(pilot, lambda: compare.diagnosis.predictions is not None, within=240)
        p = compare.diagnosis.predictions
        assert p.disagreements == p.rows and [c.name for c in p.outputs] == ["label", "score"]
        shown = plain(compare.query_one("#content").content, width=78)
        assert "differs: score" in shown and "the same: label" in shown
        assert "rows differing" in shown and "largest" in shown  # the per-output table
        table = [line for line in shown.splitlines() if line.strip().startswith("score")]
        assert table and "numeric" in table[0] and "100.0%" in table[0]
        assert "score=" in shown  # an example names the differing output

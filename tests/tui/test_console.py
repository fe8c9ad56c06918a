"""Pilot tests of the console against a real MLflow server: navigation, pane linking, drill-down,
filtering, sorting, paging, hostile strings, read-only badge, help and the command line."""

from __future__ import annotations

from console.tui.app import build_app
from tests.tui.conftest import RUNS_IN_MAIN, World
from tests.tui.support import plain, settle, showing, table_texts, wait_for
from widgets import messages as msg
from widgets.help_screen import HelpScreen
from widgets.run_screen import RunScreen
from widgets.version_screen import VersionScreen

WIDE = (160, 48)
SMALL = (80, 24)


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def command(pilot, text: str) -> None:
    await pilot.press("colon")
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


def _app(settings, world: World, **kwargs):
    kwargs.setdefault("page_size", 5)
    return build_app(settings(world.url), **kwargs)


async def _g_and_G_scroll(pilot, app) -> None:
    """On the run detail screen ``G`` scrolls to the bottom and ``g`` back to the top."""
    from widgets.detail_base import DetailBody

    body = app.screen.query_one(DetailBody)
    await pilot.resize_terminal(80, 24)  # at 80×24 the run does not fit
    await wait_for(pilot, lambda: body.max_scroll_y > 0)
    await pilot.press("G")
    await wait_for(pilot, lambda: body.scroll_y == body.max_scroll_y)
    await pilot.press("g")
    await wait_for(pilot, lambda: body.scroll_y == 0)
    await pilot.resize_terminal(*WIDE)
    await pilot.pause()


async def _loaded(pilot, app, world: World) -> None:
    pane = app.main.runs_pane
    await wait_for(pilot, lambda: world.main_experiment_id in pane.experiments)
    await wait_for(pilot, lambda: world.model in app.main.registry_pane.models)


async def _open_experiment(pilot, app, experiment_id: str, name: str, rows: int) -> None:
    await command(pilot, f"experiment {name}")
    pane = app.main.runs_pane
    await wait_for(
        pilot,
        lambda: (
            pane.experiment is not None
            and pane.experiment.experiment_id == experiment_id
            and pane.runs_table.row_count >= rows
            and not pane.runs_table.loading_more
        ),
    )


def _screen_text(screen) -> str:
    return plain(screen.query_one("#content").content, width=300)


async def test_navigation_linking_and_drilldown(tui_world: World, settings_for) -> None:
    seen: list[object] = []
    app = _app(settings_for, tui_world)
    async with app.run_test(size=WIDE, message_hook=seen.append) as pilot:
        await _loaded(pilot, app, tui_world)
        await _open_experiment(
            pilot, app, tui_world.main_experiment_id, tui_world.main_experiment, RUNS_IN_MAIN
        )
        runs = app.main.runs_pane.runs_table
        assert app.focused is runs
        # newest first by default
        assert runs.current_key == tui_world.runs[-1]

        # drill into a run and back
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, RunScreen) and app.screen.run)
        text = _screen_text(app.screen)
        assert "rmse" in text and "loss" in text and "seed" in text
        await _g_and_G_scroll(pilot, app)
        await pilot.press("escape")
        assert app.screen is app.main

        # registry: model → versions; moving through versions links the runs pane
        await command(pilot, f"model {tui_world.model}")
        await pilot.press("enter")
        registry = app.main.registry_pane
        await wait_for(pilot, lambda: len(registry.versions) == 3)
        assert app.focused is registry.version_table
        await pilot.press("j")  # version 2, the champion
        await wait_for(pilot, lambda: runs.current_key == tui_world.version_runs["2"])
        assert registry.current_version.aliases == ["champion"]
        body = plain(app.main.lineage_pane.query_one("#lineage-body").content)
        assert "not configured" in body and "version 2" in body

        await pilot.press("k")  # version 3 comes from a run in the other experiment
        await wait_for(
            pilot,
            lambda: (
                app.main.runs_pane.experiment.experiment_id == tui_world.other_experiment_id
                and runs.current_key == tui_world.hostile_run
            ),
        )
        assert any(isinstance(m, msg.VersionHighlighted) for m in seen)

        # version detail, then jump to its run, then back
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, VersionScreen))
        await wait_for(
            pilot,
            lambda: "Signature" in _screen_text(app.screen) or "files" in _screen_text(app.screen),
        )
        text = _screen_text(app.screen)
        assert "@" not in text.split("aliases", 1)[1].split("\n", 1)[0]  # v3 has no alias
        await pilot.press("g")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.run is not None
                and app.screen.run.run_id == tui_world.hostile_run
            ),
        )
        # escape comes back to the version it was opened from, then to the main screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, VersionScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main
        # tab cycles the panes
        await pilot.press("tab")
        await pilot.pause()
        assert app.main.active_pane == 2


async def test_runs_page_as_the_operator_scrolls(tui_world: World, settings_for) -> None:
    seen: list[object] = []
    app = _app(settings_for, tui_world)
    async with app.run_test(size=SMALL, message_hook=seen.append) as pilot:
        await _loaded(pilot, app, tui_world)
        await _open_experiment(
            pilot, app, tui_world.main_experiment_id, tui_world.main_experiment, 5
        )
        table = app.main.runs_pane.runs_table
        await settle(pilot)
        # the first pages fill the small viewport, no more
        assert table.row_count < RUNS_IN_MAIN and table.has_more
        await pilot.press("G")
        await wait_for(pilot, lambda: table.row_count == RUNS_IN_MAIN and not table.has_more)
        await settle(pilot)
        assert sum(isinstance(m, msg.MoreRunsWanted) for m in seen) >= 2
        title = plain(app.main.runs_pane.query_one("#runs-title").content)
        assert f"{RUNS_IN_MAIN} loaded" in title and "more below" not in title


async def test_filter_and_server_side_sort(tui_world: World, settings_for) -> None:
    app = _app(settings_for, tui_world, page_size=50)
    async with app.run_test(size=WIDE) as pilot:
        await _loaded(pilot, app, tui_world)
        await _open_experiment(
            pilot, app, tui_world.main_experiment_id, tui_world.main_experiment, RUNS_IN_MAIN
        )
        table = app.main.runs_pane.runs_table
        # plain text matches run names
        await pilot.press("slash")
        await type_text(pilot, "run-1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.row_count == 2)
        assert app.browse.runs_filter == "attributes.run_name LIKE '%run-1%'"
        # MLflow filter syntax passes through
        await command(pilot, "filter metrics.rmse < 1.025")
        await wait_for(pilot, lambda: table.row_count == 3)
        # a bad filter: a banner saying what failed (not retried, no "r retries"), the rows
        # stay, and the title and the filter go back to those of the rows shown
        await command(pilot, "filter metrics.rmse <<< nope")
        await wait_for(pilot, lambda: "runs" in app.main.banner.failures)
        refused = app.main.banner.failures["runs"].message
        assert "retr" not in refused and not app.main.banner.failures["runs"].retrying
        assert table.row_count == 3
        assert app.browse.runs_filter == "metrics.rmse < 1.025"
        title = plain(app.main.runs_pane.query_one("#runs-title").content)
        assert "<<<" not in title and "metrics.rmse < 1.025" in title
        # clearing the filter recovers and clears the banner
        await command(pilot, "filter")
        await wait_for(pilot, lambda: table.row_count == RUNS_IN_MAIN)
        assert not app.main.banner.failures
        # sort by a metric column, done by the server
        await pilot.press("o")
        await type_text(pilot, "rmse ASC")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.current_key == tui_world.runs[0])
        assert app.browse.runs_order == "metrics.`rmse` ASC"
        await command(pilot, "sort rmse DESC")
        await wait_for(pilot, lambda: table.current_key == tui_world.runs[-1])
        columns = {c.label for c in app.main.runs_pane.columns}
        assert "rmse" in columns and "seed" in columns and "mae" not in columns  # only what varies


async def test_hostile_strings_render_literally(tui_world: World, settings_for) -> None:
    app = _app(settings_for, tui_world)
    async with app.run_test(size=WIDE) as pilot:
        await _loaded(pilot, app, tui_world)
        await _open_experiment(
            pilot, app, tui_world.other_experiment_id, tui_world.other_experiment, 1
        )
        cells = table_texts(app.main.runs_pane.runs_table)
        name = next(c for c in cells if "[@click" in c)
        assert name.startswith("[bold]x[/] [@click=app.quit"), cells  # cut, never interpreted
        assert not any("\x1b" in c or "\u202e" in c for c in cells)
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, RunScreen) and app.screen.run)
        text = _screen_text(app.screen)
        assert "[@click=app.quit]boom[/]" in text
        assert "\\x1b]0;title\\x07" in text and "\\u202eevil" in text and "עברית" in text
        assert "\x1b" not in text and "\x07" not in text
        assert "(+" in text  # the 8,000-character tag is cut, not dumped
        await pilot.press("escape")
        # a click on the "link" in a run name must not quit; the app is still running
        assert app.is_running
        # the model's description and version tag
        await command(pilot, f"model {tui_world.model}")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.main.registry_pane.versions) == 3)
        await pilot.press("enter")  # version 3 (newest first)
        await wait_for(pilot, lambda: showing(app, VersionScreen))
        await wait_for(pilot, lambda: "Description" in _screen_text(app.screen))
        text = _screen_text(app.screen)
        assert text.count("[@click=app.quit]boom[/]") >= 2  # description and tag
        assert "\x1b" not in text


async def test_read_only_badge_help_and_command_line(tui_world: World, settings_for) -> None:
    app = build_app(settings_for(tui_world.url, read_only=True), page_size=5)
    async with app.run_test(size=SMALL) as pilot:
        await _loaded(pilot, app, tui_world)
        assert "READ-ONLY" in plain(app.main.status.content)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Experiments and runs" in plain(app.screen.query_one("#help-body").content)
        await pilot.press("escape")
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Registry" in plain(app.screen.query_one("#help-body").content)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main
        # an unknown command says so and changes nothing
        await command(pilot, "frobnicate")
        assert app.is_running and app.screen is app.main
        await command(pilot, "q")
        await wait_for(pilot, lambda: not app.is_running, within=5)
    assert app.return_code == 0

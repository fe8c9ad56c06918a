"""The defects an operator met at 80×24 (and 200×50), driven through the real app with Pilot
against a real MLflow server: the prompt line, forms that scroll, banners that belong to one
request, the header's connection state, landing on the latest experiment, the small ones
(``:model nope``, ``o`` on experiments, j/k in choosers, expiring status lines, ticking ages,
help that does not wrap)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Footer, Input, OptionList

from console.tui.app import build_app
from tests.support.html_server import html_server
from tests.tui.conftest import World
from tests.tui.support import plain, showing, wait_for
from widgets.help_screen import HelpScreen
from widgets.promote_modal import AliasChooser, PlanModal, PlanOverrideModal, StageChooser
from widgets.prompt_bar import PromptBar
from widgets.run_screen import RunScreen
from widgets.runbook_chooser import RunbookChooser, RunbookForm

SMALL = (80, 24)
WIDE = (160, 48)
SIZES = pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "160x48"])
# a round trip to the session's server while the whole suite loads the machine (CI)
SERVER_S = 60.0


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def command(pilot, text: str) -> None:
    await pilot.press("colon")
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def loaded(pilot, app, world: World) -> None:
    await wait_for(pilot, lambda: world.main_experiment_id in app.main.runs_pane.experiments, 60)
    await wait_for(pilot, lambda: world.model in app.main.registry_pane.models, 60)


def assert_focus_visible(app) -> None:
    """The focused widget is entirely on screen (not below it, not scrolled out of its frame)."""
    from textual.errors import NoWidget

    widget = app.focused
    assert widget is not None
    screen = app.screen
    try:
        geometry = screen.find_widget(widget)
    except NoWidget:
        raise AssertionError(f"{widget!r} has the focus but is not on screen") from None
    region = geometry.region
    assert screen.region.contains_region(region), f"{widget!r} at {region} is off screen"
    assert geometry.visible_region == region, f"{widget!r} at {region} is clipped"


async def tab_through(pilot, app) -> int:
    """Tab through every focusable widget of the screen, checking each is visible."""
    count = len(app.screen.focus_chain)
    assert count
    assert_focus_visible(app)
    for _ in range(count + 1):
        await pilot.press("tab")
        await pilot.pause()
        assert_focus_visible(app)
    return count


# --- 1. the prompt line -------------------------------------------------------------------------


@SIZES
async def test_prompt_is_visible_above_the_footer(tui_world: World, settings_for, size) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        await pilot.press("colon")
        await type_text(pilot, "bogus")
        await pilot.pause()
        prompt = app.main.query_one(PromptBar)
        field = prompt.query_one(Input)
        footer = app.main.query_one(Footer)
        assert app.focused is field and field.value == "bogus"
        # its own line: on screen, above the footer, not under it
        assert prompt.region.height == 1 and field.region.height == 1
        assert not prompt.region.overlaps(footer.region)
        assert prompt.region.bottom <= footer.region.y
        assert app.screen.region.contains_region(field.region)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.main and app.is_running


def help_key_shown(app) -> bool:
    """The footer's ``? Help`` key is drawn whole on the current screen."""
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one(Footer)
    keys = [k for k in footer.query(FooterKey) if k.key == "question_mark"]
    if not keys:
        return False
    geometry = app.screen.find_widget(keys[0])
    docked = [k for k in footer.query(FooterKey) if k.has_class("-command-palette")]
    # a key pushed past the edge is drawn under the docked `^p palette` key, not cut by the screen
    covered = any(app.screen.find_widget(k).region.overlaps(geometry.region) for k in docked)
    # the palette key reaches the right edge: no cell of a key that ran under it shows after it
    assert all(app.screen.find_widget(k).region.right == app.screen.region.right for k in docked)
    return geometry.visible_region == geometry.region and geometry.region.width > 0 and not covered


async def test_the_help_key_stays_in_the_footer_at_80_columns(
    tui_world: World, settings_for
) -> None:
    """Found in tmux: with the lineage tree focused its three keys pushed ``? Help`` off."""
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, app, tui_world)
        for pane in ("1", "2", "3", "2", "tab", "tab"):
            await pilot.press(pane)
            await pilot.pause()
            assert help_key_shown(app), f"? Help cut with {app.focused!r} focused"


async def test_a_modal_hides_the_footer_whose_keys_it_blocks(
    tui_world: World, settings_for
) -> None:
    """Found in tmux: over the alias chooser the footer still listed the main screen's keys."""
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, app, tui_world)
        registry = app.main.registry_pane
        app.main.focus_pane(1, registry.model_table)
        await pilot.pause()
        await wait_for(pilot, lambda: registry.version_table.row_count > 0, 60)
        app.main.focus_pane(1, registry.version_table)
        await pilot.pause()
        footer = app.main.query_one(Footer)
        assert footer.display
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AliasChooser), 30)
        await pilot.pause()
        assert not footer.display
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, 30)
        await pilot.pause()
        assert footer.display and help_key_shown(app)


@SIZES
async def test_colon_on_the_run_screen_is_a_command_not_keys(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        await command(pilot, f"run {tui_world.runs[0]}")
        await wait_for(pilot, lambda: showing(app, RunScreen) and app.screen.run)
        run_screen = app.screen
        await pilot.press("colon")
        await type_text(pilot, "bogus")
        await pilot.pause()
        field = run_screen.query_one(PromptBar).query_one(Input)
        assert app.focused is field and field.value == "bogus"
        assert app.screen.region.contains_region(field.region)
        await pilot.press("enter")
        await pilot.pause(0.3)
        # `b` did not open the runbooks, enter did not start anything
        assert app.screen is run_screen
        assert not any(isinstance(s, RunbookChooser | RunbookForm) for s in app.screen_stack)
        # a command for the panes goes back to the main screen and does it
        await command(pilot, "models")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert app.focused is app.main.registry_pane.model_table


# --- 2. forms scroll: every focused widget is on screen at 80×24 --------------------------------


async def test_runbook_chooser_and_form_keep_the_focus_on_screen(
    tui_world: World, settings_for
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, app, tui_world)
        await pilot.press("b")
        await wait_for(pilot, lambda: showing(app, RunbookChooser), 30)
        await pilot.pause()
        await tab_through(pilot, app)
        chooser = app.screen
        options = chooser.query_one(OptionList)
        # j/k move in the chooser
        options.highlighted = 0
        await pilot.press("j")
        assert options.highlighted == 1
        await pilot.press("k")
        assert options.highlighted == 0
        # every runbook's form
        names = [e.name for e in chooser.entries if not e.error]
        assert names
        for name in names:
            if not isinstance(app.screen, RunbookChooser):
                await pilot.press("b")
                await wait_for(pilot, lambda: showing(app, RunbookChooser), 30)
            options = app.screen.query_one(OptionList)
            options.focus()
            options.highlighted = next(
                i for i, e in enumerate(app.screen.entries) if e.name == name
            )
            await pilot.press("enter")
            await wait_for(pilot, lambda: showing(app, RunbookForm), 30)
            await pilot.pause()
            form = app.screen
            # the first field (enter in it is a dry run, the safe choice), and visible
            first = f"param-{form.fields[0].name}" if form.fields else "form-dry"
            assert app.focused.id == first
            count = await tab_through(pilot, app)
            assert count >= 3 + len(form.fields)  # every field and the three buttons
            # one escape closes it: the form was there once (it used to be pushed three times)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.main)
            assert len(app.screen_stack) == 1


async def on_version(pilot, app, world: World, version: str) -> None:
    """The seeded model's versions in the registry pane, ``version`` selected and focused."""
    await command(pilot, f"model {world.model}")
    registry = app.main.registry_pane
    await wait_for(pilot, lambda: registry.model is not None and len(registry.versions) == 3, 30)
    app.main.focus_pane(1, registry.version_table)
    registry.select_version(version)
    await pilot.pause()


async def test_promotion_modals_keep_the_focus_on_screen_and_say_cancelled_once(
    tui_world: World, settings_for
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, app, tui_world)
        app.main.status.message_ttl = 1.0  # status lines expire (10 s in real use)
        await on_version(pilot, app, tui_world, "3")
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AliasChooser), 30)
        await pilot.pause()
        chooser = app.screen
        options = chooser.query_one(OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("j")
        assert options.highlighted == 1  # j/k move in the alias chooser
        await pilot.press("k")
        assert options.highlighted == 0
        await tab_through(pilot, app)
        # champion is held by v2: gates run; the plan (refused here: no metrics to compare,
        # or needing the typed name) is the tallest modal
        await _choose_alias(pilot, app, "champion")
        modal = app.screen
        await tab_through(pilot, app)
        body = plain(modal.query_one("#plan-body").content, width=300)
        # refused (this world's runs log no f1/accuracy): the outcome on its own line, which
        # once began with a literal \x0a; the override form shows the same plan
        assert isinstance(modal, PlanOverrideModal) or modal.result.outcome == "refused"
        assert "refused:" in body.lower() and "gate(s) failed" in body and "\\x0a" not in body
        for _ in range(3):  # the override form, then the plan with its outcome
            if app.screen is app.main:
                break
            await pilot.press("escape")
            await pilot.pause(0.5)
        await wait_for(pilot, lambda: app.screen is app.main, 30)

        # a new alias: plan, escape = no; the status says cancelled once, then expires
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AliasChooser), 30)
        await pilot.pause()
        await _choose_alias(pilot, app, "challenger")
        assert app.screen.result is None  # asking, not reporting
        await tab_through(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "promotion cancelled" in app.main.status.state, 30)
        assert "cancelled: cancelled" not in app.main.status.state
        assert "nothing was written" in app.main.status.state
        await wait_for(pilot, lambda: "promotion" not in app.main.status.state, 10)
        assert app.main.status.connection == "connected"

        # the stage chooser too
        await pilot.press("s")
        await wait_for(pilot, lambda: showing(app, StageChooser), 30)
        await pilot.pause()
        await tab_through(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, 30)


async def _choose_alias(pilot, app, alias: str) -> None:
    options = app.screen.query_one(OptionList)
    options.focus()
    options.highlighted = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == alias
    )
    await pilot.press("enter")
    # a plan, or (gates refused: issue 11's override) the plan with the override form
    await wait_for(pilot, lambda: isinstance(app.screen, PlanModal | PlanOverrideModal), 90)
    await pilot.pause()


# --- 4. banners -------------------------------------------------------------------------------


@SIZES
async def test_banners_belong_to_one_request(tui_world: World, settings_for, size) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        # the landing's own loads first: a background job of a group the command also uses
        # (a run being located, say) replaces the command's job (seen in full runs at 80x24)
        busy = ("experiments", "models", "runs", "versions", "locate", "detail")
        await wait_for(pilot, lambda: not any(app.jobs.running(g) for g in busy), SERVER_S)
        await pilot.pause(0.5)
        banner = app.main.banner
        # a 404 is not retried and does not say it is
        await command(pilot, "experiment nope-nope")
        await wait_for(pilot, lambda: banner.shown, SERVER_S)
        assert "does not exist" in banner.message and "retr" not in banner.message
        assert banner.region.height <= 2
        # r puts it away (there is nothing to retry)
        await pilot.press("r")
        await wait_for(pilot, lambda: not banner.shown, SERVER_S)
        # so does escape
        await command(pilot, "experiment nope-nope")
        await wait_for(pilot, lambda: banner.shown, SERVER_S)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not banner.shown, SERVER_S)
        # a later success puts it away
        await command(pilot, "experiment nope-nope")
        await wait_for(pilot, lambda: banner.shown, SERVER_S)
        await command(pilot, f"experiment {tui_world.other_experiment}")
        await wait_for(
            pilot,
            lambda: app.main.runs_pane.experiment.experiment_id == (tui_world.other_experiment_id),
        )
        await wait_for(pilot, lambda: not banner.shown, SERVER_S)
        # a run that does not exist: the run screen says so; escape leaves no banner behind
        await command(pilot, "run deadbeef")
        await wait_for(pilot, lambda: showing(app, RunScreen))
        await wait_for(
            pilot, lambda: "Could not load" in plain(app.screen.query_one("#content").content)
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        assert not banner.shown
        # two failures: clearing the newer never brings back the older
        await command(pilot, "experiment nope-one")
        await wait_for(pilot, lambda: "nope-one" in banner.message, SERVER_S)
        await command(pilot, "model nope-two")
        await wait_for(pilot, lambda: "nope-two" in banner.message, SERVER_S)
        assert "does not exist" in banner.message  # :model says so, it does not filter
        assert app.browse.models_filter is None
        assert len(banner.failures) == 1
        # x dismisses it (and the footer offers x only while a banner shows)
        assert app.main.check_action("dismiss_banner", ())
        await pilot.press("x")
        await pilot.pause()
        assert not banner.shown
        assert not app.main.check_action("dismiss_banner", ())


# --- 5. the header tells the truth ------------------------------------------------------------


@SIZES
async def test_header_says_unreachable_for_a_closed_port(settings_for, size) -> None:
    app = build_app(settings_for("http://127.0.0.1:1"))
    async with app.run_test(size=size) as pilot:
        status = app.main.status
        await wait_for(pilot, lambda: "unreachable since" in status.connection, 60)
        assert "connected" not in status.connection
        assert "nothing answers" in status.connection
        assert "MLflow does not answer" in app.main.banner.message
        # the detail strip agrees with the header (it said `connecting…` forever)
        await wait_for(pilot, lambda: "unreachable since" in str(app.main.detail.render()), 10)
        assert "connecting" not in str(app.main.detail.render())
        # still so after a few polls, and r does not pile up banners
        await pilot.press("r")
        await pilot.pause(0.5)
        assert "unreachable since" in status.connection
        assert len(app.main.banner.failures) == 1


@pytest.fixture
def html_url() -> Iterator[str]:
    with html_server() as url:
        yield url


async def test_header_says_unreachable_for_a_server_answering_html(
    settings_for, html_url: str
) -> None:
    app = build_app(settings_for(html_url))
    async with app.run_test(size=SMALL) as pilot:
        status = app.main.status
        await wait_for(pilot, lambda: "unreachable since" in status.connection, 60)
        assert "not as an MLflow server" in status.connection
        assert "connected" not in status.state


@SIZES
async def test_header_says_connected_only_once_the_server_answers(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        assert app.main.status.connection != "connected"
        await wait_for(pilot, lambda: app.main.status.connection == "connected", 60)
        assert "connected" in plain(app.main.status.content)


# --- 7. landing on the latest experiment ------------------------------------------------------


@SIZES
async def test_lands_on_the_experiment_with_the_latest_run(
    tui_world: World, settings_for, size
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tui_world.url)
    ids = [e.experiment_id for e in client.search_experiments()]
    latest = client.search_runs(ids, order_by=["attributes.start_time DESC"], max_results=1)[0]
    expected = latest.info.experiment_id
    assert expected != "0"
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        pane = app.main.runs_pane
        await wait_for(pilot, lambda: pane.experiment is not None and pane.runs_table.row_count)
        assert pane.experiment.experiment_id == expected
        assert pane.experiment_table.current_key == expected


# --- 8. the small ones ------------------------------------------------------------------------


async def test_o_on_the_experiments_opens_the_sort(tui_world: World, settings_for) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=SMALL) as pilot:
        await loaded(pilot, app, tui_world)
        app.main.runs_pane.experiment_table.focus()
        await pilot.press("o")
        await pilot.pause()
        prompt = app.main.prompt
        assert prompt.is_open and prompt.kind == "order"
        await pilot.press("escape")
        await pilot.pause()
        # elsewhere, o says what it does and where
        await pilot.press("2")
        await pilot.press("o")
        await pilot.pause()
        assert not prompt.is_open
        assert any("o sorts the runs" in str(n.message) for n in app._notifications)


async def test_ages_tick(tui_world: World, settings_for, monkeypatch) -> None:
    import time

    import console.tui.app as app_module

    monkeypatch.setattr(app_module, "AGE_TICK_S", 0.2)
    offset = [0.0]
    app = build_app(settings_for(tui_world.url), page_size=5, clock=lambda: time.time() + offset[0])
    async with app.run_test(size=WIDE) as pilot:
        await loaded(pilot, app, tui_world)
        registry = app.main.registry_pane

        def updated() -> str:
            return plain(registry.model_table.get_cell(tui_world.model, "updated")).strip()

        before = updated()
        offset[0] = 3 * 365 * 86400.0  # three years later
        await wait_for(pilot, lambda: updated() != before, 10)
        assert updated().endswith("y")


@pytest.mark.parametrize("size", [SMALL, (200, 50)], ids=["80x24", "200x50"])
async def test_help_does_not_wrap(tui_world: World, settings_for, size) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        for pane in ("1", "2", "3"):
            await pilot.press(pane)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: showing(app, HelpScreen))
            await pilot.pause()
            body = app.screen.query_one("#help-body")
            lines = plain(body.content, width=300).rstrip("\n").split("\n")
            # rendered height = the text's lines: nothing wrapped (":models," had a line alone)
            assert body.size.height == len(lines), (body.size, len(lines))
            assert not any(line.strip().startswith(":models,") for line in lines)
            # g/G, as the help itself lists them (at 80x24 the help scrolls)
            scroller = body.parent
            await pilot.press("G")
            await pilot.pause()
            assert scroller.scroll_y == scroller.max_scroll_y
            await pilot.press("g")
            await pilot.pause()
            assert scroller.scroll_y == 0
            if size == SMALL:
                assert scroller.max_scroll_y > 0
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.main)

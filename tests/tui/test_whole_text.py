"""What a screen cuts short is reachable whole: a refused filter's reason (the banner's two rows
cut it at 80 columns), every problem of every promotion gate, every provenance gap and value —
each through a key the screen names, opening the one text viewer. A refused filter also leaves
the runs title as it was: no "failed", no retry claimed. Real app, real MLflow server, 80×24 and
160×48."""

from __future__ import annotations

import re

from textual.widgets import Footer

from console.tui.app import build_app
from tests.tui.conftest import World
from tests.tui.support import plain, showing, wait_for
from tests.tui.test_small_terminal import (
    SIZES,
    SMALL,
    command,
    loaded,
    on_version,
    type_text,
)
from widgets.promote_modal import AliasChooser, PlanModal, PlanOverrideModal
from widgets.provenance_screen import ProvenancePartScreen, ProvenanceScreen
from widgets.text_viewer import TextViewer


def _squashed(text: str) -> str:
    """Text without any whitespace: a value folded over lines still matches."""
    return "".join(text.split())


def _footer_shows(app, key: str) -> bool:
    """The footer of the screen on top shows ``key`` inside the screen."""
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one(Footer)
    width = app.screen.size.width
    return any(k.key == key and k.region.right <= width for k in footer.query(FooterKey))


async def _viewer(pilot, app) -> TextViewer:
    await pilot.press("v")
    await wait_for(pilot, lambda: showing(app, TextViewer))
    await pilot.pause()
    return app.screen


@SIZES
async def test_refused_filter_keeps_the_title_and_its_reason_is_reachable(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=50)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        pane = app.main.runs_pane
        await command(pilot, f"experiment {tui_world.main_experiment}")
        await wait_for(pilot, lambda: pane.runs_table.row_count == 12, 30)
        pane.runs_table.focus()
        await pilot.pause()

        def title() -> str:
            return plain(pane.query_one("#runs-title").content).strip()

        before = title()
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "metrics.rmse << 1")
        await pilot.press("enter")
        banner = app.main.banner
        await wait_for(pilot, lambda: "runs" in banner.failures, 30)
        await pilot.pause()
        # the title is that of the rows shown: nothing failed for them, nothing is retried
        assert title() == before, title()
        assert "failed" not in title() and "retry" not in title()
        assert pane.runs_table.row_count == 12
        message = banner.failures["runs"].message
        assert "retr" not in message and "INVALID_PARAMETER_VALUE" in message
        # two rows at most; where that cuts the server's reason, the banner names v
        shown = plain(banner.content, width=size[0] - 2)
        assert banner.region.height <= 2
        assert len(shown.rstrip("\n").splitlines()) <= 2
        if size == SMALL:
            assert "v: whole text" in shown and "INVALID_PARAMETER_VALUE" not in shown
        viewer = await _viewer(pilot, app)
        assert message in viewer.plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        # dismissed: the banner goes and the title still claims nothing
        await pilot.press("x")
        await wait_for(pilot, lambda: not banner.shown)
        assert title() == before and "failed" not in title()


@SIZES
async def test_plan_full_text_lists_every_problem_of_every_gate(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        await on_version(pilot, app, tui_world, "3")
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AliasChooser), 30)
        await pilot.pause()
        options = app.screen.query_one("OptionList")
        options.focus()
        options.highlighted = next(
            i
            for i in range(options.option_count)
            if options.get_option_at_index(i).id == "champion"
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanModal | PlanOverrideModal), 120)
        await pilot.pause()
        first = app.screen
        if first.plan.not_run_gates:
            # the metric gate (cheaper) failed first and stopped the rest: g runs every gate
            await pilot.press("g")
            await wait_for(
                pilot,
                lambda: (
                    app.screen is not first
                    and isinstance(app.screen, PlanModal | PlanOverrideModal)
                ),
                120,
            )
            await pilot.pause()
        plan = app.screen.plan
        assert not plan.not_run_gates
        provenance = next(g for g in plan.gates if g.name == "provenance")
        more = re.search(r"\(\+(\d+) more\)", provenance.detail)
        assert more, provenance.detail  # the world's v3 has several gaps
        viewer = await _viewer(pilot, app)
        lines = viewer.plain.splitlines()
        start = next(i for i, line in enumerate(lines) if "provenance:" in line)
        listed = []
        for line in lines[start + 1 :]:
            if not line.strip().startswith("- "):
                break
            listed.append(line.strip()[2:])
        # the first problem and every one of the "+N more", each whole
        assert len(listed) == int(more.group(1)) + 1, listed
        assert provenance.detail.split(" (+")[0] == listed[0]
        assert all("chars)" not in problem and "more)" not in problem for problem in listed)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TextViewer))
        for _ in range(3):
            if app.screen is app.main:
                break
            await pilot.press("escape")
            await pilot.pause(0.5)


@SIZES
async def test_provenance_full_text_shows_every_gap_and_value_whole(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        await on_version(pilot, app, tui_world, "3")
        await pilot.press("p")
        await wait_for(pilot, lambda: showing(app, ProvenanceScreen), 30)
        screen = app.screen
        await wait_for(pilot, lambda: screen.record is not None, 120)
        await pilot.pause()
        gaps = screen.record.gaps
        # the lineage gap names the console home's store: longer than the gaps column keeps
        assert any(len(g.message) > 120 for g in gaps)
        shown = plain(screen.query_one("#content").content, width=size[0])
        assert "chars)" in shown
        # the footer names the key that shows it whole, at both sizes
        assert _footer_shows(app, "v")
        viewer = await _viewer(pilot, app)
        whole = _squashed(viewer.plain)
        for gap in gaps:
            assert _squashed(gap.message) in whole, gap.message
        assert "chars)" not in viewer.plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        # a part too: the run's 8000-character tag, whole
        await pilot.press("u")
        await wait_for(pilot, lambda: showing(app, ProvenancePartScreen))
        await pilot.pause()
        assert _footer_shows(app, "v")
        viewer = await _viewer(pilot, app)
        assert "y" * 8000 in _squashed(viewer.plain)
        assert "chars)" not in viewer.plain

"""Pilot tests of the promotion modals and the audit screen, driving the real flow against a real
server through ``PromotionDriver`` (the key wiring in the main screen is the shell's job).
"""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button, DataTable, Input, Static

from commands.promote import promote
from console.promotion_model import PromotionRequest
from tests.tui.support import showing
from widgets.audit_screen import AuditScreen
from widgets.promote_modal import AliasChooser, PlanModal, PromotionDriver, StageChooser


class Host(App):
    """A bare app that runs one promotion in a worker, as the shell does."""

    def __init__(self, ctx=None, request=None) -> None:
        super().__init__()
        self.ctx, self.request = ctx, request
        self.result = None
        self.choice = "unset"

    def start_promotion(self) -> None:
        async def work() -> None:
            self.result = await promote(self.ctx, self.request, PromotionDriver(self))

        self.run_worker(work(), exit_on_error=False)


async def wait_for(pilot, predicate, tries: int = 200) -> None:
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


async def test_champion_needs_the_typed_model_name(flow, seeder):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        app = Host(
            flow.context(client), PromotionRequest(model=name, version="2", alias="champion")
        )
        async with app.run_test(size=(100, 34)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: showing(app, PlanModal))
            await pilot.pause()
            modal = app.screen
            body = str(modal.query_one("#plan-body", Static).render())
            assert "set alias champion" in body and "alias champion → v2" in body
            assert app.focused.id == "plan-no"  # focus on the safe choice
            yes = modal.query_one("#plan-yes", Button)
            assert yes.disabled
            await pilot.press("y")  # `y` does not confirm a typed promotion
            assert isinstance(app.screen, PlanModal)
            field = modal.query_one("#plan-typed", Input)
            # the placeholder says what to type and does not look typed (dim, italic)
            assert field.placeholder == f"type {name} to confirm"
            look = field.get_component_rich_style("input--placeholder")
            assert look.italic and look.dim
            field.focus()
            await pilot.press(*name[:-2])
            # tab away and back: the cursor is at the end, nothing selected; typing appends
            await pilot.press("tab", "shift+tab")
            assert app.focused is field and field.selection.is_empty
            await pilot.press(name[-2])
            assert field.value == name[:-1]
            assert yes.disabled
            await pilot.press("enter")  # a wrong name is said, not silently ignored
            await pilot.pause()
            hint = str(modal.query_one("#plan-typed-hint").render())
            assert isinstance(app.screen, PlanModal) and f"that is not {name}" in hint
            # the plan text is no tab stop: the typed name and No (Yes is still disabled)
            assert [w.id for w in modal.focus_chain] == ["plan-typed", "plan-no"]
            await pilot.press(name[-1])
            assert not yes.disabled
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "succeeded"
    assert seeder.aliases(name) == {"champion": "2"}


async def test_a_long_plan_fits_80x24_and_scrolls(flow, seeder):
    """At 80×24 the demo's champion plan (every gate, the typed name) was taller than the
    screen: its title and first lines were drawn off the top. The text scrolls between the
    border and the buttons; the arrows scroll it while the buttons keep the focus. (This
    seeded plan is shorter than the demo's: 80×18 makes it as tall as that one at 80×24.)"""
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        app = Host(
            flow.context(client), PromotionRequest(model=name, version="2", alias="champion")
        )
        async with app.run_test(size=(80, 18)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: showing(app, PlanModal))
            await pilot.pause()
            modal = app.screen
            frame = modal.query_one("Vertical")
            scroll = modal.query_one("VerticalScroll")
            assert frame.region.y >= 0 and frame.region.bottom <= 18, frame.region
            for part in ("#plan-typed", "#plan-no", "#plan-yes"):
                region = modal.query_one(part).region
                assert region.height and region.bottom <= 18, (part, region)
            assert scroll.region.y >= 1  # the first line of the plan (its title) is on screen
            assert scroll.max_scroll_y > 0  # the rest is below, reachable
            await pilot.press("pagedown")
            assert scroll.scroll_y > 0 and app.focused.id == "plan-no"
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "cancelled"


async def test_escape_answers_no(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        app = Host(flow.context(client), PromotionRequest(model=name, version="1", alias="canary"))
        async with app.run_test(size=(100, 34)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: showing(app, PlanModal))
            assert app.screen.typed is None
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "cancelled" and seeder.aliases(name) == {}


async def test_y_confirms_a_plain_promotion(flow, seeder):
    name = seeder.model([{}])
    async with flow.client() as client:
        app = Host(flow.context(client), PromotionRequest(model=name, version="1", stage="Staging"))
        async with app.run_test(size=(100, 34)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: showing(app, PlanModal))
            await pilot.press("y")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "succeeded"


async def test_stage_none_plan_says_how_many_versions_are_in_none(flow, seeder):
    """Stage None is no stage: many versions are in it. The plan once said `None: no version`
    and `expects: no version holds None right now` while two versions were in None."""
    name = seeder.model([{}, {}, {}])  # three versions, all in None
    seeder.stage(name, "3", "Staging")
    async with flow.client() as client:
        app = Host(flow.context(client), PromotionRequest(model=name, version="3", stage="None"))
        async with app.run_test(size=(100, 34)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: showing(app, PlanModal))
            body = " ".join(
                app.screen.query_one("#plan-body", Static).render().plain.split()  # type: ignore[union-attr]
            )
            assert "before: v3 in stage Staging; 2 versions are in None" in body, body
            assert "after: v3 in stage None; 3 versions are in None" in body, body
            assert "expects: v3 still in stage Staging" in body, body
            assert "no version" not in body and "holds None" not in body, body
            await pilot.press("y")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "succeeded"
    assert seeder.version(name, "3")["current_stage"] == "None"


async def test_stage_chooser_names_the_versions_in_each_stage():
    app = App()
    async with app.run_test(size=(100, 34)) as pilot:
        in_stage = {"None": ["1", "2", "4"], "Staging": ["3"]}
        app.push_screen(StageChooser("m", "3", "Staging", in_stage))
        await pilot.pause()
        options = app.screen.query_one("#stage-options")
        labels = [str(options.get_option_at_index(i).prompt) for i in range(4)]
    assert labels[0] == "None  · no stage; 3 versions in it"
    assert labels[1] == "Staging  (current)  · v3"
    assert labels[2] == "Production  · no version"


async def test_a_refused_plan_can_only_be_closed(flow, seeder):
    name = seeder.model([{}, {}])
    seeder.alias(name, "champion", "1")
    async with flow.client() as client:
        ctx = flow.context(client)
        result = await promote(
            ctx,
            PromotionRequest(model=name, version="2", alias="champion", expect="2"),
            PromotionDriver(App()),
        )
    assert result.outcome == "refused"
    app = App()
    answers = []
    async with app.run_test(size=(100, 34)) as pilot:
        app.push_screen(PlanModal(result.plan, result), answers.append)
        await pilot.pause()
        body = str(app.screen.query_one("#plan-body", Static).render())
        assert "REFUSED" in body and "refused: alias:champion moved" in body
        assert not app.screen.query("#plan-yes")
        await pilot.press("y")
        assert isinstance(app.screen, PlanModal)
        await pilot.press("enter")  # Close has the focus
    assert answers == [False]


async def test_alias_chooser_picks_types_and_validates():
    app = App()
    answers = []
    async with app.run_test(size=(100, 34)) as pilot:
        app.push_screen(AliasChooser("m", "2", {"champion": "1", "canary": "2"}), answers.append)
        await pilot.pause()
        # options: canary (on v2: remove), challenger (new), champion (move from v1)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        app.push_screen(AliasChooser("m", "2", {"canary": "2"}), answers.append)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        app.push_screen(AliasChooser("m", "2", {}), answers.append)
        await pilot.pause()
        app.screen.query_one("#alias-typed", Input).focus()
        await pilot.press(*"v7", "enter")
        await pilot.pause()
        error = str(app.screen.query_one("#alias-error").render())
        assert "reserved" in error
        await pilot.press("backspace", "backspace", *"shadow", "enter")
        await pilot.pause()
        app.push_screen(AliasChooser("m", "2", {}), answers.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert answers[0].alias == "champion" and not answers[0].remove
    assert answers[1].alias == "canary" and answers[1].remove
    assert answers[2].alias == "shadow"
    assert answers[3] is None


async def test_stage_chooser_with_archive_others():
    app = App()
    answers = []
    async with app.run_test(size=(100, 34)) as pilot:
        app.push_screen(StageChooser("m", "3", "Staging"), answers.append)
        await pilot.pause()
        app.screen.query_one("#stage-archive").value = True
        app.screen.query_one("#stage-options").focus()
        await pilot.press("down", "down", "enter")  # None, Staging, Production
        await pilot.pause()
    assert answers[0].stage == "Production" and answers[0].archive_others


async def test_audit_screen_lists_records_newest_first(flow, seeder):
    name = seeder.model([{}, {}])
    async with flow.client() as client:
        ctx = flow.context(client)
        for version in ("1", "2"):
            await promote(
                ctx,
                PromotionRequest(
                    model=name, version=version, alias="canary", reason=f"\x1b[31mstep {version}"
                ),
                _yes(),
            )
        # a refused promotion (a stale expectation) wrote nothing: it is no change v2 → v2
        stale = PromotionRequest(model=name, version="1", alias="canary", expect="1")
        assert (await promote(ctx, stale, _yes())).outcome == "refused"
    read = flow.audit.read()
    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(AuditScreen(read.records, path=read.path))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 3
        assert str(table.get_row_at(0)[1]) == "refused"
        assert str(table.get_row_at(0)[8]) == "unchanged (v2)"
        assert "v2 → v2" not in str(app.screen.query_one("#audit-detail", Static).render())
        await pilot.press("down")
        await pilot.pause()
        assert str(table.get_row_at(1)[8]) == "v1 → v2"  # the change column
        detail = str(app.screen.query_one("#audit-detail", Static).render())
        assert "\\x1b[31mstep 2" in detail  # the escape sequence is shown, not obeyed
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AuditScreen)


def _yes():
    from commands.driver import QuietDriver

    return QuietDriver(answer=True)

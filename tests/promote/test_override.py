"""The override in the TUI: a plan refused by gates offers ``--force --reason`` — a typed reason and
the model name typed again — through the same code path as the CLI, against a real server."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button, Input, Label, Static

from commands.driver import QuietDriver
from commands.promote import promote
from console.promotion_model import GateProgress, PromotionRequest
from tests.promote.conftest import only
from tests.tui.support import showing
from widgets.promote_modal import PlanModal, PlanOverrideModal, PromotionDriver
from widgets.text_viewer import TextViewer

METRIC = only(require=["metric"])
REASON = "hotfix for INC-42: the holdout metric is known to be stale"


class Host(App):
    """A bare app running one promotion in a worker with ``PromotionDriver``, as the shell does."""

    def __init__(self, ctx, request, **driver) -> None:
        super().__init__()
        self.ctx, self.request, self.driver_options = ctx, request, driver
        self.result = None
        self.driver: PromotionDriver | None = None

    def start_promotion(self) -> None:
        async def work() -> None:
            self.driver = PromotionDriver(self, **self.driver_options)
            self.result = await promote(self.ctx, self.request, self.driver)

        self.run_worker(work(), exit_on_error=False)


async def wait_for(pilot, predicate, tries: int = 1200) -> None:
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached")


def _refusable(seeder) -> str:
    """A model whose v2 is worse than the champion v1: the metric gate refuses v2."""
    name = seeder.model([{"accuracy": 0.9}, {"accuracy": 0.5}])
    seeder.alias(name, "champion", "1")
    return name


def _override_ready(app) -> bool:
    """The override form is up and has put the focus on its safe choice."""
    return isinstance(app.screen, PlanOverrideModal) and getattr(app.focused, "id", "") == "plan-no"


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_override_is_audited_and_tagged_as_the_cli_does(flow, seeder):
    tui_model, cli_model = _refusable(seeder), _refusable(seeder)
    async with flow.client() as client:
        ctx = flow.context(client, METRIC)
        request = PromotionRequest(model=tui_model, version="2", alias="champion", expect="1")
        app = Host(ctx, request)
        async with app.run_test(size=(80, 24)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: _override_ready(app))
            await pilot.pause()
            modal = app.screen
            body = str(modal.query_one("#plan-body", Static).render())
            assert "FAIL metric" in body and "REFUSED" in body
            assert app.focused.id == "plan-no"  # the safe choice has the focus
            override = modal.query_one("#override-yes", Button)
            assert override.disabled
            # the whole plan is reachable (v) even where the modal is small
            await pilot.press("v")
            await wait_for(pilot, lambda: showing(app, TextViewer))
            assert "accuracy 0.5 vs holder v1 0.9: worse" in app.screen.plain
            await pilot.press("escape")
            await pilot.pause()
            modal.query_one("#override-reason", Input).focus()
            await pilot.pause()
            await _type(pilot, REASON)
            assert override.disabled  # the model name is still missing
            modal.query_one("#override-typed", Input).focus()
            await pilot.pause()
            await _type(pilot, tui_model[:-1])
            assert override.disabled
            await _type(pilot, tui_model[-1])
            assert not override.disabled
            # every focusable widget of the form is on screen at 80×24
            for widget in modal.query("Input, Button"):
                region = widget.region
                assert region.height > 0 and region.bottom <= 24 and region.right <= 80
            await pilot.click("#override-yes")
            await wait_for(pilot, lambda: app.result is not None)
        tui = app.result
        running = [
            o for o in app.driver.outputs if isinstance(o, GateProgress) and o.status == "running"
        ]
        assert [g.name for g in running] == ["metric"]  # the gates ran once
        # the CLI: promote --force --reason
        cli = await promote(
            ctx,
            PromotionRequest(
                model=cli_model, version="2", alias="champion", force=True, reason=REASON
            ),
            QuietDriver(answer=True),
        )
    assert tui.outcome == cli.outcome == "succeeded"
    assert seeder.aliases(tui_model) == {"champion": "2"}
    records = {r.model: r for r in flow.audit.read().records}
    a, b = records[tui_model], records[cli_model]
    assert a.forced and b.forced and a.reason == b.reason == REASON
    assert [g["status"] for g in a.gates] == [g["status"] for g in b.gates] == ["failed"]
    tags_tui = seeder.version(tui_model, "2")["tags"]
    tags_cli = seeder.version(cli_model, "2")["tags"]
    assert set(tags_tui) == set(tags_cli)
    assert tags_tui["mlops.promotion_forced"] == tags_cli["mlops.promotion_forced"] == "metric"
    assert tags_tui["mlops.promotion_reason"] == REASON


async def test_closing_the_override_refuses_and_audits_the_refusal(flow, seeder):
    name = _refusable(seeder)
    async with flow.client() as client:
        request = PromotionRequest(model=name, version="2", alias="champion")
        app = Host(flow.context(client, METRIC), request)
        async with app.run_test(size=(160, 48)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: _override_ready(app))
            modal = app.screen
            problem = lambda: str(modal.query_one("#override-problem", Label).render())  # noqa: E731
            # tab from the safe choice goes backwards onto the form's fields, never onto the plan
            # text (a tab stop no one could see, where `v` typed in a reason opened the viewer)
            chain = [getattr(w, "id", None) for w in modal.focus_chain]
            assert chain == ["override-reason", "override-typed", "plan-no"], chain
            await pilot.press("shift+tab", "shift+tab")
            assert app.focused.id == "override-reason"
            await _type(pilot, "vivid: just because")
            assert modal.query_one("#override-reason", Input).value == "vivid: just because"
            assert isinstance(app.screen, PlanOverrideModal)  # `v` typed, no viewer opened
            await pilot.press("enter")  # moves to the typed name; does not override
            assert isinstance(app.screen, PlanOverrideModal) and app.focused.id == "override-typed"
            # a wrong name is said, not ignored
            await _type(pilot, "wrong")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PlanOverrideModal)
            assert f"that is not {name}" in problem()
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "refused" and app.driver.refusal_shown
    assert seeder.aliases(name) == {"champion": "1"}
    record = flow.audit.read().records[-1]
    assert (record.model, record.outcome, record.forced) == (name, "refused", False)


async def test_no_override_offered_when_not_allowed(flow, seeder):
    """Read-only consoles never get here (the flow refuses first); the driver offers nothing."""
    name = _refusable(seeder)
    async with flow.client() as client:
        request = PromotionRequest(model=name, version="2", alias="champion")
        app = Host(flow.context(client, METRIC), request, allow_override=False)
        async with app.run_test(size=(80, 24)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: app.result is not None)
            assert not isinstance(app.screen, PlanOverrideModal | PlanModal)
    assert app.result.outcome == "refused" and not app.driver.refusal_shown
    assert seeder.aliases(name) == {"champion": "1"}


async def test_a_refusal_that_is_not_about_gates_offers_no_override(flow, seeder):
    name = _refusable(seeder)
    async with flow.client() as client:
        # the alias moved since the operator looked: no override, whatever the gates say
        request = PromotionRequest(model=name, version="2", alias="champion", expect="2")
        app = Host(flow.context(client, METRIC), request)
        async with app.run_test(size=(80, 24)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: app.result is not None)
            assert not isinstance(app.screen, PlanOverrideModal)
    assert app.result.outcome == "refused" and "moved" in app.result.message

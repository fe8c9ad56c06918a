"""Layout snapshots of the main screen, the detail screens, zoom, the plan override, the runbook
form and the audit view (at 80×24, some also at 160×48).

Fed fixed model objects through a fake client and a fixed clock, so nothing changes between runs
(update with ``pytest tests/tui --snapshot-update`` after an intended layout change).
"""

from __future__ import annotations

import pytest

from console.settings import Settings
from console.tui.app import build_app
from tests.tui.fake_client import NOW, FakeClient
from tests.tui.support import settle

SIZES = [(80, 24), (160, 48)]


def _app(tmp_path, read_only: bool = False):
    settings = Settings(home=tmp_path, tracking_uri="http://mlflow.test", read_only=read_only)
    return build_app(settings, client_factory=FakeClient, page_size=10, clock=lambda: NOW)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, tmp_path, size) -> None:
    async def ready(pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")  # into the runs of the first experiment
        await settle(pilot)

    assert snap_compare(_app(tmp_path, read_only=True), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_run_detail(snap_compare, tmp_path, size) -> None:
    async def open_run(pilot) -> None:
        await settle(pilot)
        # keys are covered by the Pilot tests; here the selection is set directly so the
        # layout is all that is compared
        pane = pilot.app.main.runs_pane
        pilot.app.main.focus_pane(0, pane.runs_table)
        await settle(pilot)
        pane.highlight_run(f"{3:032x}")  # the run with the hostile name
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_version_detail(snap_compare, tmp_path, size) -> None:
    async def open_version(pilot) -> None:
        await settle(pilot)
        registry = pilot.app.main.registry_pane
        pilot.app.main.focus_pane(1, registry.version_table)
        await settle(pilot)
        registry.select_version("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_version)


# --- what operators expect (issue 11): zoom, the override, the runbook form, the audit view -------


def test_zoomed_registry_pane(snap_compare, tmp_path) -> None:
    async def zoom(pilot) -> None:
        await settle(pilot)
        registry = pilot.app.main.registry_pane
        pilot.app.main.focus_pane(1, registry.version_table)
        await settle(pilot)
        registry.show_marks({("next-week-commits", "3")})  # as `m` does, without its toast
        await pilot.press("z")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=zoom)


def _refused_plan():
    from console.audit import Actor
    from console.promotion_model import GateResult, PromotionPlan, PromotionRequest, RegistryView

    request = PromotionRequest(model="next-week-commits", version="7", alias="champion")
    return PromotionPlan(
        request=request,
        server="http://mlflow.test",
        actor=Actor(name="ops", source="os"),
        permission="no authentication on this server: anyone may edit",
        before=RegistryView(alias_holder="6"),
        after=RegistryView(alias_holder="7"),
        expected="6",
        version_status="READY",
        gates=[
            GateResult(name="ready", status="passed", detail="version status READY", seconds=0.0),
            GateResult(
                name="metric",
                status="failed",
                detail="holdout_f1_macro 0.61 vs holder v6 0.64: worse",
                seconds=0.2,
            ),
        ],
        writes=["POST registered-models/alias next-week-commits champion → v7"],
        refusal="gate(s) failed: metric",
        overridable=True,
    )


def test_plan_modal_with_override(snap_compare, tmp_path) -> None:
    from widgets.promote_modal import PlanOverrideModal

    async def show(pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(PlanOverrideModal(_refused_plan()))
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=show)


def test_runbook_form(snap_compare, tmp_path) -> None:
    from commands.runbooks.catalog import load_runbook
    from console.tui.runbooks import param_fields
    from widgets.runbook_chooser import RunbookForm

    runbook = load_runbook("model-registry-promotion-stuck")

    async def show(pilot) -> None:
        await settle(pilot)
        form = RunbookForm(
            runbook.header.title,
            runbook.header.summary,
            param_fields(runbook, env={}),
            read_only=False,
        )
        pilot.app.push_screen(form)
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=show)


def _audit_records():
    from datetime import UTC, datetime

    from console.audit import Actor, AuditRecord

    def record(n, action, outcome, reason, forced=False):
        return AuditRecord(
            id=f"{n:032x}",
            at=datetime(2026, 1, 1, 9, n, tzinfo=UTC),
            action=action,
            outcome=outcome,
            actor=Actor(name="ops", source="os"),
            model="next-week-commits",
            version=str(n),
            target="alias:champion",
            before={"alias_holder": str(n - 1)},
            after={"alias_holder": str(n if outcome == "succeeded" else n - 1)},
            forced=forced,
            reason=reason,
            message=f"{outcome}: alias champion",
        )

    return [
        record(2, "promote.set_alias", "succeeded", "weekly retrain"),
        record(3, "promote.set_alias", "refused", "try the new features; gates said no"),
        record(4, "promote.set_alias", "succeeded", "INC-42 stale holdout metric", forced=True),
        record(5, "runbook.registry.repair", "succeeded", "runbook stuck, step repair"),
    ]


def test_audit_view(snap_compare, tmp_path) -> None:
    from widgets.audit_screen import AuditScreen

    async def show(pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(AuditScreen(_audit_records(), path="/home/ops/audit/audit.jsonl"))
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=show)


def _history_timeline():
    """A fixed timeline: versions, a console promotion, an observed move, a stage, an undo."""
    from datetime import UTC, datetime, timedelta

    from console.history.model import HistoryEvent, Timeline

    start = datetime.fromtimestamp(NOW, UTC)

    def event(n: int, minutes: int, **kw) -> HistoryEvent:
        kw.setdefault("sources", [kw["source"]])
        return HistoryEvent(
            id=f"{n:04x}{'0' * 8}", time=start + timedelta(minutes=minutes), model="churn", **kw
        )

    events = [
        event(1, 0, kind="version", to="1", version="1", source="observed", actor="ci-bot"),
        event(2, 5, kind="version", to="2", version="2", source="webhook"),
        event(
            3,
            10,
            kind="alias",
            name="champion",
            to="1",
            version="1",
            source="console",
            sources=["console", "webhook", "tag"],
            actor="alice",
            audit_id="a1",
        ),
        event(
            4,
            90,
            kind="alias",
            name="champion",
            from_="1",
            to="2",
            version="2",
            source="observed",
            observed_after=start + timedelta(minutes=30),
        ),
        event(
            5,
            95,
            kind="stage",
            name="Staging",
            from_="None",
            to="Staging",
            version="2",
            source="tag",
            actor="bob",
        ),
        event(
            6,
            100,
            kind="alias",
            name="champion",
            from_="2",
            to="1",
            version="1",
            source="console",
            actor="alice",
            undoes=f"{4:04x}{'0' * 8}",
        ),
    ]
    return Timeline(model="churn", server="http://mlflow.test", events=events)


def test_history_screen(snap_compare) -> None:
    from datetime import UTC, datetime, timedelta

    from textual.app import App

    from console.history.model import state_at
    from widgets.history_screen import HistoryScreen

    timeline = _history_timeline()

    class Host(App):
        def on_mount(self) -> None:
            screen = HistoryScreen("churn")
            self.push_screen(screen)
            screen.show(timeline)
            at = datetime.fromtimestamp(NOW, UTC) + timedelta(minutes=60)
            screen.show_state(state_at(timeline.events, at))

    async def ready(pilot) -> None:
        await settle(pilot)
        await pilot.press("up", "up")  # onto the observed move
        await settle(pilot)

    assert snap_compare(Host(), terminal_size=(80, 24), run_before=ready)

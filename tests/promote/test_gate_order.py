"""Gates run one at a time, cheapest first; the first failure stops the rest (reported as not run,
never as passed) unless every gate is asked for (``all_gates``, ``--all-gates``, ``g`` in the
console's plan); an override says which gates never ran. Against a real server: models made over
REST with stand-in check modules, and a plain scikit-learn model logged with MLflow's own client
whose real signature checks run (or do not).
"""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from textual.app import App
from textual.widgets import Button, Static

from commands.promote import promote
from console.cli import main
from console.promotion_model import GateProgress, PromotionRequest, plan_lines
from tests.promote.checks import mark_path
from tests.promote.conftest import only
from tests.promote.sklearn_models import seed
from tests.promote.test_actions import Recorder
from tests.tui.support import plain, showing, wait_for
from widgets.promote_modal import GatesRunning, PlanOverrideModal, PromotionDriver

MARKER = "tests.promote.checks.marker"
# listed most expensive first: the order of the configuration is not the order they run in
METRIC_AND_INVARIANCE = only(
    require=["invariance", "metric"], invariance_module=MARKER, invariance_signature=False
)


def req(model: str, version: str, **kwargs) -> PromotionRequest:
    return PromotionRequest(model=model, version=version, **kwargs)


def started(driver) -> list[str]:
    """The gates the driver saw start, in order."""
    return [o.name for o in driver.outputs if isinstance(o, GateProgress) and o.status == "running"]


def worse_than_champion(seeder) -> str:
    """v2's accuracy is below the champion v1's: the metric gate fails v2."""
    name = seeder.model([{"accuracy": 0.9}, {"accuracy": 0.5}])
    seeder.alias(name, "champion", "1")
    return name


def invariance_started(name: str, version: str = "2") -> bool:
    return mark_path(f"models:/{name}/{version}").exists()


async def test_gates_run_cheapest_first_whatever_order_they_are_listed_in(flow, seeder):
    name = seeder.model([{"accuracy": 0.8}])
    config = only(
        require=["invariance", "provenance", "metric", "ready"],
        invariance_module=MARKER,
        invariance_signature=False,
    )
    driver = Recorder()
    async with flow.client() as client:
        result = await promote(
            flow.context(client, config), req(name, "1", alias="champion", all_gates=True), driver
        )
    order = ["ready", "metric", "provenance", "invariance"]
    assert [g.name for g in result.plan.gates] == order
    assert started(driver) == order
    # one at a time: each gate started after the one before it had its verdict
    events = [(o.name, o.status) for o in driver.outputs if isinstance(o, GateProgress)]
    running = [i for i, (_, status) in enumerate(events) if status == "running"]
    for before, after in itertools.pairwise(order):
        verdict = next(
            i for i, (n, s) in enumerate(events) if n == before and s not in ("waiting", "running")
        )
        assert verdict < running[order.index(after)]


async def test_a_failed_gate_stops_the_rest_and_they_show_as_not_run(flow, seeder):
    name = worse_than_champion(seeder)
    driver = Recorder()
    async with flow.client() as client:
        result = await promote(
            flow.context(client, METRIC_AND_INVARIANCE), req(name, "2", alias="champion"), driver
        )
    metric, invariance = result.plan.gates
    assert (metric.name, metric.status) == ("metric", "failed")
    assert (invariance.name, invariance.status) == ("invariance", "not_run")
    assert invariance.detail == "not run (an earlier gate failed: metric)"
    assert invariance.seconds is None and not invariance.blocking
    # it never started: no mark from its process, no "running" for it
    assert not invariance_started(name)
    assert started(driver) == ["metric"]
    assert "gate invariance: not run (an earlier gate failed: metric)" in driver.messages
    assert result.outcome == "refused"
    assert "gate(s) failed: metric; not run: invariance" in result.message
    lines = plan_lines(result.plan)
    assert "    ---- invariance: not run (an earlier gate failed: metric)" in lines
    assert any(line.startswith("  stopped:") and "--all-gates" in line for line in lines)
    assert not any("PASS" in line for line in lines)
    # the audit says so too
    [record] = flow.audit.read().records
    assert [g["status"] for g in record.gates] == ["failed", "not_run"]


async def test_all_gates_runs_every_gate_after_a_failure(flow, seeder):
    name = worse_than_champion(seeder)
    driver = Recorder()
    async with flow.client() as client:
        result = await promote(
            flow.context(client, METRIC_AND_INVARIANCE),
            req(name, "2", alias="champion", all_gates=True),
            driver,
        )
    assert [(g.name, g.status) for g in result.plan.gates] == [
        ("metric", "failed"),
        ("invariance", "passed"),
    ]
    assert invariance_started(name) and started(driver) == ["metric", "invariance"]
    assert result.outcome == "refused" and "not run" not in result.message


async def test_forcing_past_a_failure_names_the_gates_that_never_ran(flow, seeder):
    name = worse_than_champion(seeder)
    async with flow.client() as client:
        result = await promote(
            flow.context(client, METRIC_AND_INVARIANCE),
            req(name, "2", alias="champion", force=True, reason="INC-7: metric is stale"),
            Recorder(),
        )
    assert result.outcome == "succeeded" and result.plan.forced
    assert not invariance_started(name)
    override = next(line for line in plan_lines(result.plan) if "OVERRIDE" in line)
    assert "failed gates (metric) overridden" in override
    assert "never run, so not checked either: invariance" in override
    tags = seeder.version(name, "2")["tags"]
    assert tags["mlops.promotion_forced"] == "metric"
    assert tags["mlops.promotion_not_run"] == "invariance"
    [record] = [r for r in flow.audit.read().records if r.outcome == "succeeded"]
    assert record.forced and [g["status"] for g in record.gates] == ["failed", "not_run"]


# --- the CLI, on a plain scikit-learn model and its real signature checks ----------------------

CHAMPION_GATES = (
    '[gates.alias.champion]\nrequire = ["invariance", "provenance", "metric", "ready"]\n'
)


@pytest.fixture(scope="module")
def sklearn_model(mlflow_server) -> str:
    """v1 (accuracy 0.9, the champion) and v2 (accuracy 0.5), logged with mlflow.sklearn."""
    name = f"sk-{uuid.uuid4().hex[:8]}"
    seed(mlflow_server.url, name, [0.9, 0.5])
    from tests.promote.conftest import Seeder

    Seeder(mlflow_server.url).alias(name, "champion", "1")
    return name


@pytest.fixture
def cli(mlflow_server, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(CHAMPION_GATES)
    monkeypatch.setenv("MLOPS_CONSOLE_CONFIG", str(config))

    def run(*argv: str) -> int:
        return main([*argv, "--tracking-uri", mlflow_server.url, "--home", str(tmp_path / "h")])

    return run


def test_cli_stops_at_the_failed_metric_and_all_gates_runs_them_all(cli, sklearn_model, capsys):
    argv = ("promote", sklearn_model, "2", "--alias", "champion", "--yes", "--json")
    assert cli(*argv) == 4
    out, err = capsys.readouterr()
    gates = {g["name"]: g for g in json.loads(out)["plan"]["gates"]}
    assert list(gates) == ["ready", "metric", "provenance", "invariance"]
    assert {n: g["status"] for n, g in gates.items()} == {
        "ready": "passed",
        "metric": "failed",
        "provenance": "not_run",
        "invariance": "not_run",
    }
    assert "---- invariance: not run (an earlier gate failed: metric)" in err
    assert "gate invariance: running" not in err  # it never started
    assert "gate invariance: not run" in err

    assert cli(*argv, "--all-gates") == 4
    out, err = capsys.readouterr()
    gates = {g["name"]: g for g in json.loads(out)["plan"]["gates"]}
    assert gates["metric"]["status"] == "failed"
    assert gates["provenance"]["status"] == "failed"  # someone else's run: no provenance
    invariance = gates["invariance"]
    assert invariance["status"] == "passed", invariance
    assert "column_order, extra_column, row_alone, int_as_float, load_twice" in invariance["detail"]
    assert "not run" not in err


# --- the console's plan modal --------------------------------------------------------------------


class Host(App):
    """A bare app running one promotion in a worker with ``PromotionDriver``, as the shell does."""

    def __init__(self, ctx, request) -> None:
        super().__init__()
        self.ctx, self.request = ctx, request
        self.result = None
        self.driver: PromotionDriver | None = None

    def start_promotion(self) -> None:
        async def work() -> None:
            self.driver = PromotionDriver(self)
            self.result = await promote(self.ctx, self.request, self.driver)

        self.run_worker(work(), exit_on_error=False)


def _override_up(app) -> bool:
    return showing(app, PlanOverrideModal) and getattr(app.focused, "id", "") == "plan-no"


async def test_plan_modal_shows_not_run_gates_and_g_runs_them_all(flow, seeder):
    name = worse_than_champion(seeder)
    async with flow.client() as client:
        ctx = flow.context(client, METRIC_AND_INVARIANCE)
        app = Host(ctx, req(name, "2", alias="champion", expect="1"))
        async with app.run_test(size=(100, 34)) as pilot:
            app.start_promotion()
            await wait_for(pilot, lambda: _override_up(app), 60)
            first = app.screen
            body = plain(first.query_one("#plan-body", Static).render())
            assert "FAIL metric" in body
            assert "---- invariance: not run (an earlier gate failed: metric)" in body
            assert "PASS invariance" not in body
            title = plain(first.query_one("#override-title").render())
            assert "Not run: invariance (g runs every gate)" in title
            assert first.query_one("#override-all-gates", Button).label.plain == "Run all gates"
            assert not invariance_started(name)
            await pilot.press("g")
            # the gates run again, every one of them, and the plan comes back with all verdicts
            await wait_for(pilot, lambda: app.screen is not first, 30)
            await wait_for(pilot, lambda: _override_up(app) and app.screen is not first, 60)
            body = plain(app.screen.query_one("#plan-body", Static).render())
            assert "FAIL metric" in body and "PASS invariance" in body
            assert "not run" not in body
            assert not app.screen.query("#override-all-gates")  # nothing left to run
            assert invariance_started(name)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.result is not None)
    assert app.result.outcome == "refused"
    assert app.result.plan.request.all_gates and seeder.aliases(name) == {"champion": "1"}
    assert started(app.driver) == ["metric", "metric", "invariance"]


async def test_gates_running_modal_shows_waiting_and_not_run():
    app = App()
    async with app.run_test(size=(100, 34)) as pilot:
        screen = GatesRunning("v2 of m → alias:champion")
        app.push_screen(screen)
        await pilot.pause()
        screen.update_gate(GateProgress(name="metric", status="waiting"))
        screen.update_gate(GateProgress(name="invariance", status="waiting"))
        screen.update_gate(GateProgress(name="metric", status="running"))
        screen.update_gate(
            GateProgress(name="metric", status="failed", detail="worse", seconds=0.1)
        )
        screen.update_gate(
            GateProgress(
                name="invariance",
                status="not_run",
                detail="not run (an earlier gate failed: metric)",
            )
        )
        shown = plain(screen.lines())
    assert "✘ metric      failed (0.1 s)" in shown
    assert "– invariance" in shown and "not run (an earlier gate failed: metric)" in shown
    assert "running" not in shown and "passed" not in shown


# --- the invariance gate's own structure: one process, the model loaded once -------------------


def test_console_check_modules_share_one_process_and_others_keep_their_own() -> None:
    from commands.invariance_gate import IN_PROCESS
    from commands.promote_gates import _batches

    own, signature = "commands.invariance", "commands.invariance_signature"
    assert {own, signature} <= IN_PROCESS
    assert _batches([own, signature], IN_PROCESS) == [[own, signature]]
    assert _batches([MARKER, signature], IN_PROCESS) == [[MARKER], [signature]]


def test_one_process_loads_the_model_once_for_every_module(mlflow_server, sklearn_model) -> None:
    """Both check modules on the scikit-learn model in one process: the model is loaded once
    (plus the second load that ``load_twice`` checks), not once per module."""
    import subprocess
    import sys

    from tests.promote.sklearn_models import ROOT

    argv = [sys.executable, "-m", "commands.invariance_gate", "--model-uri",
            f"models:/{sklearn_model}/1", "--tracking-uri", mlflow_server.url,
            "--module", "commands.invariance_signature", "--module", "commands.invariance",
            "--json"]  # fmt: skip
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    signature, own = doc["modules"]
    assert signature["exit"] == 0 and signature["report"]["passed"]
    # the demo's own checks ran on the model already loaded (no third load)
    assert own["module"] == "commands.invariance" and own["exit"] == 0, own
    assert [c["name"] for c in own["report"]["checks"]][-1] == "repo_name"
    assert doc["loads"] == 2, doc
    assert out.returncode == 0

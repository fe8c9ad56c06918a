"""The built-in gates on the demo lifecycle: its champion has complete provenance and passes the
three invariance checks (run in a separate process) on its way to Production.
"""

from __future__ import annotations

import time

import pytest

from commands.promote import promote
from console.promotion_model import PromotionRequest
from tests.promote.conftest import Flow
from tests.promote.test_actions import Recorder
from tests.support.demo import build_demo_home
from tests.support.servers import start_mlflow_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = start_mlflow_server(tmp_path_factory.mktemp("promote-demo-mlflow"))
    try:
        paths, result = build_demo_home(tmp_path_factory, server.url, "promote-demo-home")
        yield server.url, paths.home, result
    finally:
        server.stop()


async def test_demo_champion_passes_every_builtin_gate_into_production(demo):
    url, home, built = demo
    flow = Flow(url, home)
    version = built.champion_version
    driver = Recorder()
    started = time.monotonic()
    async with flow.client() as client:
        result = await promote(
            flow.context(client, gates=None),  # built-in gates only
            PromotionRequest(model="next-week-commits", version=version, stage="Production"),
            driver,
        )
    seconds = time.monotonic() - started
    gates = {g.name: g for g in result.plan.gates}
    assert list(gates) == ["ready", "metric", "provenance", "invariance"]  # cheapest first
    assert {n: g.status for n, g in gates.items()} == dict.fromkeys(gates, "passed"), gates
    assert "column_order, extra_column, repo_name" in gates["invariance"].detail
    assert result.outcome == "succeeded", result.message
    assert driver.typed == ["next-week-commits"]
    print(
        f"demo promotion with all gates: {seconds:.1f} s; "
        + ", ".join(f"{n} {g.seconds:.2f} s" for n, g in gates.items())
    )

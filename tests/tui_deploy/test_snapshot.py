"""Layout snapshot of the deployments view at 80×24: fixed rows and monitor results, fixed clock.

Fed ``DeploymentStatus`` rows and ``MonitorState`` values directly (no server, no subprocess), so
nothing changes between runs (update with ``pytest tests/tui_deploy --snapshot-update``).
"""

from __future__ import annotations

import time

from console.deployment_model import DeploymentStatus
from console.monitor_contract import MonitorReport, MonitorState
from console.settings import Settings
from console.tui.app import build_app
from tests.tui.fake_client import NOW, FakeClient
from tests.tui.support import settle

ROWS = [
    DeploymentStatus(
        name="next-week-commits",
        kind="embedded",
        url="http://127.0.0.1:40123",
        protocol="mlops",
        model="next-week-commits",
        alias="champion",
        served_version="1",
        alias_version="4",
        in_sync=False,
        healthy=True,
        state="running",
        requests=1234,
        errors=3,
        error_rate=0.0024,
        latency_p50_ms=12.5,
        latency_p95_ms=48.1,
        pid=4242,
        restarts=0,
        detail="",
    ),
    DeploymentStatus(
        name="iris-live",
        kind="embedded",
        url="http://127.0.0.1:40177",
        protocol="mlops",
        model="iris",
        alias="live",
        served_version="2",
        alias_version="2",
        in_sync=True,
        healthy=True,
        state="running",
        requests=88,
        errors=0,
        error_rate=0.0,
        latency_p50_ms=3.2,
        latency_p95_ms=9.9,
        pid=4250,
        restarts=1,
    ),
    DeploymentStatus(
        name="churn-api",
        kind="production",
        url="https://churn.internal",
        protocol="v2",
        model="churn",
        alias="champion",
        served_version="7",
        alias_version="7",
        in_sync=True,
        healthy=False,
        state="unreachable",
        detail="/v2/health/ready: no answer",
    ),
]


def _report(model: str, drifted: int, total: int, retrain: bool) -> MonitorReport:
    return MonitorReport(
        model=model,
        version="1",
        drift=[
            {"feature": f"f{i}", "statistic": 0.1, "drifted": i < drifted} for i in range(total)
        ],
        drift_share=drifted / total,
        retrain_suggested=retrain,
        reasons=["drift share 40% over 30%"] if retrain else [],
    )


def test_deployments_view(snap_compare, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    settings = Settings(home=tmp_path, tracking_uri="http://mlflow.test")
    app = build_app(settings, client_factory=FakeClient, page_size=10, clock=lambda: NOW)
    feature = app.deployments
    feature.poll_s = 3600.0

    async def gather() -> list[DeploymentStatus]:
        return ROWS

    feature.gather = gather
    feature.monitor = {
        ("next-week-commits", "champion"): MonitorState(
            report=_report("next-week-commits", 2, 5, True), at=NOW
        ),
        ("iris", "live"): MonitorState(report=_report("iris", 0, 2, False), at=NOW),
        ("churn", "champion"): MonitorState(unavailable=True, error="n/a", at=NOW),
    }

    async def open_view(pilot) -> None:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=open_view)
    finally:
        monkeypatch.undo()
        time.tzset()

"""Journey 8, a dead server and a restarting embedded server: the header and the detail strip
say what is true (unreachable, how to get it back; then connected again), and the console
recovers by itself — keys pressed while the server was down are not lost."""

from __future__ import annotations

import re
from pathlib import Path

from tests.journeys.conftest import SIZES
from tests.journeys.harness import START_S, header
from tests.support.servers import start_mlflow_server

MODEL = "next-week-commits"
DOWN_S = 90.0  # the console notices a dead server (its next poll)
BACK_S = 180.0  # the embedded server restarted and the console reconnected


def _port(screen: str) -> str:
    found = re.search(r"127\.0\.0\.1:(\d+)", header(screen))
    assert found, screen
    return found.group(1)


@SIZES
def test_restarting_embedded_server(journey, copy_demo_home: Path, size) -> None:
    op = journey(copy_demo_home, *size)
    op.start()
    op.wait_for("· connected", START_S, where="header")
    op.wait_for(re.compile(rf"Runs · {MODEL} · \d+ loaded"), 120)

    op.cli("embedded", "stop")
    screen = op.wait_for("unreachable since", DOWN_S, where="header")
    assert "connected" not in header(screen)
    op.wait_for("embedded start", 30)  # how to get it back
    op.press("2")  # while it is down: the registry pane, whose models load once it is back

    op.cli("embedded", "start")
    screen = op.wait_for("· connected", BACK_S, where="header")
    assert "unreachable" not in header(screen)
    op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 120)
    op.wait_for(re.compile(r"Models · 1"), 30)
    # the header names the server it talks to now
    assert _port(op.last_screen) in op.cli("embedded", "status").stdout

    # and everything answers again: r reloads, the runs pane shows the demo's runs
    op.press("r", "1")
    op.wait_for(re.compile(rf"Runs · {MODEL} · \d+ loaded"), 120)
    assert "unreachable" not in header(op.screen())


def test_dead_server_comes_back(journey, copy_demo_home: Path, tmp_path: Path) -> None:
    """A real ``mlflow server`` (on the demo's store) killed, then started again on its port."""
    store = copy_demo_home / "mlflow"
    server = start_mlflow_server(store, backend_uri=f"sqlite:///{store / 'mlflow.db'}", timeout=300)
    try:
        op = journey(copy_demo_home, 80, 24, MLFLOW_TRACKING_URI=server.url)
        op.start()
        op.wait_for("· connected", START_S, where="header")
        op.wait_for(re.compile(rf"Runs · {MODEL} · \d+ loaded"), 120)
        server.kill()
        screen = op.wait_for("unreachable since", DOWN_S, where="header")
        assert "connected" not in header(screen)
        op.press("2")
        server.start(timeout=300)
        op.wait_for("· connected", BACK_S, where="header")
        op.wait_for(re.compile(rf"Versions · {MODEL} · 3"), 120)
    finally:
        server.stop()


def test_dead_server_detail_strip(journey, tmp_path: Path) -> None:
    op = journey(tmp_path / "home", 80, 24, MLFLOW_TRACKING_URI="http://127.0.0.1:1")
    op.start()
    screen = op.wait_for("unreachable since", START_S, where="header")
    strip = "\n".join(screen.split("\n")[1:])
    assert "connecting…" not in strip, screen

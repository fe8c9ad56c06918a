"""Journey fixtures: an operator's terminal (``journey``) and the demo home built once per session
with the CLI on its own embedded MLflow server (``demo_home``), copied for each journey so each
has its own registry, audit and history."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.journeys.harness import Journey, journey_env, run_cli
from tests.support.servers import git_available
from tests.terminal.tmux import need_tmux

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"journey_{report.when}", report)


@pytest.fixture
def journey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Journey]]:
    """``journey(home, width, height, **env)``: a terminal for one operator; on a failure the
    last screen of each is printed."""
    need_tmux()
    opened: list[Journey] = []

    def open_journey(home: Path, width: int, height: int, **env: str) -> Journey:
        one = Journey(tmp_path / f"env-{len(opened)}", home, width, height, **env)
        opened.append(one)
        return one

    yield open_journey
    failed = getattr(request.node, "journey_call", None)
    for one in opened:
        one.close()
        if failed is not None and failed.failed:
            print(f"\n--- last screen ({one.width}x{one.height}) ---\n{one.last_screen}")
            print(f"--- steps ---\n{one.log}")
    for one in opened:  # an embedded server a journey started stops with it
        run_cli(one.home, one.env, ["embedded", "stop"], check=False, timeout=120)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A console home holding the built demo (its embedded server stopped): copy it, never use
    it directly (``copy_demo_home``)."""
    need_tmux()
    if not git_available():
        pytest.skip("git is not installed")
    base = tmp_path_factory.mktemp("journey-demo")
    home = base / "home"
    env = journey_env(base)
    started = time.monotonic()
    try:
        run_cli(home, env, ["demo"], timeout=1200)
    finally:
        run_cli(home, env, ["embedded", "stop"], check=False, timeout=120)
    print(f"demo home built in {time.monotonic() - started:.0f} s")
    return home


@pytest.fixture
def copy_demo_home(demo_home: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home, symlinks=True)
    return home

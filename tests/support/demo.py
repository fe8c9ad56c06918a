"""Build the demo lifecycle into a fresh console home on a given MLflow server, for test fixtures.

Each test package builds its own (some tests mutate their demo); this only shares the steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.servers import git_available

if TYPE_CHECKING:
    from commands.demo.result import DemoPaths, DemoResult
    from commands.driver import QuietDriver


def build_demo_home(
    tmp_path_factory: pytest.TempPathFactory,
    url: str,
    home_prefix: str,
    driver: QuietDriver | None = None,
) -> tuple[DemoPaths, DemoResult]:
    """The demo built on ``url`` into a new home; skips the test when git is not installed."""
    if not git_available():
        pytest.skip("git is not installed")
    from commands.demo.pipeline import build_demo
    from commands.demo.result import DemoPaths
    from commands.driver import QuietDriver

    paths = DemoPaths.for_home(tmp_path_factory.mktemp(home_prefix))
    result = build_demo(paths, url, driver or QuietDriver())
    return paths, result

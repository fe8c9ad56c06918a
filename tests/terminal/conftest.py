"""Fixtures for the real-terminal tests: a tmux terminal (skipped without tmux) and a seeded
real MLflow server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.terminal.tmux import Terminal, need_tmux


@pytest.fixture
def terminal() -> Iterator[Callable[[int, int], Terminal]]:
    need_tmux()
    opened: list[Terminal] = []

    def open_terminal(width: int, height: int) -> Terminal:
        term = Terminal(width, height)
        opened.append(term)
        return term

    yield open_terminal
    for term in opened:
        term.close()


@pytest.fixture(scope="session")
def terminal_world(request: pytest.FixtureRequest):
    from tests.tui.conftest import seed

    server = request.getfixturevalue("mlflow_server")
    return seed(server.url, f"term-{uuid.uuid4().hex[:6]}")

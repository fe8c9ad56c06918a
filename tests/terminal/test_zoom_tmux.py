"""Zoom through a real terminal: the console in tmux at 80×24 and 200×50 against a real MLflow
server that other tests have filled (hundreds of experiments and models, as on a shared server).

The operator reaches the seeded experiment and model by name (``:experiment``, ``:model``), as
one would on a busy server, then zooms the registry pane and the detail strip and comes back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.terminal.tmux import CONSOLE, console_env

pytestmark = pytest.mark.slow

START_S = 180.0  # a loaded machine starts Python, Textual and the first requests slowly


def _lines(screen: str) -> list[str]:
    return screen.rstrip("\n").split("\n")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_zoom_in_a_real_terminal(terminal, terminal_world, tmp_path: Path, size) -> None:
    world = terminal_world
    width, height = size
    term = terminal(width, height)
    env = console_env(tmp_path, MLFLOW_TRACKING_URI=world.url)
    term.start([CONSOLE, "--home", str(tmp_path / "home")], env)
    term.wait_for(lambda s: "· connected" in _lines(s)[0], START_S, "the connected header")
    term.send(":", f"experiment {world.main_experiment}", "Enter")
    term.wait_for(lambda s: "run-0" in s, 60, "the seeded experiment's runs")
    term.send(":", f"model {world.model}", "Enter")
    versions = f"Versions · {world.model} · 3"
    shown = term.wait_for(lambda s: versions in s, 60, "the model's versions")
    assert len(_lines(shown)) <= height
    term.send("2")  # the registry pane
    term.send("z")
    zoomed = term.wait_for(lambda s: "zoomed: Registry" in s, 20, "the zoomed registry")
    assert "z or escape" in zoomed
    # the registry alone: the other panes' titles are gone, the models title spans the screen
    assert "Experiments" not in zoomed.split("zoomed: Registry", 1)[1]
    models_line = next(line for line in _lines(zoomed) if "Models" in line)
    assert len(models_line.rstrip()) > width // 2 or width == 80, zoomed
    term.send("z")
    back = term.wait_for(lambda s: "Experiments" in s, 20, "the panes again")
    assert "zoomed:" not in back
    if width >= 120:  # side by side again: all three pane titles on one screen
        assert "Lineage" in back and "Models" in back
    # Z zooms the detail strip; escape returns
    term.send("Z")
    term.wait_for(lambda s: "zoomed: detail" in s, 20, "the zoomed detail strip")
    term.send("Escape")
    final = term.wait_for(lambda s: "Experiments" in s, 20, "the panes after escape")
    assert "zoomed:" not in final
    term.send("q")
    term.wait_for(lambda s: "CONSOLE-EXITED 0" in s, 30, "a clean exit")

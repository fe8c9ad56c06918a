"""The real ``mlops-console`` in a real terminal (tmux) at 80×24: the prompt line is visible and
what is typed after ``:`` stays a command (also on the run screen); the header says
``unreachable`` for a closed port and for a server answering HTML; the console follows the
embedded server through ``embedded stop`` + ``embedded start`` and says how to start it while it
is down. Real MLflow servers; the screen is read with ``capture-pane``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.html_server import html_server
from tests.terminal.tmux import CONSOLE, console_env

pytestmark = pytest.mark.slow

START_S = 180.0  # a loaded machine starts Python, Textual and the first requests slowly


def _header(screen: str) -> str:
    return screen.split("\n", 1)[0]


def _flat(screen: str) -> str:
    return " ".join(screen.split())


def test_prompt_line_is_visible_and_stays_a_command(
    terminal, terminal_world, tmp_path: Path
) -> None:
    world = terminal_world
    term = terminal(80, 24)
    env = console_env(tmp_path, MLFLOW_TRACKING_URI=world.url)
    term.start([CONSOLE, "--home", str(tmp_path / "home")], env)
    term.wait_for(lambda s: "· connected" in _header(s), START_S, "the connected header")
    term.send(":", "bogus")
    screen = term.wait_for(
        lambda s: any(line.startswith(": bogus") for line in s.split("\n")), 20, "the prompt"
    )
    lines = screen.rstrip("\n").split("\n")
    prompt_row = next(i for i, line in enumerate(lines) if line.startswith(": bogus"))
    assert prompt_row == len(lines) - 2, screen  # its own line, just above the footer
    term.send("Enter")
    term.wait_for(lambda s: "unknown command" in _flat(s), 20, "the unknown-command notice")

    # on the run screen too: `:bogus` is a command, not the keys b, o, g, u, s
    term.send(":", f"run {world.runs[0]}", "Enter")
    term.wait_for(lambda s: _header(s).startswith("Run run-00"), 60, "the run screen")
    term.send(":", "bogus")
    term.wait_for(
        lambda s: any(line.startswith(": bogus") for line in s.split("\n")), 20, "the prompt"
    )
    term.send("Enter")
    screen = term.wait_for(lambda s: "unknown command" in _flat(s), 20, "the notice")
    assert _header(screen).startswith("Run run-00")
    assert "Runbooks" not in screen


def test_tab_in_a_prompt_keeps_the_prompt_and_its_text(
    terminal, terminal_world, tmp_path: Path
) -> None:
    """Tab and shift+tab in the `:`, `/` and sort prompts: the prompt stays open with its text
    (tab completes a `:` command word), and the letters typed next go into it, never to the
    panes (once, `:mod` tab `run …` opened the Compare screen)."""
    world = terminal_world
    term = terminal(80, 24)
    env = console_env(tmp_path, MLFLOW_TRACKING_URI=world.url)
    term.start([CONSOLE, "--home", str(tmp_path / "home")], env)
    term.wait_for(lambda s: "· connected" in _header(s), START_S, "the connected header")

    def prompt_line(screen: str, start: str) -> bool:
        return any(line.startswith(start) for line in screen.split("\n"))

    term.send(":", "mod")
    term.wait_for(lambda s: prompt_line(s, ": mod"), 20, "the prompt")
    term.send("Tab")
    term.wait_for(lambda s: prompt_line(s, ": model"), 20, "the completed command word")
    term.send("Tab", "BTab", "zc")
    screen = term.wait_for(lambda s: prompt_line(s, ": modelzc"), 20, "the typed text kept")
    assert "zoomed" not in screen and "Compare" not in _header(screen)
    assert "enter Run" in screen.rstrip("\n").split("\n")[-1]  # the footer names the prompt's keys
    term.send("Escape")
    term.wait_for(lambda s: not prompt_line(s, ": "), 20, "the prompt closed")

    # typed in one burst, as a fast typist does: the letters after `:` reach the prompt (they
    # once ran as commands: `s` said "move to a version…"), and the keys after enter the panes
    term._tmux("send-keys", "-t", term.session, "-l", ":bogus")
    screen = term.wait_for(lambda s: prompt_line(s, ": bogus"), 20, "the burst in the prompt")
    assert "move to a version" not in _flat(screen)
    term._tmux("send-keys", "-t", term.session, "Enter")
    term.wait_for(lambda s: "unknown command :bogus" in _flat(s), 20, "the whole word submitted")

    # the whole line and what follows it in one burst: the letters before enter are submitted
    # with it (once enter ran ahead of them: `:q` enter submitted nothing), the keys after it
    # reach the screen (`/` opens the filter) rather than the closed prompt
    term._tmux("send-keys", "-t", term.session, ":refr", "Tab", "Enter", "/xy")
    screen = term.wait_for(lambda s: prompt_line(s, "/ xy"), 20, "the filter typed after enter")
    assert "unknown command :refr" not in _flat(screen), screen  # tab completed it: `:refresh`
    term.send("Escape")
    term.wait_for(lambda s: not prompt_line(s, "/"), 20, "the filter closed")

    # the filter and the sort prompt keep their text through tab too
    for key, label in (("/", "/"), ("o", "sort by:")):
        term.send(key, "xy")
        term.wait_for(lambda s, label=label: prompt_line(s, f"{label} xy"), 20, "the prompt")
        term.send("Tab", "BTab", "zq")
        screen = term.wait_for(
            lambda s, label=label: prompt_line(s, f"{label} xyzq"), 20, "the text kept"
        )
        assert "zoomed" not in screen
        footer = screen.rstrip("\n").split("\n")[-1]
        assert "Filter" not in footer or label == "/", footer
        term.send("Escape")
        term.wait_for(lambda s, label=label: not prompt_line(s, label), 20, "the prompt closed")


@pytest.mark.parametrize("kind", ["closed-port", "html"])
def test_header_says_unreachable(terminal, tmp_path: Path, kind: str) -> None:
    with html_server() as html_url:
        url = "http://127.0.0.1:1" if kind == "closed-port" else html_url
        term = terminal(80, 24)
        term.start(
            [CONSOLE, "--home", str(tmp_path / "home")],
            console_env(tmp_path, MLFLOW_TRACKING_URI=url),
        )
        screen = term.wait_for(
            lambda s: "unreachable since" in _header(s), START_S, "the unreachable header"
        )
        assert "connected" not in _header(screen)
        term.send("r")
        screen = term.wait_for(lambda s: "unreachable since" in _header(s), 20, "the header")
        assert "connected" not in _header(screen)


def test_follows_a_restarted_embedded_server(terminal, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    from console.embedded import lifecycle as embedded

    home = tmp_path / "home"
    first = embedded.ensure_server(home, timeout=600)
    try:
        # a home where the demo exists (the console would otherwise start building it)
        MlflowClient(first.tracking_uri).create_experiment("next-week-commits")
        term = terminal(80, 24)
        term.start([CONSOLE, "--home", str(home)], console_env(tmp_path))
        port = str(first.port)
        term.wait_for(
            lambda s: "connected" in _header(s) and port in _header(s), START_S, "connected"
        )
        embedded.stop(home)
        screen = term.wait_for(
            lambda s: "unreachable since" in _header(s), 60, "the unreachable header"
        )
        assert "embedded start" in _flat(screen)  # how to get it back
        second = embedded.ensure_server(home, timeout=600)
        new_port = str(second.port)
        term.wait_for(
            lambda s: "· connected" in _header(s) and new_port in _header(s),
            120,
            "the console reconnected to the new server",
        )
    finally:
        embedded.stop(home)

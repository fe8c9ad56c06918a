"""Nothing a server sends reaches the terminal as a control sequence or as markup.

The real console runs on a pty against a real MLflow server holding hostile names (stored with
MLflow's own client); every byte it writes is recorded while the operator opens the command
palette (experiment and model entries), marks a version (the toast quotes the model name), opens
the version screen (its title) and runs a bad ``:`` command. The recording must not contain any
payload's escape sequence, C1 control or bidi override, and markup in names must show literally.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.servers import MlflowServer, start_mlflow_server
from tests.support.terminal import ANSI, Terminal

# each payload carries the marker "zq" so the palette search finds them all
PAYLOADS = {
    "markup": "zq-[bold red]styled",
    "action": "zq-[@click=app.quit]CLICK",
    "closing": "zq-[/nope]vanish",
    "csi": "zq-\x1b[5;13rcsi\x1b[2J",
    "osc52-st": "zq-\x1b]52;c;aGVsbG8=\x1b\\clip",
    "osc52-bel": "zq-\x1b]52;c;d29ybGQ=\x07clip",
    "osc2-title": "zq-\x1b]2;PWNED\x1b\\title",
    "osc0-title": "zq-\x1b]0;PWNED0\x07title",
    "osc8-link": "zq-\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",
    "c1": "zq-\x9b2Jc1",
    "bidi": "zq-\u202eevil\u202c",
    "long": "zq-" + "L" * 10_000,
}
# byte sequences that must never appear in what the console writes
FORBIDDEN = {
    "OSC 52 clipboard": b"\x1b]52;",
    "OSC 2 title": b"\x1b]2;PWNED",
    "OSC 0 title": b"\x1b]0;PWNED0",
    "OSC 8 link from a name": b"\x1b]8;;http://evil.example",
    "CSI scroll region": b"\x1b[5;13r",
    "C1 CSI (U+009B)": "\u009b".encode(),
    "bidi override (U+202E)": "\u202e".encode(),
}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory):
    server = start_mlflow_server(tmp_path_factory.mktemp("hostile-server"), timeout=240)
    try:
        yield server, _seed(server)
    finally:
        server.stop()


def _seed(server: MlflowServer) -> dict[str, list[str]]:
    """Experiments and models named with every payload MLflow accepts; what was stored."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=server.url)
    stored: dict[str, list[str]] = {"experiments": [], "models": []}
    default = client.get_experiment_by_name("Default").experiment_id
    for kind, payload in PAYLOADS.items():
        try:
            client.create_experiment(payload)
            stored["experiments"].append(kind)
        except MlflowException:
            pass
        try:
            client.create_registered_model(payload, description=payload)
        except MlflowException:
            continue
        run = client.create_run(default)
        client.create_model_version(
            payload, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
        stored["models"].append(kind)
    return stored


def _console(url: str, home: Path) -> Terminal:
    env = {**os.environ, "TERM": "xterm-256color", "MLOPS_CONSOLE_HOME": str(home)}
    env.pop("NO_COLOR", None)  # colours on: styled markup would show in the byte stream
    return Terminal(
        [sys.executable, "-m", "console", "--tracking-uri", url], env, cols=160, rows=48
    )


def test_no_payload_reaches_the_terminal(hostile_server, tmp_path: Path) -> None:
    server, stored = hostile_server
    # the sweep is only meaningful if MLflow stored the dangerous names
    assert {"osc52-st", "osc2-title", "c1", "bidi", "markup", "action"} <= set(
        stored["experiments"]
    ), stored
    assert stored["models"], "MLflow stored no hostile model name"
    term = _console(server.url, tmp_path / "home")
    try:
        term.wait_for(b"connected", 180)
        term.wait_for(b"zq-", 120)  # the experiments list is drawn
        # the palette: every experiment and model entry (discover=False: found by search)
        term.press("\x10")  # ctrl+p
        term.wait_for(b"Search for commands", 30)
        term.press("zq")
        term.settle(3)
        term.press("\x1b")
        term.settle(1)
        # each hostile model: into its versions, mark v1 (the toast quotes the model name)
        term.press("2")  # the registry pane
        term.settle(2)
        for _ in stored["models"]:
            term.press("\r")
            term.settle(2)
            term.press("m")
            term.settle(1.5)
            term.press("\x1b")  # back to the models list
            term.settle(0.5)
            term.press("j")
        term.press("\r")
        term.settle(2)
        term.press("\r")  # the version screen: its title is the model name
        term.settle(3)
        term.press("\x1b")
        term.settle(1)
        term.press(":model [@click=app.toggle_dark]x\r")  # typed markup reaches a toast too
        term.settle(3)
        term.check_alive()  # the action link did not quit the console
    finally:
        term.close()
    raw = bytes(term.raw)
    leaked = [name for name, seq in FORBIDDEN.items() if seq in raw]
    assert not leaked, f"reached the terminal: {leaked}"
    # the whole recording, de-styled (``term.text`` keeps only the last 256 KB: the first toast
    # can scroll out of it behind the version screen's 10,000-character name)
    text = ANSI.sub(b"", raw)
    # markup in names is shown as text, not applied
    assert b"@click=app.quit" in text
    assert b"[bold red]styled" in text
    assert b"marked v1 of zq-" in text  # the toast was drawn (so it was checked, not skipped)

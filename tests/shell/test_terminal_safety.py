"""Nothing a server sends reaches the terminal as a control sequence or as markup.

The real console runs on a pty against a real MLflow server holding hostile names (stored with
MLflow's own client); every byte it writes is recorded while the operator opens the command
palette (experiment and model entries), marks a version (the toast quotes the model name), opens
the version screen (its title) and runs a bad ``:`` command. The recording must not contain any
payload's escape sequence, C1 control or bidi override, and markup in names must show literally.
"""

from __future__ import annotations

import os
import re
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
    # issue 20: Textual markup with a leading space (``escape`` missed it), a name for the runbook
    # form (OSC 2 and 52, ST- and BEL-terminated), zero-width and a typed escape that looks like it
    "click-space": "zq-palm [ @click=app.quit]MQUIT",
    "link-space": "zq-[ link=http://evil.example]L[/]",
    "reverse-space": "zq-[ reverse]R",
    "osc-st": "stmodel \x1b]2;STPWNTITLE\x1b\\\x1b]52;c;U1RQV05FRA==\x1b\\ end",
    "osc-bel": "zq-bel \x1b]2;BELTITLE\x07\x1b]52;c;QkVMUFdORUQ=\x07\x1b[2J end",
    "zero-width": "zq-zw\u200bx",
    "typed-escape": "zq-lit\\u200bx",
    "cr-nl": "zq-cr\rnl\nx",
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
    "OSC 2 title (ST, runbook name)": b"\x1b]2;STPWNTITLE",
    "OSC 2 title (BEL)": b"\x1b]2;BELTITLE",
    "any OSC 8 hyperlink": b"\x1b]8;",
    "raw carriage return from a name": b"cr\rnl",
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
    assert b"marked v1 of zq-" in text  # the top line drew it (so it was checked, not skipped)


# --- issue 20: the palette, a click on a name, banners, the runbook form, history and audit ----

CUP = re.compile(rb"\x1b\[(\d+);(\d+)H")


def _leaks(raw: bytes) -> list[str]:
    return [name for name, seq in FORBIDDEN.items() if seq in raw]


def _locate(raw: bytes, needle: bytes) -> tuple[int, int]:
    """Where ``needle`` was last drawn (1-based column, row): Textual positions every line it
    draws with a cursor move, so the column is the move's plus the cells drawn since."""
    at = raw.rfind(needle)
    assert at >= 0, f"{needle!r} was never drawn"
    window = raw[max(0, at - 8000) : at]
    move = list(CUP.finditer(window))[-1]
    drawn = ANSI.sub(b"", window[move.end() :]).decode("utf-8", "replace")
    return int(move[2]) + len(drawn), int(move[1])


def _drawn_after(term: Terminal, mark: int, needle: bytes, timeout: float) -> None:
    """Wait until ``needle`` is drawn in what the program wrote after byte ``mark``."""
    import time

    deadline = time.monotonic() + timeout
    while needle not in ANSI.sub(b"", bytes(term.raw[mark:])):
        assert time.monotonic() < deadline, f"{needle!r} was not drawn"
        term.settle(0.2)


def _click(term: Terminal, column: int, row: int) -> None:
    """A left click in SGR 1006 mouse encoding (Textual turns mouse reporting on)."""
    term.press(f"\x1b[<0;{column};{row}M\x1b[<0;{column};{row}m")


def test_palette_search_and_a_click_on_a_name_do_not_act(hostile_server, tmp_path: Path) -> None:
    """A model named ``palm [ @click=app.quit]MQUIT`` showed as ``palm MQUIT`` and a click on
    MQUIT quit the console; ``[ link=…]`` sent a live OSC 8 link (issue 20, finding 2)."""
    server, stored = hostile_server
    # MLflow refuses "/" in a model name: the link one is an experiment (as in the issue)
    assert {"click-space", "reverse-space"} <= set(stored["models"]), stored
    assert "link-space" in stored["experiments"], stored
    term = _console(server.url, tmp_path / "home")
    try:
        term.wait_for(b"connected", 180)
        term.wait_for(b"zq-", 120)
        assert b"\x1b[?1006h" in term.raw  # SGR mouse reporting: the clicks below are seen
        term.press("\x10")  # ctrl+p
        term.wait_for(b"Search for commands", 30)
        term.press("palm")  # the query itself holds no MQUIT: what is found below is a hit
        term.wait_for(b"[ @click=app.quit]MQUIT", 30)
        term.settle(1)
        mark = len(term.raw)
        _click(term, *_locate(bytes(term.raw), b"MQUIT"))
        # the click chose the entry: the registry pane took the focus (its footer offers h
        # History, the experiments list's does not); the console did not quit
        _drawn_after(term, mark, b"h History", 30)
        term.check_alive()
        # the link and reverse names, found by search, shown as typed
        term.press("\x10")
        term.wait_for(b"Search for commands", 30)
        term.press("zq-[")
        term.wait_for(b"[ link=http://evil.example]L[/]", 30)
        term.wait_for(b"[ reverse]R", 30)
        _click(term, *_locate(bytes(term.raw), b"L[/]"))
        term.settle(2)
        term.check_alive()
        term.press("\x1b")
        term.settle(1)
        # a banner quoting typed text: a refused run filter
        term.press("1/")
        term.settle(1)
        term.press("metrics.zq <<< '[ @click=app.quit]BQUIT'\r")
        term.settle(4)
        if b"BQUIT" in ANSI.sub(b"", bytes(term.raw[-200_000:])):
            _click(term, *_locate(bytes(term.raw), b"BQUIT"))  # a click on a banner retries
            term.settle(2)
        term.check_alive()
    finally:
        term.close()
    raw = bytes(term.raw)
    assert not _leaks(raw), f"reached the terminal: {_leaks(raw)}"
    text = ANSI.sub(b"", raw)
    assert b"Model: zq-palm [ @click=app.quit]MQUIT" in text  # the whole title, literally
    assert b"zq-[ link=http://evil.example]L[/]" in text


def _transcripts(home: Path) -> list[dict]:
    import json

    folder = home / "transcripts"
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue  # being written
    return found


def _promote(url: str, home: Path, model: str) -> None:
    """A real CLI promotion of the hostile model: an audit record and history tags to show."""
    import subprocess

    argv = [sys.executable, "-m", "console", "--home", str(home), "--tracking-uri", url]
    reason = PAYLOADS["osc-bel"]
    done = subprocess.run(
        [*argv, "promote", model, "1", "--alias", "qa", "--reason", reason, "--yes"],
        env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")},
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]


def test_runbook_form_history_and_audit_on_an_osc_name(hostile_server, tmp_path: Path) -> None:
    """``b``, enter on a model named with OSC 2/52: the terminal was retitled and its clipboard
    written (issue 20, finding 3). The form shows the name escaped, the runbook gets it real;
    the history (``h``) and audit (``:audit``) views of that model stay inert too."""
    server, stored = hostile_server
    assert "osc-st" in stored["models"], stored
    name = PAYLOADS["osc-st"]
    home = tmp_path / "home"
    _promote(server.url, home, name)
    term = _console(server.url, home)
    try:
        term.wait_for(b"connected", 180)
        term.wait_for(b"zq-", 120)
        term.press("2")  # the registry pane, its models list
        term.settle(1)
        term.press("/")
        term.settle(0.5)
        term.press("stmodel\r")  # only the OSC model is left, highlighted
        term.wait_for(b"Models", 30)
        term.settle(3)
        term.press("b")
        term.wait_for(b"Runbooks", 60)
        term.settle(1)
        term.press("\r")  # the first runbook (it takes a model)
        term.wait_for(b"Runbook: ", 60)
        term.settle(2)
        assert b"stmodel \\x1b]2;STPWNTITLE" in term.text  # the field shows the name escaped
        term.press("\r")  # enter in a field: a dry run
        deadline = 120
        while deadline and not _transcripts(home):
            term.settle(1)
            deadline -= 1
        term.settle(2)
        term.press("\x1b")  # leave the runbook screen
        term.settle(2)
        term.press("h")  # the history of the highlighted model
        term.wait_for(b"qa", 60)
        term.settle(2)
        term.press("\x1b")
        term.settle(1)
        term.press(":audit\r")
        term.wait_for(b"BELTITLE", 60)  # the promotion's reason, shown escaped
        term.settle(2)
        term.press("\x1b")
        term.settle(1)
        term.check_alive()
    finally:
        term.close()
    raw = bytes(term.raw)
    assert not _leaks(raw), f"reached the terminal: {_leaks(raw)}"
    transcripts = _transcripts(home)
    assert transcripts, "the dry run wrote no transcript"
    # the runbook received the real name, not what the field showed
    assert transcripts[-1]["params"]["model"] == name


def test_a_typed_escape_looks_different_from_a_real_one(hostile_server, tmp_path: Path) -> None:
    """``zq-zw<U+200B>x`` and the typed ``zq-lit\\u200bx`` both read ``\\u200b``; only the
    console's own escape is drawn in another style (an SGR change right before it)."""
    server, stored = hostile_server
    assert {"zero-width", "typed-escape"} <= set(stored["experiments"]), stored
    term = _console(server.url, tmp_path / "home")
    try:
        term.wait_for(b"connected", 180)
        term.wait_for(b"zq-zw\\u200bx", 120)
        term.wait_for(b"zq-lit\\u200bx", 30)
        term.settle(1)
        term.check_alive()
    finally:
        term.close()
    raw = bytes(term.raw)
    assert "zq-zw\u200bx".encode() not in raw  # the real one is never drawn raw
    assert b"zq-lit\\u200bx" in raw  # the typed text: drawn in one run, unstyled
    # the escape: a style change sits right before it
    assert re.search(rb"zq-zw(?:\x1b\[[0-9;:]*m)+\\u200b", raw), "the escape is not set apart"

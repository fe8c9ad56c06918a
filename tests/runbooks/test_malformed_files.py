"""Issue 20, finding 7: one bad file in ``MLOPS_CONSOLE_RUNBOOKS`` is one line about that file
(``file: what is wrong``) and every other runbook still loads and runs — ``runbook list``,
``show`` and ``run`` through the real CLI process against a real MLflow server, and the TUI's
runbook chooser (``b``) driven with Pilot.

Malformed kinds: YAML nested 5,000 levels deep (the RecursionError of the issue) in the front
matter and in a step, invalid UTF-8, a binary file, a 50 MB file, an alias bomb (billion laughs),
a symlink loop, a FIFO and ``/dev/zero`` (neither may be waited on or read to the end), a
directory, and an unreadable file (skipped as root, who can read it).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import httpx
import pytest

from tests.safety.conftest import console_cli
from tests.tui.support import showing

GOOD = """\
---
name: good-one
title: A good user runbook
summary: lives beside broken files
when_to_use: in tests
parameters:
  model:
    type: string
    required: true
---

## Look at the model

Reads the registry only.

```step
id: look
kind: check
command: registry.find_problems
args:
  model: "{{ params.model }}"
on_failure: check the model name
```
"""

STEP_HEAD = """\
---
name: {name}
title: t
summary: s
when_to_use: w
---

## A step

```step
id: a
kind: check
command: registry.find_problems
"""


def _bomb(name: str) -> str:
    text = STEP_HEAD.format(name=name) + "args:\n  model: &a0 [l, l, l, l, l, l, l, l, l]\n"
    for level in range(1, 10):
        text += f"  a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]\n"
    return text + "on_failure: x\n```\n"


def _write(directory: Path, kind: str) -> tuple[str, str]:
    """Create the bad file ``kind``; (its runbook name, words its one line must hold)."""
    name = f"bad-{kind}"
    path = directory / f"{name}.md"
    if kind == "deep-front-matter":
        path.write_text(f"---\nname: {name}\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n")
        return name, ":3: the front matter is nested more than 32 levels deep"
    if kind == "deep-step":
        deep = "{a: " * 5000 + "1" + "}" * 5000
        path.write_text(STEP_HEAD.format(name=name) + f"args: {deep}\non_failure: x\n```\n")
        return name, "the step block is nested more than 32 levels deep"
    if kind == "not-utf8":
        path.write_bytes(b"---\nname: x\ntitle: caf\xe9\n---\n")
        return name, ":3: the file is not UTF-8 text"
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 64)
        return name, "is a binary file"
    if kind == "50MB":
        with open(path, "wb") as handle:
            handle.truncate(50 * 1024 * 1024)
        return name, "is 52,428,800 bytes; a runbook is at most 1,000,000"
    if kind == "alias-bomb":
        path.write_text(_bomb(name))
        return name, "stands for more than 20000 YAML values (through aliases)"
    if kind == "symlink-loop":
        path.symlink_to(directory / f"{name}-other.md")
        (directory / f"{name}-other.md").symlink_to(path)
        return name, "cannot be read: Too many levels of symbolic links"
    if kind == "fifo":
        os.mkfifo(path)
        return name, "is not a regular file"
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
        return name, "is not a regular file"
    if kind == "directory":
        path.mkdir()
        return name, "is a directory"
    if kind == "unreadable":
        path.write_text(GOOD)
        path.chmod(0)
        return name, "cannot be read: Permission denied"
    raise AssertionError(kind)


KINDS = [
    "deep-front-matter",
    "deep-step",
    "not-utf8",
    "binary",
    "50MB",
    "alias-bomb",
    "symlink-loop",
    "fifo",
    "dev-zero",
    "directory",
    pytest.param(
        "unreadable",
        marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode 000 file"),
    ),
]


@pytest.fixture(scope="module")
def model(mlflow_server) -> str:
    name = f"rb-good-{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{mlflow_server.url}/api/2.0/mlflow/registered-models/create", json={"name": name}
    ).raise_for_status()
    return name


def _cli(tmp_path: Path, directory: Path, server: str, *args: str):
    return console_cli(
        tmp_path / "home",
        "--tracking-uri",
        server,
        *args,
        env={"MLOPS_CONSOLE_RUNBOOKS": str(directory)},
        timeout=60,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_one_bad_file_is_one_line_and_the_others_load_and_run(tmp_path, mlflow_server, model, kind):
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "good-one.md").write_text(GOOD)
    name, words = _write(directory, kind)
    path = directory / f"{name}.md"

    listed = _cli(tmp_path, directory, mlflow_server.url, "runbook", "list")
    assert listed.returncode == 1, listed.stderr  # 1: something is invalid; not 70
    assert "internal error" not in listed.stderr and "Traceback" not in listed.stderr
    about = [line for line in listed.stderr.splitlines() if str(path) in line]
    assert len(about) == 1, listed.stderr
    assert about[0].startswith(f"invalid runbook: {path}") and words in about[0], about[0]
    shown = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "INVALID" in shown[name]
    assert "1 (0 actions)" in shown["good-one"]
    for shipped in ("model-retrain", "model-registry-promotion-stuck"):
        assert "INVALID" not in shown[shipped]

    as_json = _cli(tmp_path, directory, mlflow_server.url, "runbook", "list", "--json")
    entries = {e["name"]: e for e in json.loads(as_json.stdout)["runbooks"]}
    assert words in entries[name]["error"] and entries["good-one"]["error"] is None

    # the bad one itself: one usage line (exit 2); the good one shows and runs
    bad = _cli(tmp_path, directory, mlflow_server.url, "runbook", "show", name)
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.count("\n") == 1 and words in bad.stderr
    good = _cli(tmp_path, directory, mlflow_server.url, "runbook", "show", "good-one")
    assert good.returncode == 0 and "Look at the model" in good.stdout, good.stderr
    ran = _cli(
        tmp_path, directory, mlflow_server.url, "runbook", "run", "good-one",
        "--set", f"model={model}", "--yes",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "[ok] look" in ran.stdout and "completed: transcript" in ran.stdout


async def test_the_tui_chooser_lists_the_good_ones_and_names_each_bad_file_once(
    tmp_path, mlflow_server, monkeypatch
):
    """``b``: the chooser opens (no retry banner), the bad files are listed once each, disabled,
    with their one line; the good user runbook opens its form."""
    from textual.widgets import OptionList

    from console.settings import Settings
    from console.tui.app import build_app
    from tests.tui.support import plain, wait_for
    from widgets.runbook_chooser import RunbookChooser, RunbookForm

    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "good-one.md").write_text(GOOD)
    bad = dict(_write(directory, kind) for kind in ("deep-front-matter", "alias-bomb", "50MB"))
    monkeypatch.setenv("MLOPS_CONSOLE_RUNBOOKS", str(directory))
    app = build_app(Settings(home=tmp_path / "home", tracking_uri=mlflow_server.url))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("b")
        await wait_for(pilot, lambda: showing(app, RunbookChooser), 30)
        chooser = app.screen
        options = chooser.query_one(OptionList)
        by_id = {options.get_option_at_index(i).id: i for i in range(options.option_count)}
        assert {"good-one", "model-retrain", *bad} <= set(by_id)
        text = "\n".join(
            plain(options.get_option_at_index(i).prompt, width=300)
            for i in range(options.option_count)
        )
        for name, words in bad.items():
            option = options.get_option_at_index(by_id[name])
            assert option.disabled
            assert text.count(f"{directory}/{name}.md") == 1, text
            assert words.split(":")[-1].strip()[:30] in text
        assert not options.get_option_at_index(by_id["good-one"]).disabled
        options.highlighted = by_id["good-one"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, RunbookForm), 30)

"""Every CLI command on a registry seeded with hostile data: nothing acts, nothing is written.

A real MLflow server of this module's own holds one experiment, three runs and one registered
model whose every field the console shows or passes on carries a payload: names, run names,
tags, params, descriptions, version tags, and the commit and repoURL tags. The commit tags are
git option strings (``--output=…``, ``-c…``, ``--upload-pack=…``), and the third run points at a
real repository on this machine whose own config would run programs (``core.fsmonitor``,
``diff.external``, a textconv driver, a pager, hooks), with its real HEAD, so git does run on it.

Each command runs as the operator runs it (the installed entry point as a subprocess, text and
``--json``; a few on a pty): no raw control byte or escape reaches the output, no traceback, no
internal error (exit 70); afterwards no file exists in the canary folder the payloads aim at, and
every file under the home is free of raw controls.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hostile import raw_control_bytes
from tests.support.servers import MlflowServer, start_mlflow_server
from tests.support.terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]
# OSC 2/8/52 with BEL and ST, CSI, C1, bidi, zero-width, markup with and without a leading space,
# NUL/CR/NL; MLflow refuses '/' and ':' in model names only
TEXT = (
    "h\x1b]2;PWNED\x1b\\\x1b]52;c;U1RQV05FRA==\x07\x1b]8;;http://evil.example/\x07L\x1b]8;;\x07"
    "\x1b[2J\u009b31m\u009d0;T\u009c\u202eR\u202c\u200b[ @click=app.quit]Q[/] [bold]b"
    " [ link=http://evil.example]k\x00\r\nend"
)
NAME = "sweep \x1b]2;PWNED\x07\x1b]52;c;U1RQV05FRA==\x1b\\ [ @click=app.quit]Q\u202e end"
# what must never appear in any output or file, raw
FORBIDDEN = (b"\x1b]2;PWNED", b"\x1b]52;", b"\x1b]8;;http://evil", b"\x1b[2J", "\u202e".encode())
BIG = "B" * 100_000
REASON = TEXT.replace("\x00", "")  # argv cannot carry NUL


def _git(repo: Path, *args: str) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _armed_repo(root: Path, canary: Path) -> tuple[Path, str, str]:
    """A real repository whose own config runs a program that writes into ``canary``."""
    repo = root / "foreign-repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "data.bin").write_text("one\n")
    (repo / ".gitattributes").write_text("*.bin diff=evil\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "data.bin").write_text("two\n")
    _git(repo, "commit", "-q", "-am", "second \x1b]2;PWNED\x07")
    second = _git(repo, "rev-parse", "HEAD")
    script = root / "armed.sh"
    script.write_text(f'#!/bin/sh\ntouch {canary}/ran-$$\ncat "$@" 2>/dev/null\n')
    script.chmod(0o755)
    for key in ("core.fsmonitor", "diff.external", "diff.evil.textconv", "core.pager"):
        _git(repo, "config", key, str(script))
    _git(repo, "config", "core.hooksPath", str(root))
    for hook in ("post-checkout", "reference-transaction", "post-index-change"):
        (root / hook).write_text(f"#!/bin/sh\ntouch {canary}/hook-{hook}\n")
        (root / hook).chmod(0o755)
    return repo, first, second


@contextlib.contextmanager
def hostile_registry(root: Path) -> Iterator[tuple[MlflowServer, dict, Path]]:
    """A server of its own seeded with the hostile registry; the canary folder the payloads aim
    at. (Also the terminal-safety walk of every screen.)"""
    canary = root / "canary"
    canary.mkdir()
    repo, first, second = _armed_repo(root, canary)
    server = start_mlflow_server(root / "server", timeout=240)
    try:
        yield server, _seed(server, repo, first, second, canary), canary
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("sweep")
    with hostile_registry(root) as (server, seeded, canary):
        yield server, seeded, canary, root


def _seed(server: MlflowServer, repo: Path, first: str, second: str, canary: Path) -> dict:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server.url)
    experiment = client.create_experiment(NAME)
    client.set_experiment_tag(experiment, "note", TEXT)
    commits = [
        f"--output={canary}/clobbered",  # git log writes its output there
        f"-c core.pager=touch {canary}/c --upload-pack=touch {canary}/u",
        second,  # a real revision: git runs, on a repository whose config is armed
    ]
    client.create_registered_model(NAME, tags={"note": TEXT}, description=TEXT)
    runs = []
    for i, commit in enumerate(commits):
        run = client.create_run(
            experiment,
            run_name=f"{TEXT}-{i}",
            tags={
                "mlflow.source.git.commit": commit,
                "mlflow.source.git.repoURL": f"file://{repo}",
                "mlflow.note.content": TEXT,
                "note": TEXT,
                "big": BIG,
            },
        )
        run_id = run.info.run_id
        client.log_param(run_id, "seed", TEXT[:200])
        client.log_param(run_id, "data.iceberg.table", f"--output={canary}/iceberg")
        client.log_metric(run_id, "f1", 0.5)
        client.set_terminated(run_id)
        version = client.create_model_version(
            NAME,
            source=f"{run.info.artifact_uri}/model",
            run_id=run_id,
            description=TEXT,
            tags={"note": TEXT},
        )
        runs.append((run_id, version.version))
    client.set_registered_model_alias(NAME, "champion", "1")
    return {"experiment": experiment, "runs": runs, "first": first}


def _cli(server: MlflowServer, home: Path, *args: str, timeout: float = 240):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "console", "--home", str(home), "--tracking-uri", server.url, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _commands(seeded: dict) -> list[tuple[str, ...]]:
    exp = seeded["experiment"]
    out: list[tuple[str, ...]] = [
        ("experiments",),
        ("runs", exp),
        ("models",),
        ("versions", NAME),
        ("provenance", NAME, "1", "--no-lineage"),
        ("provenance", NAME, "2", "--no-lineage"),
        ("provenance", NAME, "3", "--no-lineage"),
        ("diagnose", NAME, "1", "3", "--no-probe", "--no-lineage"),
        ("diagnose", NAME, "2", "3", "--no-probe", "--no-lineage"),
        ("history", NAME),
        ("audit",),
        ("deployments",),
        ("lineage", "--run", seeded["runs"][0][0], "--skip-mlflow"),
    ]
    json_able = [(*c, "--json") for c in out if c[0] not in ("lineage",)]
    mutations: list[tuple[str, ...]] = [
        # refused in read-only mode, after reading what the plan shows
        ("--read-only", "promote", NAME, "3", "--alias", "champion", "--reason", REASON, "--yes"),
        ("--read-only", "undo", NAME, "--yes"),
        # the gates read the provenance (the git tags included) and refuse: no confirmation
        ("promote", NAME, "2", "--alias", "champion", "--expect", "1", "--reason", REASON, "--yes"),
    ]
    return out + json_able + mutations


def _check_output(args: tuple[str, ...], done: subprocess.CompletedProcess[bytes]) -> None:
    both = done.stdout + done.stderr
    label = " ".join(a[:30] for a in args)
    assert done.returncode != 70, f"{label}: internal error\n{done.stderr.decode()[-2000:]}"
    assert b"Traceback" not in both, f"{label}: traceback\n{done.stderr.decode()[-3000:]}"
    assert raw_control_bytes(both) == [], f"{label}: raw controls {raw_control_bytes(both)[:5]}"
    leaked = [seq for seq in FORBIDDEN if seq in both]
    assert not leaked, f"{label}: {leaked}"
    if "--json" in args and done.returncode == 0:
        assert done.stdout.isascii(), label
        json.loads(done.stdout)


def test_every_command_keeps_hostile_data_inert(hostile, tmp_path: Path) -> None:
    server, seeded, canary, root = hostile
    home = tmp_path / "home"
    before = set(root.rglob("*"))
    outcomes = {}
    failures = []
    for args in _commands(seeded):
        done = _cli(server, home, *args)
        try:
            _check_output(args, done)
        except AssertionError as exc:
            failures.append(str(exc)[:1500])
        outcomes[args] = done.returncode
    assert not failures, "\n\n".join(failures)
    # the git option strings reached no git, the armed repository ran nothing
    assert sorted(p.name for p in canary.iterdir()) == []
    assert set(root.rglob("*")) - before <= {p for p in root.rglob("*") if "server" in p.parts}
    # files under the home replay nothing (sqlite databases are binary: read through the console)
    for path in home.rglob("*"):
        if path.is_file() and path.suffix not in (".db", ".db-wal", ".db-shm"):
            data = path.read_bytes()
            assert raw_control_bytes(data) == [], path
            assert not [seq for seq in FORBIDDEN if seq in data], path
    # the read commands worked (they are not trivially inert by failing)
    assert outcomes[("versions", NAME)] == 0
    assert outcomes[("provenance", NAME, "3", "--no-lineage")] in (0, 1)
    # the registry did not move: the refused promotions changed nothing
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server.url)
    assert client.get_model_version_by_alias(NAME, "champion").version == "1"


def test_a_commit_option_string_is_named_not_run(hostile, tmp_path: Path) -> None:
    server, _seeded, canary, _root = hostile
    done = _cli(server, tmp_path / "home", "provenance", NAME, "1", "--no-lineage")
    text = (done.stdout + done.stderr).decode()
    assert "--output=" in text  # the operator sees the value (escaped) ...
    assert "not a git revision" in text or "not a commit" in text, text[-1500:]
    assert not (canary / "clobbered").exists()  # ... and git never saw it


@pytest.mark.parametrize(
    "args",
    [("versions", NAME), ("provenance", NAME, "3", "--no-lineage"), ("history", NAME)],
    ids=["versions", "provenance", "history"],
)
def test_on_a_terminal_nothing_acts(hostile, tmp_path: Path, args: tuple[str, ...]) -> None:
    """On a pty (colours on, the terminal's width) the bytes written are as inert."""
    server, _seeded, canary, _root = hostile
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm-256color"
    argv = [
        sys.executable,
        "-m",
        "console",
        "--home",
        str(tmp_path / "home"),
        "--tracking-uri",
        server.url,
        *args,
    ]
    term = Terminal(argv, env, cols=80, rows=24)
    try:
        term.proc.wait(timeout=180)
        term.read(1)
    finally:
        term.close()
    raw = bytes(term.raw)
    assert raw, "the command wrote nothing"
    leaked = [seq for seq in FORBIDDEN if seq in raw]
    assert not leaked, leaked
    assert b"\x1b]" not in raw  # no OSC at all: nothing here draws a link or a title
    assert "\u009b".encode() not in raw and "\u009d".encode() not in raw
    assert b"Traceback" not in raw
    assert list(canary.iterdir()) == []

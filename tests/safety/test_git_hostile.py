"""Issue 20 finding 1: what a server says about code stays data for git.

A run's ``mlflow.source.git.commit`` tag that is an option (``--output=<path>``, ``-c…``,
``--upload-pack=…``, ``--exec=…``) is a provenance gap and never reaches git: through the real
CLI (``provenance``, ``diagnose``, ``reproduce``, a promotion refused by its provenance gate, and
``--read-only``) against a real MLflow server and a real repository, no file is created or
changed outside the console home, the audit log is only appended to, and the output names the
value (escaped). And a repository whose own config and attributes would run programs
(``core.fsmonitor``, ``diff.external``, a textconv and a filter driver, ``core.pager``, hooks,
``log.showSignature`` with ``gpg.program``) runs none of them through ``console.gitinfo`` — first
shown to fire with plain git, so the test cannot pass vacuously — while the facts stay right.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console import gitinfo
from tests.provenance.world import GIT_ENV
from tests.safety.conftest import ROOT, console_cli
from tests.support.servers import git_available

pytestmark = pytest.mark.skipif(not git_available(), reason="git is not installed")

COMMIT = "mlflow.source.git.commit"
REPO = "mlflow.source.git.repoURL"
# the gates of the `gitcheck` alias: the provenance gate alone, so a refusal is quick
GATES = '[gates.alias.gitcheck]\nrequire = ["provenance"]\nprovenance_areas = ["code"]\n'
MARKERS = ("fsmonitor", "external", "textconv", "pager", "smudge", "clean", "gpg", "hook")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": "/dev/null"}
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return done.stdout.strip()


def make_repo(path: Path) -> list[str]:
    """Two commits of train.py; the second also adds a .gitattributes naming drivers."""
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text("def train():\n    return 1\n")
    _git(path, "add", "train.py")
    _git(path, "commit", "-q", "-m", "first step")
    (path / "train.py").write_text("def train():\n    return 2\n# two\n")
    (path / ".gitattributes").write_text("* diff=evil filter=evil\n")
    _git(path, "add", "train.py", ".gitattributes")
    _git(path, "commit", "-q", "-m", "second step")
    return [_git(path, "rev-parse", "HEAD~1"), _git(path, "rev-parse", "HEAD")]


def make_hostile(repo: Path, marks: Path) -> None:
    """Point every program-running setting of ``repo`` at a script that leaves a marker file."""
    marks.mkdir(parents=True, exist_ok=True)
    scripts = repo.parent / f"{repo.name}-scripts"
    scripts.mkdir()
    for name in MARKERS:
        script = scripts / f"{name}.sh"
        script.write_text(f"#!/bin/sh\ntouch '{marks / name}'\ncat\n")
        script.chmod(0o755)
    settings = {
        "core.fsmonitor": scripts / "fsmonitor.sh",
        "diff.external": scripts / "external.sh",
        "diff.evil.textconv": scripts / "textconv.sh",
        "diff.evil.command": scripts / "external.sh",
        "filter.evil.smudge": scripts / "smudge.sh",
        "filter.evil.clean": scripts / "clean.sh",
        "filter.evil.required": "true",
        "core.pager": scripts / "pager.sh",
        "pager.log": scripts / "pager.sh",
        "log.showSignature": "true",
        "gpg.program": scripts / "gpg.sh",
        "i18n.logOutputEncoding": "UTF-16",
        "core.hooksPath": scripts / "hooks",
    }
    for key, value in settings.items():
        _git(repo, "config", key, str(value))
    for hooks in (repo / ".git" / "hooks", scripts / "hooks"):
        hooks.mkdir(exist_ok=True)
        for hook in ("post-checkout", "reference-transaction", "post-index-change"):
            (hooks / hook).write_text(f"#!/bin/sh\ntouch '{marks / 'hook'}'\n")
            (hooks / hook).chmod(0o755)


def _outside_home(base: Path) -> dict[str, str]:
    return {k: v for k, v in _tree(base).items() if not k.startswith("audit-home/")}


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path → sha256), symlinks as their target."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = f"-> {os.readlink(path)}"
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --- the revision validator ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["abcd", "ABCDEF12", "0" * 40, "a" * 64, "c0ffee" * 5],
)
def test_revision_accepts_commit_ids(value):
    assert gitinfo.is_revision(value)
    assert gitinfo.revision(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "abc",  # too short
        "a" * 65,  # too long
        "HEAD",
        "main",
        "--output=/tmp/x",
        "-cfoo=bar",
        "--upload-pack=touch /tmp/x",
        "--exec=touch /tmp/x",
        "-p",
        "abcd --",
        " abcd",
        "abcd\n",
        "abcd\x00",
        "abcd..ef01",
        "abcd^{commit}",
        "abcd:MLproject",
        "１２３４",  # full-width digits are not hex
        "abcd\x1b]2;PWN\x07",
        12345678,
    ],
)
def test_revision_refuses_everything_else(value):
    assert not gitinfo.is_revision(value)
    with pytest.raises(gitinfo.GitError) as caught:
        gitinfo.revision(value)
    message = caught.value.message
    assert message.startswith("commit tag is not a git revision: ")
    assert "\x1b" not in message and "\x00" not in message and "\n" not in message


def test_helper_refuses_an_unchecked_revision(tmp_path):
    repo = tmp_path / "repo"
    make_repo(repo)
    with gitinfo.sandbox(repo) as box:
        for bad in ("--output=" + str(tmp_path / "x"), "HEAD", "-c", "abcd^{tree}"):
            with pytest.raises(gitinfo.GitError, match="not a git revision"):
                box.argv("log", revisions=[bad])
        argv = box.argv("log", "-1", revisions=["abcd"], paths=())
    assert argv[argv.index("--end-of-options") + 1 :] == ["abcd", "--"]
    assert argv[:2] == ["git", "--no-pager"] and "--no-textconv" in argv
    assert not (tmp_path / "x").exists()


def test_find_clone_of_hostile_urls_is_none(tmp_path):
    for url in ("file:///a%00b", "file:///" + "x" * 5000, "-C", "--output=/tmp/x", "ssh://h/r"):
        assert gitinfo.find_clone(url) is None


# --- a repository whose config would run programs ----------------------------------------------


@pytest.fixture
def hostile(tmp_path) -> tuple[Path, list[str], Path]:
    repo = tmp_path / "hostile"
    commits = make_repo(repo)
    marks = tmp_path / "marks"
    make_hostile(repo, marks)
    return repo, commits, marks


def test_hostile_config_fires_with_plain_git(hostile, tmp_path):
    """The repository is really hostile: plain git runs its programs (so the next test means it)."""
    repo, (c1, c2), marks = hostile
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}

    def plain(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, check=False)

    plain("status")
    plain("diff", c1, c2, "--")
    plain("diff", "--no-ext-diff", c1, c2, "--")
    plain("worktree", "add", "--detach", str(tmp_path / "plain-wt"), c2)
    fired = {p.name for p in marks.iterdir()}
    assert {"fsmonitor", "external", "textconv", "smudge", "hook"} <= fired, fired


def test_git_helper_runs_nothing_from_the_repository(hostile, tmp_path):
    repo, (c1, c2), marks = hostile
    before = _tree(repo)

    facts = asyncio.run(gitinfo.commit(repo, c2))
    assert facts.sha == c2 and facts.subject == "second step" and facts.parents == [c1]
    assert facts.author == "Test Trainer" and facts.email == "trainer@test.invalid"
    short = asyncio.run(gitinfo.commit(repo, c2[:7]))
    assert short.sha == c2

    for a, b in ((c1, c2), (c2, c1)):
        span = asyncio.run(gitinfo.between(repo, a, b))
        assert (span.older, span.newer, span.related) == (c1, c2, True)
        assert [c.sha for c in span.commits] == [c2]
        stats = {f.path: (f.insertions, f.deletions) for f in span.files}
        assert stats == {".gitattributes": (1, 0), "train.py": (2, 1)}, stats

    assert asyncio.run(gitinfo.git_ok(repo, "cat-file", "-e", revisions=[f"{c2}:train.py"]))
    assert not asyncio.run(gitinfo.git_ok(repo, "cat-file", "-e", revisions=["0" * 40]))
    with pytest.raises(gitinfo.GitError, match="is not a git revision"):
        asyncio.run(gitinfo.commit(repo, f"--output={tmp_path / 'clobbered'}"))

    from commands.reproduce_train import worktree

    with worktree(str(repo), c1) as code:
        assert (code / "train.py").read_text() == "def train():\n    return 1\n"
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=code, capture_output=True, text=True, check=True
        )
        assert head.stdout.strip() == c1
    with worktree(str(repo), c2) as code:  # the smudge filter named in .gitattributes: not run
        assert (code / "train.py").read_text() == "def train():\n    return 2\n# two\n"
    assert not code.exists()

    assert sorted(p.name for p in marks.iterdir()) == []
    assert _tree(repo) == before  # nothing written into the clone (no worktree entry, no lock)
    assert not (tmp_path / "clobbered").exists()


def test_clone_layouts(tmp_path):
    """Bare, linked work tree, shallow and SHA-256 clones are read through the sandbox too."""
    repo = tmp_path / "repo"
    c1, c2 = make_repo(repo)
    bare = tmp_path / "bare.git"
    _git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    linked = tmp_path / "linked"
    _git(repo, "worktree", "add", "-q", "--detach", str(linked), c1)
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", repo.as_uri(), str(shallow))
    for clone in (bare, linked, shallow):
        assert gitinfo.find_clone(clone.as_uri()) == clone
        assert asyncio.run(gitinfo.commit(clone, c2)).subject == "second step"
    assert asyncio.run(gitinfo.commit(shallow, c2)).parents == []  # the boundary commit

    sha256 = tmp_path / "sha256"
    sha256.mkdir()
    _git(sha256, "init", "-q", "--object-format=sha256", "-b", "main")
    (sha256 / "f").write_text("x\n")
    _git(sha256, "add", "f")
    _git(sha256, "commit", "-q", "-m", "long ids")
    head = _git(sha256, "rev-parse", "HEAD")
    assert len(head) == 64 and gitinfo.is_revision(head)
    assert asyncio.run(gitinfo.commit(sha256, head)).subject == "long ids"


def test_a_failing_git_leaves_no_process_to_the_loops_shutdown(tmp_path):
    """A range with a commit the clone lacks: one GitError, and no git left running.

    ``between`` runs ``log`` and ``diff`` together; when one failed, the other was left to the
    event loop's shutdown, which printed "Event loop is closed" with a traceback on stderr
    (seen in the CLI sweep, one run in a few)."""
    repo = tmp_path / "repo"
    c1, _c2 = make_repo(repo)
    missing = "0123456789abcdef0123456789abcdef01234567"
    # a git whose log is slow (fault injection in front of the real git): the diff fails first
    slow = tmp_path / "slow-bin"
    slow.mkdir()
    real_git = shutil.which("git")
    (slow / "git").write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = log ] && sleep 1; done\nexec {real_git} "$@"\n'
    )
    (slow / "git").chmod(0o755)
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from console import gitinfo\n"
        "for _ in range(3):\n"
        "    try:\n"
        f"        asyncio.run(gitinfo.between(Path({str(repo)!r}), {c1!r}, {missing!r}))\n"
        "    except gitinfo.GitError:\n"
        "        pass\n"
        "    else:\n"
        "        sys.exit('no error for a missing commit')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{slow}:{os.environ['PATH']}"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_fifos_in_the_clone_do_not_hang(tmp_path):
    """A config, shallow or commondir that is a FIFO is never opened for reading."""
    repo = tmp_path / "repo"
    _, c2 = make_repo(repo)
    (repo / ".git" / "config").unlink()
    for name in ("config", "shallow", "commondir"):
        os.mkfifo(repo / ".git" / name)
    code = (
        "import asyncio, sys; from pathlib import Path; from console import gitinfo; "
        "print(asyncio.run(gitinfo.commit(Path(sys.argv[1]), sys.argv[2])).subject)"
    )
    done = subprocess.run(  # in its own process: a hang is a timeout, not a stuck suite
        [sys.executable, "-c", code, str(repo), c2],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "second step", done.stderr


# --- the real CLI against a real server ----------------------------------------------------------


@pytest.fixture(scope="module")
def git_world(mlflow_server, tmp_path_factory):
    """A clean and a hostile repository, and models whose version 2 carries a payload commit."""
    from tests.promote.conftest import Seeder

    seeder = Seeder(mlflow_server.url)
    base = tmp_path_factory.mktemp("git-hostile")
    repo = base / "repo"
    clean = make_repo(repo)
    evil = base / "evil"
    hostile_commits = make_hostile_world(evil, base / "marks")
    targets = base / "targets"
    targets.mkdir()
    copy = targets / "audit-copy.jsonl"
    copy.write_text("".join(json.dumps({"n": i, "pad": "x" * 200}) + "\n" for i in range(100)))
    payloads = {
        "output": f"--output={targets / 'clobbered'}",
        "output-audit": f"--output={base / 'audit-home' / 'audit' / 'audit.jsonl'}",
        "output-audit-copy": f"--output={copy}",
        "c-option": f"-ccore.pager=touch {targets / 'c-option'}",
        "upload-pack": f"--upload-pack=touch {targets / 'upload-pack'}",
        "exec": f"--exec=touch {targets / 'exec'}",
        "escape": f"\x1b]2;PWNED\x07--output={targets / 'escape'}",
    }
    models = {}
    for key, payload in payloads.items():
        models[key] = _model(seeder, f"githostile-{key}", repo, [clean[0], payload])
    models["hostile-repo"] = _model(seeder, "githostile-repo", evil, hostile_commits)
    return {
        "base": base,
        "targets": targets,
        "copy": copy,
        "repo": repo,
        "evil": evil,
        "marks": base / "marks",
        "payloads": payloads,
        "models": models,
        "commits": hostile_commits,
    }


def make_hostile_world(repo: Path, marks: Path) -> list[str]:
    commits = make_repo(repo)
    make_hostile(repo, marks)
    return commits


def _model(seeder, prefix: str, repo: Path, commits: list[str]) -> str:
    import uuid

    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    seeder.post("registered-models/create", {"name": name})
    for commit in commits:
        run = seeder.run({"accuracy": 0.5}, tags={COMMIT: commit, REPO: repo.as_uri()})
        seeder.post(
            "model-versions/create",
            {"name": name, "source": f"runs:/{run}/model", "run_id": run},
        )
    return name


def _cli_env(tmp_path: Path) -> dict[str, str]:
    xdg = tmp_path / "xdg-config"
    (xdg / "mlops-console").mkdir(parents=True, exist_ok=True)
    (xdg / "mlops-console" / "config.toml").write_text(GATES)
    return {"XDG_CONFIG_HOME": str(xdg), "NO_COLOR": "1"}


def _clean_output(done, *, allowed: tuple[int, ...]) -> str:
    out = done.stdout + done.stderr
    assert done.returncode in allowed, (done.returncode, out[-2000:])
    assert done.returncode != 70 and "internal error" not in out and "Traceback" not in out, out
    assert "\x1b" not in out and "\x07" not in out, out
    return " ".join(out.split())  # the text wraps at 80 columns


@pytest.mark.parametrize(
    "key",
    ["output", "output-audit", "output-audit-copy", "c-option", "upload-pack", "exec", "escape"],
)
def test_commit_tag_options_never_reach_git(git_world, mlflow_server, tmp_path, key):
    name = git_world["models"][key]
    payload = git_world["payloads"][key]
    # the payload aimed at the console's own audit log runs with that home
    home = git_world["base"] / "audit-home" if key == "output-audit" else tmp_path / "home"
    env = _cli_env(tmp_path)
    common = ["--tracking-uri", mlflow_server.url]
    before = _outside_home(git_world["base"])
    # a refused promotion first, so the audit log exists; then a payload aimed at it
    refused = console_cli(home, *common, "promote", name, "2", "--alias", "gitcheck", env=env)
    out = _clean_output(refused, allowed=(4,))
    assert "provenance" in out and "commit tag is not a git revision" in out
    audit = home / "audit" / "audit.jsonl"
    logged = audit.read_bytes()
    assert logged

    runs = [
        ["provenance", name, "2"],
        ["diagnose", name, "1", "2", "--no-probe", "--no-lineage"],
        ["reproduce", name, "2"],
    ]
    full = key in ("output-audit", "escape")
    if full:  # every other way in, for two of the payloads
        runs += [
            ["provenance", name, "2", "--json"],
            ["--read-only", "provenance", name, "2"],
            ["--read-only", "promote", name, "2", "--alias", "gitcheck", "--yes"],
            ["promote", name, "2", "--alias", "gitcheck", "--yes"],
        ]
    for args in runs:
        done = console_cli(home, *common, *args, env=env)
        out = _clean_output(done, allowed=(0, 1, 2, 3, 4))
        if "--json" in args:
            doc = json.loads(done.stdout)
            assert doc["code"]["commit"] == payload  # the data, as the server sent it
            assert any("is not a git revision" in g["message"] for g in doc["gaps"])
        elif "--read-only" not in args or "provenance" in args:
            assert "commit tag is not a git revision: " in out, (args, out[-2000:])
        if key == "escape" and "--json" not in args and "promote" not in args:
            assert "\\x1b]2;PWNED\\x07--output=" in out, out  # shown escaped

    assert _outside_home(git_world["base"]) == before  # nothing created or changed: repo, targets
    assert not list(git_world["targets"].glob("clobbered*"))
    now = audit.read_bytes()
    assert now.startswith(logged)  # only appended to
    assert len(now) > len(logged) or not full  # (the refused promotion with --yes appends)
    for line in now.decode().splitlines():
        json.loads(line)
    outside = {p.name for p in home.rglob("*")}
    assert not outside & {"clobbered", "c-option", "upload-pack", "exec", "escape"}


def test_cli_against_a_hostile_repository(git_world, mlflow_server, tmp_path):
    """A valid commit in a repository whose config would run programs: the facts, nothing run."""
    name = git_world["models"]["hostile-repo"]
    _, c2 = git_world["commits"]
    home = tmp_path / "home"
    env = _cli_env(tmp_path)
    common = ["--tracking-uri", mlflow_server.url]
    before = _tree(git_world["evil"])

    shown = console_cli(home, *common, "provenance", name, "2", "--json", env=env)
    _clean_output(shown, allowed=(0, 1))
    code = json.loads(shown.stdout)["code"]
    assert code["details"]["sha"] == c2 and code["details"]["subject"] == "second step"
    diag = console_cli(
        home, *common, "diagnose", name, "1", "2", "--no-probe", "--no-lineage", env=env
    )
    out = _clean_output(diag, allowed=(0, 1))
    assert "Between the commits: 1 commit(s), 2 file(s), +3 −1" in out, out
    assert f"{c2[:12]} " in out and "second step" in out and "train.py" in out

    marks = git_world["marks"]
    assert not marks.exists() or not list(marks.iterdir())
    assert _tree(git_world["evil"]) == before

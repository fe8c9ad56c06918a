"""The demo's training-code git repository: the real feature builder and trainer, two commits.

Commits are made with a fixed author, committer and date so their hashes are the same on every
machine for the same code. Runs record ``repo_url`` (a ``file://`` URL of the repository's path).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BRANCH = "main"
_HERE = Path(__file__).resolve().parent
_IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo Trainer",
    "GIT_AUTHOR_EMAIL": "trainer@demo.invalid",
    "GIT_COMMITTER_NAME": "Demo Trainer",
    "GIT_COMMITTER_EMAIL": "trainer@demo.invalid",
}
_README = """# next-week-commits training code

Feature builder and trainer of the `next-week-commits` classifier, trained on the Iceberg table
`lake.git.commits` by `mlops-console demo`.
"""

# (message, ISO date, {path in repo: source file in this package})
_COMMITS = (
    ("Add weekly feature builder", "2024-03-04T09:00:00+00:00", {"features.py": "features.py"}),
    (
        "Add random-forest trainer and holdout metrics",
        "2024-03-11T09:00:00+00:00",
        {"trainer.py": "trainer.py", "README.md": None},
    ),
)


@dataclass(frozen=True)
class CodeRepo:
    """Where the training code lives and what the runs record about it."""

    path: Path
    commit: str
    branch: str
    commits: tuple[str, ...]

    @property
    def repo_url(self) -> str:
        return self.path.resolve().as_uri()


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    from console.child_env import child_env

    # allow-listed (GIT_DIR and friends from the caller's shell never reach it)
    full_env = child_env({**_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})})
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def create_code_repo(path: Path) -> CodeRepo:
    """(Re)create the repository at ``path`` with the two commits of training code."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", BRANCH)
    hashes = []
    for message, when, files in _COMMITS:
        for target, source in files.items():
            text = _README if source is None else (_HERE / source).read_text()
            (path / target).write_text(text)
        _git(path, "add", *files)
        env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        _git(path, "commit", "-q", "-m", message, env=env)
        hashes.append(_git(path, "rev-parse", "HEAD"))
    return CodeRepo(path=path, commit=hashes[-1], branch=BRANCH, commits=tuple(hashes))


def commit_exists(path: Path, commit: str) -> bool:
    """True when ``commit`` names a commit object in the repository at ``path``."""
    try:
        return _git(path, "cat-file", "-t", commit) == "commit"
    except subprocess.CalledProcessError:
        return False

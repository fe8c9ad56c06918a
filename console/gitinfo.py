"""Commit facts from a local git clone: one commit, and the log and diffstat between two.

The clone is found through ``settings.git_repos`` (repoURL → path) or, for a ``file://`` URL or
an absolute path, the repository itself. ``git`` runs as a subprocess with a timeout, read-only
(no fetch), with a clean environment so the operator's config cannot change its output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from console.errors import ConsoleError
from console.provenance.model import CommitFacts, CommitRange, FileStat

GIT_TIMEOUT_S = 10.0
LOG_LIMIT = 50
_SEP = "\x1e"  # record separator between commits in `git log` output
_FIELDS = "%H%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%s%x1f%b"


class GitError(ConsoleError):
    """A git command failed or the clone is unusable."""


def _normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def find_clone(repo_url: str | None, git_repos: Mapping[str, Path] | None = None) -> Path | None:
    """The local clone for ``repo_url``: configured mapping first, then a local URL or path."""
    if not repo_url:
        return None
    for url, path in (git_repos or {}).items():
        if _normalise(url) == _normalise(repo_url):
            return Path(path).expanduser()
    local: Path | None = None
    if repo_url.startswith("file:"):
        local = Path(unquote(urlparse(repo_url).path))
    elif repo_url.startswith("/"):
        local = Path(repo_url)
    # a work tree has .git; a bare clone has HEAD at its top
    if local is not None and ((local / ".git").exists() or (local / "HEAD").exists()):
        return local
    return None


async def _git(repo: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(repo),
            "-c",
            "core.quotepath=off",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except FileNotFoundError:
        raise GitError("git is not installed", hint="install git to see commit details") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise GitError(f"git {args[0]} in {repo} took longer than {GIT_TIMEOUT_S:g} s") from None
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    if proc.returncode != 0:
        first = err.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} in {repo} failed: {first[0] if first else proc.returncode}")
    return out.decode("utf-8", "replace")


def _commits(text: str) -> list[CommitFacts]:
    out = []
    for record in text.split(_SEP):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split("\x1f")
        if len(parts) < 7:
            continue
        sha, author, email, date, parents, subject, body = parts[:7]
        out.append(
            CommitFacts(
                sha=sha,
                author=author or None,
                email=email or None,
                date=date or None,
                subject=subject or None,
                body=body.strip() or None,
                parents=parents.split(),
            )
        )
    return out


async def commit(repo: Path, sha: str) -> CommitFacts:
    """One commit's author, date and message."""
    text = await _git(repo, "log", "-1", f"--format={_FIELDS}{_SEP}", sha, "--")
    found = _commits(text)
    if not found:
        raise GitError(f"commit {sha} is not in {repo}", hint="fetch the clone")
    return found[0]


async def _is_ancestor(repo: Path, a: str, b: str) -> bool:
    try:
        await _git(repo, "merge-base", "--is-ancestor", a, b)
    except GitError:
        return False
    return True


async def between(repo: Path, a: str, b: str) -> CommitRange:
    """The commits from the older to the newer of ``a`` and ``b``, and the diffstat a..b."""
    older, newer = a, b
    related = await _is_ancestor(repo, a, b)
    if not related and await _is_ancestor(repo, b, a):
        older, newer, related = b, a, True
    log_range = f"{older}..{newer}" if related else f"{older}...{newer}"
    log_text, stat_text = await asyncio.gather(
        _git(repo, "log", f"--max-count={LOG_LIMIT}", f"--format={_FIELDS}{_SEP}", log_range, "--"),
        _git(repo, "diff", "--numstat", older, newer, "--"),
    )
    files = []
    for line in stat_text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        added, removed, path = parts
        files.append(
            FileStat(
                path=path,
                insertions=int(added) if added.isdigit() else None,
                deletions=int(removed) if removed.isdigit() else None,
            )
        )
    return CommitRange(
        older=older, newer=newer, related=related, commits=_commits(log_text), files=files
    )

"""Commit facts from a local git clone, and the one way the console runs git on a clone.

The clone is found through ``settings.git_repos`` (repoURL → path) or, for a ``file://`` URL or
an absolute path, the repository itself. Both the commit tag and the repoURL come from the
tracking server, and the clone is a directory on the operator's machine whose configuration,
attributes and hooks are not ours; so every git call goes through ``Sandbox``:

- a revision is a commit id, 4–64 hex digits (``revision``); anything else is refused before git
  runs, and revisions always follow ``--end-of-options``, so no value can become an option;
- git runs in a throwaway git directory whose only link to the clone is an
  ``objects/info/alternates`` line naming the clone's object store (its ``shallow`` file is
  copied, its object format kept; only regular files are read, never a FIFO). The clone's
  config, hooks, attributes, ``info/``, refs and replace refs are never read, so nothing in it
  (``core.fsmonitor``, ``diff.external``, textconv and filter drivers, hooks, ``core.pager``,
  ``log.showSignature``) can execute or change the output, and nothing is written into it.
  Because the clone is read as data and never opened as a repository, git's ``safe.directory``
  ownership check does not apply: a clone owned by another user is read like one of ours;
- belt and braces: ``-c`` settings switch the same mechanisms off, ``log`` and ``diff`` run with
  ``--no-textconv --no-ext-diff``, no pager; the environment is built from nothing (no ``GIT_*``
  inherited): no system or global config, an empty temporary ``HOME``, no prompts, no optional
  locks, no transport (``protocol.allow=never``), so a repoURL is never fetched;
- a timeout, and a ``GitError`` (a one-line message, server text through ``printable``) for every
  failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from console.errors import ConsoleError
from console.provenance.model import CommitFacts, CommitRange, FileStat
from console.safe_text import printable

GIT_TIMEOUT_S = 10.0
LOG_LIMIT = 50
_SEP = "\x1e"  # record separator between commits in `git log` output
_FIELDS = "%H%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%s%x1f%b"

# a commit id as a run's tag may carry it: full (SHA-1 40, SHA-256 64) or abbreviated (≥ 4)
_REVISION = re.compile(r"[0-9a-fA-F]{4,64}")
# what the helper accepts after --end-of-options: a commit id, a range of two, or a commit id
# with ^{commit} or :<path> (a path of our own, such as MLproject)
_HEX = r"[0-9a-fA-F]{4,64}"
_REVISION_EXPR = re.compile(rf"{_HEX}(?:\.\.\.?{_HEX})?(?:\^\{{commit\}}|:[A-Za-z0-9._/-]+)?")

# every mechanism through which a repository could run a program or change the output,
# switched off on the command line (highest precedence; the sandbox holds none of them anyway)
SAFE_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.askPass=",
    "core.sshCommand=false",
    "core.alternateRefsCommand=",
    "core.useReplaceRefs=false",
    "core.quotepath=off",
    "credential.helper=",
    "diff.external=",
    "log.showSignature=false",
    "i18n.logOutputEncoding=UTF-8",
    "protocol.allow=never",
    "submodule.recurse=false",
    "gc.auto=0",
    "maintenance.auto=false",
)
# per subcommand: flags that keep drivers from running even if one were configured
_SUBCOMMAND_FLAGS: Mapping[str, tuple[str, ...]] = {
    "log": ("--no-textconv", "--no-ext-diff", "--no-show-signature"),
    "diff": ("--no-textconv", "--no-ext-diff"),
}


class GitError(ConsoleError):
    """A git command failed, the clone is unusable, or a value is not a git revision."""


def is_revision(value: object) -> bool:
    """True for a commit id: 4–64 hex digits, nothing else (no ref names, no options)."""
    return isinstance(value, str) and _REVISION.fullmatch(value) is not None


def not_a_revision(value: object, what: str = "commit tag") -> str:
    """The one-line refusal of ``value`` as a revision, the value shown through ``printable``."""
    return f"{what} is not a git revision: {printable(value, limit=80)}"


def revision(value: object, what: str = "commit tag") -> str:
    """``value`` if it is a commit id (``is_revision``); else ``GitError`` naming ``what``."""
    if not is_revision(value):
        raise GitError(not_a_revision(value, what))
    return str(value)


def _shown(path: Path | str) -> str:
    return printable(str(path), limit=200)


def _normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def find_clone(repo_url: str | None, git_repos: Mapping[str, Path] | None = None) -> Path | None:
    """The local clone for ``repo_url``: configured mapping first, then a local URL or path.

    Nothing is fetched: a URL that is neither configured nor local has no clone.
    """
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
    try:
        if local is not None and ((local / ".git").exists() or (local / "HEAD").exists()):
            return local
    except (OSError, ValueError):  # a NUL byte, a name too long: a server's string, no clone
        return None
    return None


def _read_small(path: Path, limit: int = 65536) -> str | None:
    """The start of ``path`` if it is a regular file (a FIFO or device is never read), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _git_dir(clone: Path) -> Path:
    """The clone's common git directory (work tree, linked work tree, or bare), read as files."""
    try:
        dot = clone / ".git"
        if dot.is_dir():
            git_dir = dot
        elif dot.is_file():  # a linked work tree or a submodule: "gitdir: <path>"
            first = (_read_small(dot) or "").splitlines()[:1]
            if not first or not first[0].startswith("gitdir:"):
                raise GitError(f"{_shown(dot)} names no git directory")
            git_dir = clone / first[0][len("gitdir:") :].strip()
        elif (clone / "HEAD").is_file() and (clone / "objects").is_dir():
            git_dir = clone
        else:
            raise GitError(f"{_shown(clone)} is not a git repository")
        common = _read_small(git_dir / "commondir")
        if common is not None and common.strip():
            git_dir = git_dir / common.strip()
        git_dir = git_dir.resolve()
        if not (git_dir / "objects").is_dir():
            raise GitError(f"{_shown(clone)} has no object store")
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise GitError(f"{_shown(clone)} is unreadable: {printable(exc, limit=200)}") from None
    return git_dir


# `[extensions] objectformat = sha256` (a false match only makes git fail: a gap, not a risk)
_SHA256 = re.compile(r'^\s*objectformat\s*=\s*"?sha256"?\s*(?:[#;].*)?$', re.I | re.M)


def _object_format(git_dir: Path) -> str:
    """``sha1`` or ``sha256``: the one setting of the clone's config the sandbox must share."""
    text = _read_small(git_dir / "config") or ""
    return "sha256" if _SHA256.search(text) else "sha1"


def _environment(sandbox: Path) -> dict[str, str]:
    """git's whole environment: nothing inherited but PATH, nothing configured but ours."""
    home = str(sandbox / "home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_ALLOW_PROTOCOL": "",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
        "LC_ALL": "C",
    }
    env["GIT_DIR"] = str(sandbox / "git")
    return env


class Sandbox:
    """A throwaway git directory reading one clone's objects (see the module docstring).

    ``run`` / ``run_sync`` are the only way the console runs git on a clone a server named.
    """

    def __init__(self, clone: Path, root: Path) -> None:
        self.clone = clone
        self.root = root
        git_dir = _git_dir(clone)
        objects = str(git_dir / "objects")
        if not objects.startswith("/") or any(c in objects for c in '\n\r"'):
            raise GitError(f"{_shown(clone)}: its object store path cannot be used")
        box = root / "git"
        (box / "objects" / "info").mkdir(parents=True)
        (box / "refs").mkdir()
        (root / "home").mkdir()
        (box / "HEAD").write_text("ref: refs/heads/none\n")
        config = "[core]\n\trepositoryformatversion = 0\n\tbare = true\n"
        if _object_format(git_dir) == "sha256":
            config = config.replace("= 0", "= 1") + "[extensions]\n\tobjectformat = sha256\n"
        (box / "config").write_text(config)
        (box / "objects" / "info" / "alternates").write_text(objects + "\n")
        shallow = _read_small(git_dir / "shallow", limit=1 << 22)  # boundary commits
        if shallow is not None:
            (box / "shallow").write_text(shallow)

    def argv(
        self,
        subcommand: str,
        *options: str,
        operands: Sequence[str] = (),
        revisions: Sequence[str] = (),
        paths: Sequence[str] | None = None,
    ) -> list[str]:
        """``git <safe -c…> <subcommand> <options> --end-of-options <operands> <revisions>``.

        ``options`` are the console's own constants; ``operands`` are paths the console made
        (a temporary work tree); every revision must be a commit id (``_REVISION_EXPR``).
        ``paths`` (if given) follow ``--``.
        """
        for rev in revisions:
            if _REVISION_EXPR.fullmatch(rev) is None:
                raise GitError(f"not a git revision: {printable(rev, limit=80)}")
        argv = ["git", "--no-pager"]
        for setting in SAFE_CONFIG:
            argv += ["-c", setting]
        argv += [subcommand, *_SUBCOMMAND_FLAGS.get(subcommand, ()), *options]
        argv += ["--end-of-options", *operands, *revisions]
        if paths is not None:
            argv += ["--", *paths]
        return argv

    @property
    def env(self) -> dict[str, str]:
        return _environment(self.root)

    def _failed(self, argv: list[str], returncode: int, err: bytes | str) -> GitError:
        text = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
        lines = text.strip().splitlines()
        why = printable(lines[0] if lines else returncode, limit=300)
        return GitError(f"git {self._name(argv)} in {_shown(self.clone)} failed: {why}")

    @staticmethod
    def _name(argv: list[str]) -> str:
        return argv[2 + 2 * len(SAFE_CONFIG)]

    async def run(self, *args: str, **kwargs) -> str:
        """Run git (``argv``'s arguments) and return its stdout; ``GitError`` on any failure."""
        argv = self.argv(*args, **kwargs)
        timeout = GIT_TIMEOUT_S
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.root,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.env,
            )
        except FileNotFoundError:
            raise GitError(
                "git is not installed", hint="install git to see commit details"
            ) from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise GitError(
                f"git {self._name(argv)} in {_shown(self.clone)} took longer than {timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            # reaped here, while the loop runs: a process left to the transport's finaliser
            # prints "Event loop is closed" with a traceback when the loop has gone
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await asyncio.shield(proc.wait())
            raise
        if proc.returncode != 0:
            raise self._failed(argv, proc.returncode or 1, err)
        return out.decode("utf-8", "replace")

    def run_sync(self, *args: str, timeout: float = GIT_TIMEOUT_S, **kwargs) -> str:
        """``run`` for code without an event loop (the reproduce trainer's process)."""
        argv = self.argv(*args, **kwargs)
        try:
            done = subprocess.run(
                argv,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=self.env,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed") from None
        except subprocess.TimeoutExpired:
            raise GitError(
                f"git {self._name(argv)} in {_shown(self.clone)} took longer than {timeout:g} s"
            ) from None
        if done.returncode != 0:
            raise self._failed(argv, done.returncode, done.stderr)
        return done.stdout.decode("utf-8", "replace")


@contextlib.contextmanager
def sandbox(clone: Path, parent: Path | None = None) -> Iterator[Sandbox]:
    """A ``Sandbox`` for ``clone`` in a new temporary directory, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="mlops-git-", dir=parent))
    try:
        yield Sandbox(clone, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def git(clone: Path, *args: str, **kwargs) -> str:
    """One git command on ``clone`` in its own sandbox (arguments as ``Sandbox.argv``)."""
    with sandbox(clone) as box:
        return await box.run(*args, **kwargs)


async def git_ok(clone: Path, *args: str, **kwargs) -> bool:
    """Whether the git command succeeds (``cat-file -e``, ``merge-base --is-ancestor``)."""
    try:
        await git(clone, *args, **kwargs)
    except GitError:
        return False
    return True


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
    """One commit's author, date and message (``GitError`` if ``sha`` is not a commit id)."""
    sha = revision(sha)
    text = await git(repo, "log", "-1", f"--format={_FIELDS}{_SEP}", revisions=[sha], paths=())
    found = _commits(text)
    if not found:
        raise GitError(f"commit {sha} is not in {_shown(repo)}", hint="fetch the clone")
    return found[0]


async def between(repo: Path, a: str, b: str) -> CommitRange:
    """The commits from the older to the newer of ``a`` and ``b``, and the diffstat a..b."""
    a, b = revision(a), revision(b)
    with sandbox(repo) as box:

        async def is_ancestor(x: str, y: str) -> bool:
            try:
                await box.run("merge-base", "--is-ancestor", revisions=[x, y])
            except GitError:
                return False
            return True

        older, newer = a, b
        related = await is_ancestor(a, b)
        if not related and await is_ancestor(b, a):
            older, newer, related = b, a, True
        log_range = f"{older}..{newer}" if related else f"{older}...{newer}"
        # both run to their end before either's failure is raised: a git still running when
        # the sandbox goes would be left to the event loop's shutdown
        log_text, stat_text = await asyncio.gather(
            box.run(
                "log",
                f"--max-count={LOG_LIMIT}",
                f"--format={_FIELDS}{_SEP}",
                revisions=[log_range],
                paths=(),
            ),
            box.run("diff", "--numstat", revisions=[older, newer], paths=()),
            return_exceptions=True,
        )
        if isinstance(log_text, BaseException):
            raise log_text
        if isinstance(stat_text, BaseException):
            raise stat_text
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

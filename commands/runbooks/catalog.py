"""Finding runbooks by name and listing them, malformed ones reported rather than hidden."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from commands.runbooks import runbook_dirs
from commands.runbooks.format import Runbook, RunbookFormatError, parse_runbook
from console.errors import ConsoleError


class CatalogEntry(BaseModel):
    name: str
    path: str
    title: str = ""
    summary: str = ""
    steps: int = 0
    actions: int = 0
    error: str | None = None


def _files(dirs: list[Path] | None = None) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in dirs if dirs is not None else runbook_dirs():
        try:
            paths = sorted(directory.glob("*.md")) if directory.is_dir() else []
        except OSError:
            continue  # an unreadable directory holds no runbooks we can offer
        for path in paths:
            found.setdefault(path.stem, path)  # earlier directories override later ones
    return found


def _parse_one(path: Path) -> Runbook:
    """``parse_runbook``, with any failure of this one file as RunbookFormatError (one line)."""
    try:
        return parse_runbook(path)
    except RunbookFormatError:
        raise
    except ConsoleError as exc:
        raise RunbookFormatError(path, None, exc.message) from None
    except (OSError, ValueError, MemoryError, RecursionError) as exc:
        # a net: one file that defeats the parser in a way not foreseen must not hide the others
        raise RunbookFormatError(path, None, f"cannot be read ({type(exc).__name__})") from None


def list_runbooks(dirs: list[Path] | None = None) -> list[CatalogEntry]:
    """Every runbook found; a file that cannot be loaded is an entry with its one-line error."""
    entries = []
    for name, path in sorted(_files(dirs).items()):
        try:
            runbook = _parse_one(path)
        except RunbookFormatError as exc:
            entries.append(CatalogEntry(name=name, path=str(path), error=exc.message))
            continue
        entries.append(
            CatalogEntry(
                name=name,
                path=str(path),
                title=runbook.header.title,
                summary=runbook.header.summary,
                steps=len(runbook.steps),
                actions=sum(1 for s in runbook.steps if s.kind == "action"),
            )
        )
    return entries


def load_runbook(name: str, dirs: list[Path] | None = None) -> Runbook:
    """The runbook called ``name`` (or at path ``name``); ConsoleError if there is none."""
    if name.endswith(".md") and _is_file(Path(name)):
        return _parse_one(Path(name))
    files = _files(dirs)
    if name not in files:
        known = ", ".join(sorted(files)) or "none"
        raise ConsoleError(
            f"no runbook named {name!r} (runbooks: {known})",
            hint="see `mlops-console runbook list`",
        )
    return _parse_one(files[name])


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system is no file
        return False

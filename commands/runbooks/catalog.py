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
        if directory.is_dir():
            for path in sorted(directory.glob("*.md")):
                found.setdefault(path.stem, path)  # earlier directories override later ones
    return found


def list_runbooks(dirs: list[Path] | None = None) -> list[CatalogEntry]:
    entries = []
    for name, path in sorted(_files(dirs).items()):
        try:
            runbook = parse_runbook(path)
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
    if name.endswith(".md") and Path(name).is_file():
        return parse_runbook(Path(name))
    files = _files(dirs)
    if name not in files:
        known = ", ".join(sorted(files)) or "none"
        raise ConsoleError(
            f"no runbook named {name!r} (runbooks: {known})",
            hint="see `mlops-console runbook list`",
        )
    return parse_runbook(files[name])

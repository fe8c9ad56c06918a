"""Where the console's MLflow is and whether it answers: the configured tracking URI or the
embedded server's (started if needed, or just looked up), and a probe that only a real MLflow
tracking server passes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.settings import Settings


def resolve_tracking_uri(
    settings: Settings, progress: Callable[[str], object] | None = None
) -> str:
    """``settings.tracking_uri`` if set, else the URI of the embedded server (started if needed).

    Raises ``EmbeddedError`` when the embedded server cannot start. Starting takes 10–20 s cold,
    a few milliseconds warm; call it from a worker thread in the TUI.
    """
    if settings.tracking_uri:
        return settings.tracking_uri
    from console.embedded.lifecycle import ensure_server

    current = ensure_server(
        settings.home,
        progress=progress or (lambda message: None),
        idle_minutes=settings.embedded_idle_minutes,
    )
    return current.tracking_uri or ""


def embedded_tracking_uri(home: Path | str) -> str | None:
    """The URI of the embedded server running for ``home`` now (from its ``server.json``), or
    None when none runs. Never starts anything; reads a file and asks the server once."""
    from console.embedded.lifecycle import status

    current = status(home)
    return current.tracking_uri if current.running else None


async def probe(client: Any) -> None:
    """Ask the server something only an MLflow tracking server answers (one experiment).

    Raises ``MlflowError``: ``Unreachable``/``Timeout`` when nothing answers, ``BadResponse``
    when something that is not MLflow answers (an HTML page), auth errors as they are.
    """
    await client.search_experiments_page(page_size=1)

"""Where the console's MLflow is: the configured tracking URI, or the embedded server's."""

from __future__ import annotations

from collections.abc import Callable

from console.settings import Settings


def resolve_tracking_uri(settings: Settings, progress: Callable[[str], None] | None = None) -> str:
    """``settings.tracking_uri`` if set, else the URI of the embedded server (started if needed).

    Raises ``EmbeddedError`` when the embedded server cannot start. Starting takes 10–20 s cold,
    a few milliseconds warm; call it from a worker thread in the TUI.
    """
    if settings.tracking_uri:
        return settings.tracking_uri
    from console.embedded import ensure_server

    current = ensure_server(
        settings.home,
        progress=progress or (lambda message: None),
        idle_minutes=settings.embedded_idle_minutes,
    )
    return current.tracking_uri or ""

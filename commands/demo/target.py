"""Which MLflow server the demo fills: the embedded one of the home, unless a URI is given."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel


class DemoTarget(BaseModel):
    tracking_uri: str
    embedded: bool
    description: str


def resolve_target(
    home: Path,
    tracking_uri: str | None,
    *,
    progress: Callable[[str], None],
    idle_minutes: float = 60.0,
) -> DemoTarget:
    """An explicit ``tracking_uri`` wins; else the home's embedded server (started if needed)."""
    if tracking_uri:
        from console.settings import show_url

        return DemoTarget(
            tracking_uri=tracking_uri,
            embedded=False,
            # the URL may carry user:password; the description is printed
            description=(
                f"the MLflow server at {show_url(tracking_uri)} (given with --tracking-uri)"
            ),
        )
    from console.embedded.lifecycle import ensure_server

    status = ensure_server(home, progress=progress, idle_minutes=idle_minutes)
    if not status.tracking_uri:
        from console.errors import EmbeddedError

        raise EmbeddedError(f"the embedded server of {home} reported no URL: {status.detail}")
    return DemoTarget(
        tracking_uri=status.tracking_uri,
        embedded=True,
        description=f"the embedded stack in {home} (MLflow at {status.tracking_uri})",
    )

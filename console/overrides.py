"""The global command-line options (``--tracking-uri``, ``--profile``, ``--home``, ``--read-only``).

Standard library only: the CLI builds these before it knows whether it will need the settings, so
opening the console does not pay for pydantic before its first frame. ``console.settings`` applies
them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CliOverrides:
    """The global command-line options; ``None`` means "not given"."""

    tracking_uri: str | None = None
    profile: str | None = None
    home: str | None = None
    read_only: bool | None = None

"""The console's one exception family: every failure an operator can see derives from ConsoleError.

Each error carries a one-line message saying what failed and, where we know it, what to do next.
The CLI prints ``str(error)`` on one line; the TUI shows it in a banner. No traceback is ever shown.
"""

from __future__ import annotations


class ConsoleError(Exception):
    """A failure the operator can act on. ``hint`` says what to do about it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} — {self.hint}"
        return self.message


class SettingsError(ConsoleError):
    """A configuration value is invalid; the message names the setting and where it came from."""

    exit_code = 2


class UsageError(ConsoleError):
    """The command line itself is unusable (undecodable bytes, a malformed version, ...)."""

    exit_code = 2


class EmbeddedError(ConsoleError):
    """The embedded lifecycle (MLflow server, catalog or stores) could not be started or used."""


class ReadOnlyError(ConsoleError):
    """A mutation was attempted while the console runs with ``--read-only``."""

    exit_code = 3

    def __init__(self, action: str) -> None:
        super().__init__(
            f"refused to {action}: the console is read-only",
            hint="run without --read-only (or unset read_only in the profile) to allow changes",
        )

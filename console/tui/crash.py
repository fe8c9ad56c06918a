"""The TUI's last line of defence: an unexpected exception ends the console with one line, not a
traceback; the traceback goes to a crash log in the home directory with every secret masked.

Textual stops processing a widget's messages after an exception in one of its handlers, so the
console cannot carry on safely: it exits, says what happened and where the details are. Under
Pilot (headless) or with ``MLOPS_CONSOLE_DEBUG`` set, Textual's own behaviour is kept so tests and
developers see the traceback.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App

CRASH_LOG = "logs/console-crash.log"


def write_crash_log(home: Path, error: BaseException, secrets: list[str]) -> Path | None:
    """Append the traceback to the home's crash log; return its path (None if unwritable)."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "********")
    path = Path(home) / CRASH_LOG
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} ---\n{text}\n")
    except OSError:
        return None
    return path


def crash_line(error: BaseException, log: Path | None) -> str:
    """One line for the operator: what failed and where the details are."""
    from console.safe_text import printable

    what = printable(f"{type(error).__name__}: {error}", limit=300).replace("\n", " ")
    where = f"the traceback is in {log}" if log else "the crash log could not be written"
    return (
        f"mlops-console: internal error: {what} — the console stopped; {where}. "
        "Please report it; restarting the console is safe."
    )


class CrashGuardedApp(App[int]):
    """The console's base app: replaces the traceback on exit with ``crash_line``."""

    settings: Any

    def _late_settings(self) -> Any:
        """The settings, read now, for a crash before the worker delivered them (None if bad)."""
        loader = getattr(self, "_settings_loader", None)
        if loader is None:
            return None
        from console.errors import ConsoleError

        try:
            return loader()
        except (ConsoleError, ValueError, OSError):  # an invalid setting: no log, still one line
            return None

    def _crash_guard_active(self) -> bool:
        return not (self.is_headless or os.environ.get("MLOPS_CONSOLE_DEBUG"))

    def _handle_exception(self, error: Exception) -> None:
        if not self._crash_guard_active():
            super()._handle_exception(error)
            return
        from rich.text import Text

        from console.audit import secret_values

        # mirrors Textual 8.2's App._handle_exception, minus the traceback renderable
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        settings = self.settings if self.settings is not None else self._late_settings()
        log = (
            write_crash_log(settings.home, error, secret_values(settings))
            if settings is not None
            else None  # the settings themselves are unreadable: no home to write to
        )
        self._exit_renderables.append(Text(crash_line(error, log)))
        self._close_messages_no_wait()

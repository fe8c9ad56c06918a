"""Opening the TUI from the command line (kept out of ``--help``'s import path).

``console.cli`` calls ``open_console`` when no subcommand is given. The app is built by the same
``console.tui.app.build_app`` factory the tests use, with a settings *loader*: the first frame is
painted before pydantic is imported and the settings are validated in a worker. Before Textual is
even imported, ``console.prefetch`` forks a helper that asks the server for the first page. A
setting that does not validate ends the console, and is re-raised here so the CLI prints it as one
line.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any

from console.errors import ConsoleError


def open_console(overrides: Any) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConsoleError(
            "the console needs an interactive terminal",
            hint="run it in a terminal (ssh -t for remote shells), or use a subcommand "
            "such as `mlops-console runs` for scripts",
        )
    from console import prefetch

    first_page = prefetch.start(overrides)
    try:
        from console.tui.app import build_app

        app = build_app(settings_loader=partial(_load, overrides), first_page=first_page)
        app.run()
    finally:
        if first_page is not None:
            first_page.close()
    if app.startup_error is not None:
        raise app.startup_error
    return int(app.return_code or 0)


def _load(overrides: Any) -> Any:
    from console.settings import load_settings

    return load_settings(overrides)

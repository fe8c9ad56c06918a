"""Opening the TUI from the command line (kept out of ``--help``'s import path).

``cli.py`` calls ``open_console`` when no subcommand is given; the app is built by the same
``console.tui.app.build_app`` factory the tests use.
"""

from __future__ import annotations

import sys

from console.errors import ConsoleError


def open_console(settings) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConsoleError(
            "the console needs an interactive terminal",
            hint="run it in a terminal (ssh -t for remote shells), or use a subcommand "
            "such as `mlops-console runs` for scripts",
        )
    from console.tui.app import build_app

    app = build_app(settings)
    app.run()
    return int(app.return_code or 0)

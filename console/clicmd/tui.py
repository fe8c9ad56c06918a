"""Opening the TUI from the command line (kept out of ``--help``'s import path)."""

from __future__ import annotations


def open_console(settings) -> int:
    from console.app import build_app

    app = build_app(settings)
    app.run()
    return int(app.return_code or 0)

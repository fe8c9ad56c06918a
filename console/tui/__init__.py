"""The terminal UI shell: the app, the typed handle its features share, and the features.

``build_app`` is exported lazily so importing the package costs nothing before it is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.tui.app import build_app

__all__ = ["build_app"]


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from console.tui.app import build_app

        return build_app
    raise AttributeError(name)

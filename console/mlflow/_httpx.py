"""httpx without its command-line client: the one place the console's MLflow code imports httpx.

``httpx/__init__`` imports ``httpx._main`` (click, rich, pygments) only to offer ``httpx.main``,
the CLI entry point, and falls back to a stub when that import fails. Refusing that one import
while httpx loads saves about 0.25 s per process; nothing in the console calls ``httpx.main``,
and a later explicit ``import httpx._main`` still works because nothing is cached.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING


class _RefuseHttpxCli:
    """A ``sys.meta_path`` finder that makes ``import httpx._main`` fail.

    Duck-typed rather than an ``importlib.abc.MetaPathFinder``: importing ``importlib.abc``
    alone costs 15 ms.
    """

    def find_spec(self, fullname, path, target=None):
        if fullname == "httpx._main":
            raise ImportError("httpx CLI skipped by the console (not needed)")
        return None


def _load():
    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    finder = _RefuseHttpxCli()
    sys.meta_path.insert(0, finder)
    try:
        import httpx
    finally:
        sys.meta_path.remove(finder)
    return httpx


if TYPE_CHECKING:
    import httpx  # the checker sees the module itself
else:
    httpx = _load()

__all__ = ["httpx"]

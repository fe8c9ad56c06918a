"""Pagination over MLflow's opaque page tokens: one page at a time, or everything as an iterator.

A page may be shorter than asked for while a token still comes back (auth filtering), so only the
absence of ``next_page_token`` ends a listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from console.mlflow.errors import MlflowError
from console.model import Page

T = TypeVar("T")

# what a page fetcher looks like: (page_size, page_token) -> Page
FetchPage = Callable[[int, str | None], Awaitable[Page[T]]]


async def iterate_pages(
    fetch: FetchPage[T],
    *,
    page_size: int,
    max_items: int | None = None,
    what: str = "items",
) -> AsyncIterator[T]:
    """Yield items page by page until the server has no more or ``max_items`` is reached.

    A failure after some items were yielded says how far the listing got, so a command can tell
    the operator that its output is partial.
    """
    delivered = 0
    token: str | None = None
    seen_tokens: set[str] = set()
    while True:
        size = page_size if max_items is None else min(page_size, max_items - delivered)
        if size <= 0:
            return
        try:
            page = await fetch(size, token)
        except MlflowError as exc:
            if delivered:
                exc.message = f"{exc.message} (after {delivered} {what})"
            raise
        for item in page.items:
            yield item
            delivered += 1
            if max_items is not None and delivered >= max_items:
                return
        token = page.next_page_token
        if not token:
            return
        if token in seen_tokens:
            # a server handing back a token it already gave would make us loop forever
            return
        seen_tokens.add(token)

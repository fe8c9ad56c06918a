"""Building blocks of the detail screens: titled key/value and column tables of literal text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from widgets.text import literal


def heading(title: str, count: int | None = None) -> Text:
    label = title if count is None else f"{title} ({count})"
    return Text(f"\n{label}", style="bold underline")


def key_values(
    items: Mapping[str, object] | Iterable[tuple[str, object]], *, limit: int = 300
) -> RenderableType:
    """Two columns, keys bold; values wrap instead of running off the screen."""
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    if not pairs:
        return Text("  none", style="dim")
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, max_width=40)
    table.add_column(overflow="fold")
    for key, value in pairs:
        table.add_row(literal(key, limit=40, style="bold"), _wrapping(value, limit))
    return table


def columns(headers: Sequence[str], rows: Iterable[Sequence[object]], *, limit: int = 120):
    """A headed table; every cell literal."""
    rows = list(rows)
    if not rows:
        return Text("  none", style="dim")
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(c if isinstance(c, Text) else _wrapping(c, limit) for c in row))
    return table


def _wrapping(value: object, limit: int) -> Text:
    text = literal(value, limit=limit)
    text.no_wrap = False
    text.overflow = "fold"
    return text


def stack(*parts: RenderableType) -> Group:
    return Group(*parts)

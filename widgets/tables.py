"""The keyboard-first table used by every list: row cursor, vim keys, literal cells."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

__all__ = ["CellDoesNotExist", "NavTable", "RowDoesNotExist", "event_key"]


class NavTable(DataTable):
    """A row-cursor DataTable with j/k and g/G; cells must be ``Text`` or ``widgets.text.Cell``."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    NavTable { height: 1fr; }
    NavTable > .datatable--header { text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", cursor_foreground_priority="renderable")

    def _update_dimensions(self, new_rows) -> None:
        super()._update_dimensions(new_rows)
        # Textual 8.2.8 (pinned) caches rendered rows under a key without the column widths, so
        # rows drawn before this idle-time measurement kept the old widths until something
        # else changed; drop the caches once the widths are known
        self._clear_caches()
        self.refresh()

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, or ``None`` on an empty table."""
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except CellDoesNotExist:  # the cursor can sit past the end while rows change
            return None
        return row_key.value

    def move_to_key(self, key: str) -> bool:
        """Put the cursor on the row with ``key``; False if it is not loaded."""
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            return False
        self.move_cursor(row=index, animate=False, scroll=True)
        return True


def event_key(event: DataTable.RowHighlighted | DataTable.RowSelected) -> str:
    """The row key of a table event; ``""`` when the table was just cleared (no row)."""
    row_key = event.row_key
    return str(row_key.value) if row_key is not None and row_key.value is not None else ""

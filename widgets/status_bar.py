"""The top line: what the console is connected to, whether it answers, what it is doing, and the
READ-ONLY badge.

Two parts that live differently: the connection state (``connecting…``, ``connected``,
``unreachable since 12:03:04 …``) stays until the connection changes; a status message
("promotion succeeded …") expires after ``MESSAGE_TTL_S`` so an old outcome never reads as news.
"""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from widgets.text import literal

MESSAGE_TTL_S = 10.0


class StatusBar(Static):
    """One line: ``mlops-console · <connection> · <server> · <message>`` and a READ-ONLY badge.

    A message that does not fit wraps onto a second (and third) line while it is shown: at 80
    columns ``promotion succeeded: done: alias challenger → v3`` was cut after ``done:``."""

    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; background: $panel; color: $text; }
    """

    def __init__(self, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.read_only = read_only
        self.target = ""
        self.connection = "starting…"
        self.message = ""
        self._expiry: Timer | None = None
        self.message_ttl = MESSAGE_TTL_S

    def on_mount(self) -> None:
        self._paint()

    @property
    def state(self) -> str:
        """Everything after the target, as shown (connection, then the message)."""
        return " · ".join(part for part in (self.connection, self.message) if part)

    def set_target(self, target: str) -> None:
        self.target = target
        self._paint()

    def set_connection(self, state: str) -> None:
        """Whether the server answers; stays until it changes."""
        self.connection = state
        self._paint()

    def set_state(
        self, message: str, *, ttl: float | Literal["default"] | None = "default"
    ) -> None:
        """What the console is doing or just did; gone after ``ttl`` seconds (``None``: stays;
        by default ``message_ttl``)."""
        if ttl == "default":
            ttl = self.message_ttl
        self.message = message
        if self._expiry is not None:
            self._expiry.stop()
            self._expiry = None
        if message and ttl is not None and self.is_mounted:
            self._expiry = self.set_timer(ttl, self._expire)
        self._paint()

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        self._paint()

    def _expire(self) -> None:
        self._expiry = None
        self.message = ""
        self._paint()

    def _paint(self) -> None:
        line = Text()
        if self.read_only:
            # reverse video stays visible with NO_COLOR and on 16-colour terminals
            line.append(" READ-ONLY ", style="reverse bold")
            line.append(" ")
        line.append("mlops-console", style="bold")
        # the connection state before the address: at 80 columns it must not be the part cut
        if self.connection:
            line.append(" · ")
            line.append_text(literal(self.connection, limit=80))
        if self.target:
            line.append(" · ")
            line.append_text(literal(self.target, limit=80))
        if self.message:
            line.append(" · ")
            line.append_text(literal(self.message, limit=120))
        self.update(line)

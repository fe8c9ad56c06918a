"""The failure banner: what failed and what to do, above the panes, without blocking them.

A banner belongs to one failing request (its ``key``, the job group). It goes when that request
succeeds, when the operator dismisses it (``x`` on the main screen), or when it no longer
applies: the request was replaced by another of the same kind (another experiment, run or
filter), or — for a failure that is not retried (a 404, a refused filter) — when a later request
succeeds or the operator reloads. It shows one failure, in at most two rows, with a count of the
others still failing: a pinned cause (the server does not answer) before the failures it causes,
else the newest; clearing one never brings back a stale one. A message that does not fit its two
rows (80 columns, a long server reason) is cut where the banner says ``v: whole text``, and ``v``
on the main screen opens every failure it holds, whole, in the text viewer (``full_text``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from console.safe_text import printable
from widgets.messages import RetryRequested
from widgets.text_viewer import VIEWER_LIMIT

MAX_ROWS = 2
# where a message was cut to fit: the key that shows it whole (the main screen binds it)
CUT_HINT = "  v: whole text"


@dataclass
class Failure:
    message: str
    # False: not retried (404, refused filter, …); it goes at the next success or reload
    retrying: bool
    # the job sequence number current when it failed; later successes clear a final failure
    seq: int = 0
    # a cause (the server does not answer): shown before the failures it causes
    pinned: bool = False


class Banner(Static):
    """Hidden until something fails; the newest failure, in two rows at most. Click = retry."""

    DEFAULT_CSS = """
    Banner { display: none; height: auto; max-height: 2; background: $error 30%;
             color: $text; padding: 0 1; text-style: bold; }
    Banner.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.failures: dict[str, Failure] = {}

    @property
    def shown(self) -> bool:
        return bool(self.failures)

    @property
    def full_text(self) -> str:
        """Every failure the banner holds, whole: the one shown first, then the others."""
        if not self.failures:
            return ""
        shown = self.message
        others = [f.message for f in reversed(self.failures.values()) if f.message != shown]
        text = shown
        if others:
            text += "\n\nAlso failing:\n" + "\n".join(f"- {m}" for m in others)
        return text

    @property
    def message(self) -> str:
        """The failure shown (a pinned cause, else the newest), or ``""``."""
        if not self.failures:
            return ""
        pinned = [f for f in self.failures.values() if f.pinned]
        return (pinned or list(self.failures.values()))[-1].message

    def report(
        self, key: str, message: str, *, retrying: bool = True, seq: int = 0, pinned: bool = False
    ) -> None:
        known = self.failures.get(key)
        if known is None or known.message != message:
            # older failures that are not retried were one-shot answers: a newer failure
            # hides them, and they must not come back when it clears
            for old in [k for k, f in self.failures.items() if not f.retrying and k != key]:
                del self.failures[old]
        self.failures.pop(key, None)
        self.failures[key] = Failure(message, retrying, seq, pinned)
        self._paint()

    def clear(self, key: str) -> None:
        if self.failures.pop(key, None) is not None:
            self._paint()

    def clear_final(self, before_seq: int | None = None) -> None:
        """Drop failures that are not retried (only those older than ``before_seq`` if given)."""
        stale = [
            k
            for k, f in self.failures.items()
            if not f.retrying and (before_seq is None or f.seq < before_seq)
        ]
        for key in stale:
            del self.failures[key]
        if stale:
            self._paint()

    def clear_all(self) -> None:
        self.failures.clear()
        self._paint()

    def _paint(self) -> None:
        if self.is_mounted:
            self.screen.refresh_bindings()  # the footer offers x only while a banner shows
        if not self.failures:
            self.remove_class("-shown")
            self.update("")
            return
        self.update(self._fitted(printable(self.message, limit=VIEWER_LIMIT)))
        self.add_class("-shown")

    def _text(self, message: str, hint: str) -> Text:
        text = Text("! ")
        text.append(message)
        others = len(self.failures) - 1
        if others:
            text.append(f"  (+{others} more failing)", style="dim")
        if hint:
            text.append(hint, style="dim")
        return text

    def _fitted(self, message: str) -> Text:
        """The message in the banner's two rows; cut (saying ``v`` shows it whole) if it must."""
        width = max(10, (self.size.width or self.app.size.width) - 2)  # padding 0 1
        console = self.app.console

        def fits(text: Text) -> bool:
            return len(text.wrap(console, width)) <= MAX_ROWS

        others = len(self.failures) > 1
        whole = self._text(message, "  v: all" if others else "")
        if fits(whole):
            return whole
        low, high = 0, len(message)
        while low < high:  # the longest start of the message that fits with the hint
            mid = (low + high + 1) // 2
            if fits(self._text(message[:mid] + "…", CUT_HINT)):
                low = mid
            else:
                high = mid - 1
        return self._text(message[:low] + "…", CUT_HINT)

    def on_resize(self) -> None:
        if self.failures:
            self._paint()

    def on_click(self) -> None:
        self.post_message(RetryRequested())

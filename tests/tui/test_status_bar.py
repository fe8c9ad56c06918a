"""The top line at 80 columns: a status message that does not fit wraps and is read whole (it
was cut after ``promotion succeeded: done:``), and the line is one line again once it expires."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.tui.support import wait_for
from widgets.status_bar import StatusBar


class Host(App):
    def compose(self) -> ComposeResult:
        yield StatusBar(read_only=True, id="status")


async def test_a_long_message_wraps_and_goes() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.query_one(StatusBar)
        bar.set_connection("connected")
        bar.set_target("http://127.0.0.1:5000")
        await pilot.pause()
        assert bar.region.height == 1
        message = "promotion succeeded: done: alias challenger of next-week-commits → v3 (was v2)"
        bar.set_state(message, ttl=0.5)
        await pilot.pause()
        assert 2 <= bar.region.height <= 3
        lines = [
            "".join(segment.text for segment in strip)
            for strip in bar.render_lines(bar.region.reset_offset)
        ]
        text = " ".join(" ".join(lines).split())
        assert message in text, lines
        assert text.startswith("READ-ONLY mlops-console · connected")
        await wait_for(pilot, lambda: bar.region.height == 1, within=5)

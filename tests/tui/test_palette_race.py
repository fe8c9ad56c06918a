"""The palette closing while a search is still gathering results (a click on an entry as the
results for the last typed key arrive) must not end the console: Textual's own palette asks for
its list after the list was taken away, and the worker's ``NoMatches`` stopped the console in the
terminal-safety test on CI."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App
from textual.command import CommandPalette
from textual.worker import WorkerFailed, WorkerState

from widgets.palette import ConsolePalette


async def _search_after_close(cls: type[CommandPalette]) -> WorkerState:
    app: App[None] = App()
    async with app.run_test() as pilot:
        palette = cls(id="--command-palette")
        await app.push_screen(palette)
        await pilot.pause()
        await palette.query_one("CommandList").remove()  # the teardown took the list first
        app.pop_screen()
        await pilot.pause()
        worker = palette._gather_commands("q")  # the search the last key started
        await asyncio.sleep(0.3)
        assert app.is_running
        return worker.state


async def test_a_search_of_a_closed_palette_ends_quietly() -> None:
    assert await _search_after_close(ConsolePalette) == WorkerState.SUCCESS


async def test_textual_palette_has_the_race_this_guards() -> None:
    """The control: without the guard the same steps fail (so the test above can fail)."""
    with pytest.raises(WorkerFailed):
        await _search_after_close(CommandPalette)

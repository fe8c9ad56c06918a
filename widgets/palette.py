"""The command palette and its one provider: every entry's title and help are plain ``Content``.

Textual's own ``SystemCommandsProvider`` hands each title to ``Matcher.highlight``, which parses
it as markup (``Content.from_markup``), and the palette parses a ``str`` help the same way.
Escaping is not enough: ``textual.markup.escape`` leaves ``[ @click=app.quit]`` (a leading
space) alone and Textual still acts on it. So nothing here is markup: a title is sanitized
(``printable_spans``: control characters become escapes, drawn in reverse video like everywhere
in the TUI, so a typed ``\\u200b`` is told from a real one) and becomes ``Content`` with the
fuzzy-matched letters styled by offset, the help likewise (``Content.from_markup`` returns a
``Content`` unchanged). ``hit.text``, which selecting an entry puts into the palette's input, is
the sanitized title.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import work
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.css.query import NoMatches

from console.safe_text import LABEL_LIMIT, printable_spans

# the same look as ``widgets.text.ESCAPE_STYLE`` (reverse video)
ESCAPE_STYLE = "reverse"
HELP_LIMIT = 300


def plain(value: str, limit: int = LABEL_LIMIT) -> tuple[str, Content]:
    """``value`` sanitized, and as ``Content`` with the console's escapes set apart."""
    shown, spans = printable_spans(value, limit=limit)
    content = Content(shown)
    for start, end in spans:
        content = content.stylize(ESCAPE_STYLE, start, end)
    return shown, content


def highlighted(matcher: Matcher, title: str) -> Content:
    """``title`` as plain text, the letters ``matcher`` matched in its match style."""
    shown, content = plain(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, shown)
    if not score:
        return content
    for offset in offsets:
        if not shown[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ConsoleCommands(Provider):
    """``App.get_system_commands`` as palette hits, never parsed as markup."""

    def _commands(self) -> Iterable[Any]:
        return self.app.get_system_commands(self.screen)

    async def discover(self) -> Hits:
        for title, help_text, callback, discover in sorted(self._commands(), key=lambda c: c[0]):
            if discover:
                shown, content = plain(title)
                # ``help`` is typed ``str``; a Content is what the palette renders unparsed
                help_content = plain(help_text, HELP_LIMIT)[1]
                yield DiscoveryHit(content, callback, text=shown, help=help_content)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, *_ in self._commands():
            shown = plain(title)[0]
            score = matcher.match(shown)
            if score > 0:
                yield Hit(
                    score,
                    highlighted(matcher, title),
                    callback,
                    text=shown,
                    help=plain(help_text, HELP_LIMIT)[1],  # type: ignore[arg-type]
                )


class ConsolePalette(CommandPalette):
    """Textual's palette, minus one race: a search still running when the palette closes (a
    click on an entry while results for the last key were arriving) asked for the palette's list
    after it was taken away, and the ``NoMatches`` ended the console. A search for a palette that
    is gone has nothing left to show, so it ends quietly; on a palette still open the error is
    real and is raised."""

    @work(exclusive=True, group=CommandPalette._GATHER_COMMANDS_GROUP)
    async def _gather_commands(self, search_value: str) -> None:
        gather = CommandPalette._gather_commands.__wrapped__  # type: ignore[attr-defined]
        try:
            await gather(self, search_value)
        except NoMatches:
            if self.is_attached and self.app.screen is self:
                raise

"""The command palette's one provider: every entry's title and help are plain ``Content``.

Textual's own ``SystemCommandsProvider`` hands each title to ``Matcher.highlight``, which parses
it as markup (``Content.from_markup``), and the palette parses a ``str`` help the same way.
Escaping is not enough: ``textual.markup.escape`` leaves ``[ @click=app.quit]`` (a leading
space) alone and Textual still acts on it. So nothing here is markup: a title becomes
``Content(title)`` with the fuzzy-matched letters styled by offset, and the help ``Content(help)``
(``Content.from_markup`` returns a ``Content`` unchanged). The titles and helps come from
``App.get_system_commands``, which the console sanitizes (``ConsoleApp.get_system_commands``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content


def highlighted(matcher: Matcher, title: str) -> Content:
    """``title`` as plain text, the letters ``matcher`` matched in its match style."""
    content = Content(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    if not score:
        return content
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ConsoleCommands(Provider):
    """``App.get_system_commands`` as palette hits, never parsed as markup."""

    def _commands(self) -> Iterable[Any]:
        return self.app.get_system_commands(self.screen)

    async def discover(self) -> Hits:
        for title, help_text, callback, discover in sorted(self._commands(), key=lambda c: c[0]):
            if discover:
                # ``help`` is typed ``str``; a Content is what the palette renders unparsed
                yield DiscoveryHit(Content(title), callback, text=title, help=Content(help_text))  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, *_ in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    highlighted(matcher, title),
                    callback,
                    text=title,
                    help=Content(help_text),  # type: ignore[arg-type]
                )

"""The footer of every screen: Textual's ``Footer`` with the help key first, drawn to the edge.

Textual lists the focused widget's keys first and the app's last, so at 80 columns a pane with
three keys of its own (the lineage tree) pushed ``? Help`` off the right edge — and the key that
lists all the others is the one that must never be cut. Like htop's ``F1 Help``, it leads.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_KEYS = frozenset({"question_mark"})


class KeyFooter(Footer):
    """A ``Footer`` whose help key comes first; everything else keeps Textual's order."""

    # compact footers give every key a right margin, the docked palette key too: the last cell
    # of the line then showed whatever key had run under it ("▏^p palettet")
    DEFAULT_CSS = """
    KeyFooter.-compact FooterKey.-command-palette { margin-right: 0; padding-right: 1; }
    """

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, screen: object) -> None:
        # under a modal (a chooser, a plan) this footer's keys are not the keys that work: it
        # hides rather than list them; the modal's own buttons and hints say what to press
        self.display = self.app.screen is self.screen

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return  # as Footer: the screen's bindings are not settled before the first refresh
        from widgets.prompt_bar import PromptInput

        prompt = self.screen.focused
        if isinstance(prompt, PromptInput):
            # typed letters go to the field, not to the screen's keys: the prompt's keys only
            keys = [("enter", "enter", prompt.enter_verb), ("escape", "esc", "Cancel")]
            if prompt.completer is not None or prompt.suggester is not None:
                keys.append(("tab", "tab", "Complete"))
            for key, shown_key, description in keys:
                yield FooterKey(key, shown_key, description, key).data_bind(compact=Footer.compact)
            return
        shown = [b for (_, b, _, _) in self.screen.active_bindings.values() if b.show]
        if any(b.group is not None for b in shown):
            # grouped keys are composed inside `with KeyGroup()`: reordering would split them
            yield from super().compose()
            return
        items = list(super().compose())
        yield from (i for i in items if isinstance(i, FooterKey) and i.key in HELP_KEYS)
        yield from (i for i in items if not (isinstance(i, FooterKey) and i.key in HELP_KEYS))

"""The one-line prompt at the bottom: ``:`` commands, ``/`` filters and the sort order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Static

from console.tui.commands import complete_command, matching_arguments, matching_commands
from widgets.messages import PromptSubmitted
from widgets.text import DataInput

PROMPTS = {
    "command": ":",
    "filter": "/",
    "model-filter": "/ models:",
    "order": "sort by:",
}
PLACEHOLDERS = {
    "command": "runs · models · lineage · experiment NAME · model NAME · run ID · history · q",
    "filter": "metrics.rmse < 1 and params.seed = '7'   or plain text to match run names",
    "model-filter": "part of a model name, or MLflow filter syntax (name LIKE 'fraud%')",
    "order": "a column (rmse, params.seed, start_time) then ASC or DESC",
}
# what enter does, for the footer while the prompt has the focus
ENTER = {"command": "Run", "filter": "Filter", "model-filter": "Filter", "order": "Sort"}


class PromptInput(DataInput):
    """A one-line prompt's field: tab and shift+tab never take the focus out of it.

    Out of the field, the letters typed next would run as single-key commands. Tab takes the
    suggestion shown (a sort key), else asks ``completer`` (the ``:`` command names); shift+tab
    does nothing. The typed text stays either way.
    """

    # enter, tab and shift+tab are handled as the field's own keys (``_on_key``), in the order
    # they were typed: as priority bindings they ran as their key reached the app, before the
    # letters typed ahead of them had reached the field (`:q` enter in one burst submitted "")
    BINDINGS = [
        Binding("enter", "submit", "Submit", show=False),
        Binding("tab", "complete", "Complete", show=False),
        Binding("shift+tab", "stay", "Stay", show=False),
    ]
    # the keys this field acts on itself, before any binding sees them
    OWN_KEYS = {"enter": "submit", "tab": "complete", "shift+tab": "stay"}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # text → completed text (or None when nothing completes)
        self.completer: Callable[[str], str | None] | None = None
        # what enter does here (the footer names it while the field has the focus)
        self.enter_verb = "Enter"
        # where the focus goes on enter (the prompt bar: where it was before the prompt opened)
        self.return_to: Widget | None = None

    def action_complete(self) -> None:
        if self._suggestion and len(self._suggestion) > len(self.value) and self.cursor_at_end:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
            return
        completed = self.completer(self.value) if self.completer is not None else None
        if completed is not None and completed != self.value:
            self.value = completed
            self.cursor_position = len(self.value)
        else:
            self.app.bell()

    def action_stay(self) -> None:
        """shift+tab: the focus stays in the field."""

    async def _on_key(self, event: events.Key) -> None:
        if self.screen.focused is not self:
            # typed after enter, in the same burst: the app handed it here while the field still
            # had the focus. It goes where the focus is now, as if typed a moment later (in the
            # hidden field it was lost, or sent with the next command)
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        action = self.OWN_KEYS.get(event.key)
        if action is not None:
            event.stop()
            event.prevent_default()
            await self.run_action(action)

    async def action_submit(self) -> None:
        await super().action_submit()
        # give the focus back now, so the keys typed after enter reach the screen (when the
        # prompt closed on the next turn, they landed in the hidden field)
        back, self.return_to = self.return_to, None
        if back is not None and back.is_attached and back is not self:
            self.screen.set_focus(back)

    def take_focus(self) -> None:
        """Focus the field now, not on the next turn of the event loop (``focus()``).

        ``focus()`` is deferred behind the keys already queued: ``:runs`` typed in one burst
        opened the prompt, but ``r`` ``u`` ``n`` ``s`` still reached the panes as commands.
        """
        self.screen.set_focus(self)


class PromptBar(Horizontal):
    """Hidden until opened; enter submits, escape cancels (focus goes back where it was).

    Not docked: it takes its own line above the footer (a docked prompt and the docked footer
    would share the bottom line, and the footer would cover what the operator types).
    """

    DEFAULT_CSS = """
    PromptBar { display: none; height: 1; }
    PromptBar.-open { display: block; }
    PromptBar #prompt-label { width: auto; padding: 0 1 0 0; text-style: bold; }
    PromptBar Input, PromptBar Input:focus { border: none; height: 1; padding: 0; width: 1fr; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = "command"

    def compose(self) -> ComposeResult:
        yield Static(Text(":"), id="prompt-label")
        yield PromptInput(id="prompt-input", select_on_focus=False)

    def open(self, kind: str, value: str = "", suggestions: Sequence[str] = ()) -> None:
        self.kind = kind
        self.query_one("#prompt-label", Static).update(Text(PROMPTS.get(kind, ":")))
        field = self.query_one(PromptInput)
        field.completer = self._complete_command if kind == "command" else None
        field.enter_verb = ENTER.get(kind, "Enter")
        field.placeholder = PLACEHOLDERS.get(kind, "")
        # suggestions (sort keys) and the value may come from the server: shown sanitized
        field.suggester = (
            SuggestFromList([field.shown(s) for s in suggestions], case_sensitive=False)
            if suggestions
            else None
        )
        field.prefill(value)
        self.add_class("-open")
        focused = self.screen.focused
        field.return_to = focused if focused is not None and focused is not field else None
        field.take_focus()

    def _complete_command(self, text: str) -> str | None:
        """The command word, then its argument from the names the console knows (the app's
        ``completion_candidates``: experiments, models, deployments, runbooks); several
        matches are listed."""
        candidates = getattr(self.app, "completion_candidates", None)
        completed = complete_command(text, candidates)
        if completed is None:
            words = matching_commands(text)
            if len(words) > 1:
                self.app.notify("  ".join(f":{m}" for m in words), title="commands")
            names = matching_arguments(text, candidates)
            if len(names) > 1:
                shown = names[:20]
                more = f"  (+{len(names) - 20} more)" if len(names) > 20 else ""
                self.app.notify("  ".join(shown) + more, title="matches")
        return completed

    def close(self) -> None:
        self.remove_class("-open")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        # the value as submitted (keys typed after enter may already be on their way here)
        field = self.query_one(PromptInput)
        self.post_message(PromptSubmitted(self.kind, field.real_value(event.value)))

    def action_cancel(self) -> None:
        self.close()
        self.post_message(PromptSubmitted(self.kind, "", cancelled=True))

"""Help for the focused pane or screen, plus the keys that work everywhere (``?`` and F1).

The commands block is generated: the app gives one line per verb (``verb_help_lines``, from
``console.tui.verbs``: the keys in use, the ``:`` usage, what it does), so the help never
lists a key the console does not bind, and shows a remapped key as remapped."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.text_viewer import ViewerBody

# every line fits the modal at 80 columns (74 inside its border, padding and scrollbar)
WIDTH = 74
KEY_COLUMN = 18
EVERYWHERE = (
    "Everywhere\n"
    "  tab, shift+tab  next / previous pane     1 2 3   jump to a pane\n"
    "  j/k, arrows     move                     g / G   top / bottom\n"
    "  enter           drill in                 escape  back out\n"
    "  /               filter                   o       sort the runs\n"
    "  :               command line (tab completes commands and names)\n"
    "  x / v           dismiss the failure banner / read it whole\n"
    "  ctrl+p          command palette\n"
)
LINEAGE_KEYS = (
    "Lineage pane\n"
    "  + / -           one hop more / less      d       both / up / downstream\n"
    "  enter           on a dataset: its pinned snapshot; on a run or version:\n"
    "                  select it in its pane"
)
VIEW_KEYS = (
    "\nZoom and whole text\n"
    "  z               the focused pane full screen, and back (or escape)\n"
    "  Z               the detail strip full screen, values whole, and back\n"
    "  enter           the whole text: an audit record, a runbook step\n"
    "  v               the whole text: a plan and its gates, compare causes,\n"
    "                  the provenance record, the failure banner\n"
    "  /               in the audit view: filter by model=, action=, operator=\n"
    "  escape or x     while gates run: cancel (nothing is written)\n"
)
OVERRIDE_KEYS = (
    "  gates refused?  the plan offers an override: a reason and the model name\n"
    "                  typed again (audited and tagged like --force --reason);\n"
    "                  g runs the gates a failure stopped (like --all-gates)\n"
)
# the keys that are not commands (the commands come from the app: ``command_lines``)
GLOBAL_KEYS = EVERYWHERE + LINEAGE_KEYS + VIEW_KEYS + OVERRIDE_KEYS
# (keys and ``:`` usage, what it does, greyed): one line per command, from the app's verbs
CommandLine = tuple[str, str, bool]


def _wrapped(what: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(what, width) or [""]


def command_text(lines: list[CommandLine]) -> Text:
    """The commands block: keys and ``:`` usage in the first column (on a line of their own
    when long), what each does beside; greyed (struck) where read-only refuses it."""
    text = Text("\nCommands\n")
    width = WIDTH - KEY_COLUMN
    for invoke, what, greyed in lines:
        style = "dim strike" if greyed else ""
        if len(invoke) > KEY_COLUMN - 4:  # two spaces at least before the words
            text.append(f"  {invoke}\n", style=style)
            first, *rest = _wrapped(what, width)
            rest = [first, *rest]
        else:
            first, *rest = _wrapped(what, width)
            text.append(f"  {invoke:<{KEY_COLUMN - 2}}{first}\n", style=style)
        for line in rest:
            text.append(" " * KEY_COLUMN + line + "\n", style=style)
    return text


def global_keys(read_only: bool, lines: list[CommandLine] | None = None) -> Text:
    """The keys that work everywhere and the commands; mutating ones greyed in read-only mode."""
    text = Text(EVERYWHERE)
    if lines:
        text.append_text(command_text(lines))
        if read_only and any(greyed for _, _, greyed in lines):
            text.append("  struck out: disabled, read-only mode\n", style="bold")
    text.append(LINEAGE_KEYS)
    text.append(VIEW_KEYS)
    if not read_only:
        text.append(OVERRIDE_KEYS)
    text.rstrip()  # no blank line under the last block
    return text


class HelpScreen(ModalScreen[None]):
    """A modal with the focused pane's help above the global keys; any of esc, q, ?, F1 closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 82; max-width: 100%; height: auto; max-height: 100%;
                                  border: heavy $accent; background: $surface; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "dismiss_help", "Close", show=True),
        Binding("q", "dismiss_help", "Close", show=False),
        Binding("question_mark", "dismiss_help", "Close", show=False),
        Binding("f1", "dismiss_help", "Close", show=False),
    ]

    def __init__(
        self, pane_help: str, title: str = "Help", *, read_only: bool | None = None
    ) -> None:
        super().__init__()
        self.pane_help = pane_help
        self.title_text = title
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        body = Text()
        body.append(self.title_text + "\n\n", style="bold")
        if self.pane_help:
            body.append(self.pane_help + "\n\n")
        read_only = self.read_only
        if read_only is None:  # the console's settings say; a bare host app has none
            read_only = bool(getattr(getattr(self.app, "settings", None), "read_only", False))
        # the commands: the app's verbs (keys as remapped by the profile), when it has them
        source = getattr(self.app, "verb_help_lines", None)
        lines = cast("list[CommandLine]", source(read_only)) if callable(source) else None
        body.append_text(global_keys(read_only, lines))
        with ViewerBody():  # j/k/g/G as the help itself says, like every other text
            yield Static(body, id="help-body")

    def on_mount(self) -> None:
        self.query_one(ViewerBody).focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

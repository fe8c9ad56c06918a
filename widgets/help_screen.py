"""Help for the focused pane or screen, plus the keys that work everywhere (``?`` and F1)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.text_viewer import ViewerBody

# every line fits the modal at 80 columns (74 inside its border, padding and scrollbar)
EVERYWHERE = (
    "Everywhere\n"
    "  tab, shift+tab  next / previous pane     1 2 3   jump to a pane\n"
    "  j/k, arrows     move                     g / G   top / bottom\n"
    "  enter           drill in                 escape  back out\n"
    "  /               filter                   o       sort the runs\n"
    "  :               command line: :runs :experiments :models :versions\n"
    "                  :lineage :experiment NAME :model NAME :run ID\n"
    "                  :filter EXPR :sort EXPR :audit :runbook [NAME]\n"
    "                  :deployments :monitor NAME :history [MODEL]\n"
    "                  :refresh :help :q\n"
    "  r               reload (and retry what failed now)\n"
    "  x / v           dismiss the failure banner / read it whole\n"
    "  ctrl+p          command palette          ? F1    this help\n"
    "  b               runbooks                 q       quit\n"
    "  D               deployments: in sync, healthy, drift; enter/M monitor,\n"
    "                  R rollout, B rollback, T retrain (see ? there)\n"
)
ON_A_VERSION = (
    "On a version (registry pane or version detail)\n"
    "  p               provenance               m       mark for compare\n"
    "  c               compare the two marked versions\n"
    "  h               the model's history: timeline, state at a time, undo\n"
)
PROMOTION_KEYS = (
    "  a               set, move or remove an alias (plan, gates, confirm)\n"
    "  s               change the stage (plan, gates, confirm)\n"
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
GLOBAL_KEYS = EVERYWHERE + ON_A_VERSION + PROMOTION_KEYS + LINEAGE_KEYS + VIEW_KEYS + OVERRIDE_KEYS


def global_keys(read_only: bool) -> Text:
    """The keys that work everywhere; promotion keys greyed out in read-only mode."""
    text = Text(EVERYWHERE + ON_A_VERSION)
    if read_only:
        text.append(PROMOTION_KEYS, style="dim strike")
        text.append("  a and s are disabled: read-only mode\n", style="bold")
    else:
        text.append(PROMOTION_KEYS)
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
        body.append_text(global_keys(read_only))
        with ViewerBody():  # j/k/g/G as the help itself says, like every other text
            yield Static(body, id="help-body")

    def on_mount(self) -> None:
        self.query_one(ViewerBody).focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

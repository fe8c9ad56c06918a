"""The main screen: experiments and runs, registry and lineage side by side, plus a detail strip.

At widths under ``NARROW_WIDTH`` only the active pane is shown, full width, with a tab line naming
the others (tab cycles them), so the console stays usable at 80×24. At any size ``z`` zooms the
active pane to the whole screen (``Z`` the detail strip, in full) and back. The screen owns
layout, focus and the prompt; data arrives from the shell through the panes' methods.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from widgets.status_bar import StatusBar

if TYPE_CHECKING:  # imported when the panes are mounted, after the first frame
    from widgets.banner import Banner
    from widgets.detail_strip import DetailStrip
    from widgets.lineage_pane import LineagePane
    from widgets.messages import PromptSubmitted
    from widgets.prompt_bar import PromptBar
    from widgets.registry_pane import RegistryPane
    from widgets.runs_pane import RunsPane

NARROW_WIDTH = 120
# the keys that open a prompt: bound with priority, declined while a field has the focus
PROMPT_ACTIONS = ("filter", "command_line", "order")
PANE_IDS = ("runs-pane", "registry-pane", "lineage-pane")
PANE_NAMES = ("Experiments & runs", "Registry", "Lineage")


class PaneTabs(Static):
    """In narrow layouts: which pane is shown and which others tab reaches; when zoomed, what."""

    def show_active(self, index: int, zoom: str | None = None) -> None:
        if zoom is not None:
            what = "detail" if zoom == "detail" else PANE_NAMES[index]
            other = "Z" if zoom == "detail" else "z"
            self.update(Text(f" zoomed: {what}   {other} or escape: back to all panes"))
            return
        text = Text()
        for i, name in enumerate(PANE_NAMES):
            if i:
                text.append(" │ ")
            text.append(f" {i + 1} {name} ", style="reverse bold" if i == index else "")
        text.append("   tab: next pane")
        self.update(text)


class MainScreen(Screen):
    """Three panes and a detail strip; ``:``/``/`` prompt; help for the focused pane."""

    DEFAULT_CSS = """
    MainScreen #panes { height: 1fr; }
    MainScreen .pane { border: round $primary-darken-2; height: 1fr; }
    MainScreen .pane.-active { border: heavy $accent; }
    MainScreen .pane-title { height: 1; text-style: bold; background: $boost; }
    MainScreen RunsPane { width: 4fr; }
    MainScreen RegistryPane { width: 3fr; }
    /* wide enough for a data edge and its 19-digit snapshot id at 160 columns and more */
    MainScreen LineagePane { width: 3fr; min-width: 60; }
    MainScreen ExperimentTable, MainScreen ModelTable { height: 1fr; max-height: 9; }
    MainScreen RunsTable, MainScreen VersionTable { height: 2fr; }
    MainScreen PaneTabs { display: none; height: 1; }
    MainScreen.-narrow PaneTabs { display: block; }
    /* width 0 rather than display none: a hidden focused widget would make Textual move
       focus on its own, racing the pane switch */
    MainScreen.-narrow .pane { width: 0; min-width: 0; border: none; }
    MainScreen.-narrow .pane.-active { width: 1fr; border: heavy $accent; }
    MainScreen.-narrow ExperimentTable, MainScreen.-narrow ModelTable { max-height: 5; }
    /* zoom (z): the active pane alone, full screen; tab still moves between panes, zoomed */
    MainScreen.-zoom PaneTabs, MainScreen.-zoom-detail PaneTabs { display: block; }
    MainScreen.-zoom .pane { width: 0; min-width: 0; border: none; }
    MainScreen.-zoom .pane.-active { width: 1fr; border: heavy $accent; }
    MainScreen.-zoom DetailStrip { display: none; }
    MainScreen.-zoom ExperimentTable, MainScreen.-zoom ModelTable { max-height: 50%; }
    /* zoom of the detail strip (Z): the selection's facts in full, on the whole screen */
    MainScreen.-zoom-detail #panes { height: 0; }
    MainScreen.-zoom-detail DetailStrip { height: 1fr; }
    """

    BINDINGS = [
        # off the footer (the pane tabs and help name it) so pane keys fit in 80 columns
        Binding("tab", "next_pane", "Next pane", show=False, id="pane.next"),
        Binding("shift+tab", "previous_pane", "Prev pane", show=False, id="pane.previous"),
        Binding("1", "pane(0)", "Runs pane", show=False),
        Binding("2", "pane(1)", "Registry pane", show=False),
        Binding("3", "pane(2)", "Lineage pane", show=False),
        # priority: run as the key arrives, so the keys typed right after it (`:runs` in one
        # burst) reach the prompt, not the panes; not while a field has the focus (check_action)
        Binding("slash", "filter", "Filter", key_display="/", id="filter", priority=True),
        Binding("colon", "command_line", "Command", key_display=":", id="command", priority=True),
        Binding("escape", "back", "Back", show=False),
        Binding("z", "zoom", "Zoom", id="zoom", tooltip="the focused pane full screen, and back"),
        Binding("Z", "zoom_detail", "Zoom detail", show=False, id="zoom.detail"),
        # sorts the runs from anywhere in the runs pane (the runs list binds it itself)
        Binding("o", "order", "Sort", show=False),
        # in the footer only while a banner is shown
        Binding("x", "dismiss_banner", "Dismiss", id="banner.dismiss"),
        # the banner names it where it cut a message (two rows at 80 columns cut a server's reason)
        Binding("v", "banner_text", "Whole failure", show=False, id="banner.text"),
    ]

    def set_read_only(self, read_only: bool) -> None:
        """Known once the settings are read (after the first frame): the badge and the help."""
        self.read_only = read_only
        self.status.set_read_only(read_only)

    def __init__(self, *, read_only: bool) -> None:
        super().__init__()
        self.read_only = read_only
        self.active_pane = 0
        # None, "pane" (the active pane full screen) or "detail" (the detail strip)
        self.zoom: str | None = None
        self._last_focus: dict[int, Widget] = {}
        self._focus_before_prompt: Widget | None = None
        # called once the panes are mounted, before they are first painted
        self.on_body: Callable[[], object] | None = None
        # the panes are mounted (the frame after the first): keys and data may reach them
        self.body_ready = False

    def compose(self) -> ComposeResult:
        # the first frame is the status line alone: it paints as soon as a bare Textual app
        # would, and the panes (about 0.1 s of composing, styling and drawing) come next frame
        yield StatusBar(read_only=self.read_only, id="status")

    def on_mount(self) -> None:
        self.call_later(self._mount_body)

    async def _mount_body(self) -> None:
        from widgets.banner import Banner
        from widgets.detail_strip import DetailStrip
        from widgets.key_footer import KeyFooter
        from widgets.lineage_pane import LineagePane
        from widgets.prompt_bar import PromptBar
        from widgets.registry_pane import RegistryPane
        from widgets.runs_pane import RunsPane

        await self.mount_all(
            [
                Banner(id="banner"),
                PaneTabs(id="pane-tabs"),
                Horizontal(
                    RunsPane(id="runs-pane"),
                    RegistryPane(id="registry-pane"),
                    LineagePane(id="lineage-pane"),
                    id="panes",
                ),
                DetailStrip(id="detail"),
                PromptBar(id="prompt"),
                KeyFooter(compact=True),
            ]
        )
        self.runs_pane.experiment_table.focus()
        self._set_active(0)
        self.body_ready = True
        if self.on_body is not None:
            # before the panes' first paint: data already at hand is drawn in the same frame
            self.on_body()
        self.post_message(self.Ready())

    class Ready(Message):
        """The panes are mounted: the shell may start loading data into them."""

    # --- parts ----------------------------------------------------------------------------

    @property
    def runs_pane(self) -> RunsPane:
        return cast("RunsPane", self.query_one("#runs-pane"))

    @property
    def registry_pane(self) -> RegistryPane:
        return cast("RegistryPane", self.query_one("#registry-pane"))

    @property
    def lineage_pane(self) -> LineagePane:
        return cast("LineagePane", self.query_one("#lineage-pane"))

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def banner(self) -> Banner:
        return cast("Banner", self.query_one("#banner"))

    @property
    def detail(self) -> DetailStrip:
        return cast("DetailStrip", self.query_one("#detail"))

    @property
    def prompt(self) -> PromptBar:
        return cast("PromptBar", self.query_one("#prompt"))

    # --- layout and focus -----------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "-narrow")

    def _pane_of(self, widget: Widget | None) -> int | None:
        node = widget
        while node is not None:
            if node.id in PANE_IDS:
                return PANE_IDS.index(node.id)
            node = node.parent
        return None

    def _set_active(self, index: int) -> None:
        self.active_pane = index
        for i, pane_id in enumerate(PANE_IDS):
            self.query_one(f"#{pane_id}").set_class(i == index, "-active")
        self.query_one(PaneTabs).show_active(index, self.zoom)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        index = self._pane_of(event.widget)
        if index is not None:
            self._last_focus[index] = event.widget
            if index != self.active_pane:
                self._set_active(index)

    def focus_pane(self, index: int, widget: Widget | None = None) -> None:
        index %= len(PANE_IDS)
        self._set_active(index)
        target = widget or self._last_focus.get(index) or self._default_focus(index)
        if self.prompt.is_open:
            self.prompt.close()
        target.focus()

    def _default_focus(self, index: int) -> Widget:
        if index == 0:
            return self.runs_pane.experiment_table
        if index == 1:
            return self.registry_pane.model_table
        return self.lineage_pane.tree

    def action_next_pane(self) -> None:
        self.focus_pane(self.active_pane + 1)

    def action_previous_pane(self) -> None:
        self.focus_pane(self.active_pane - 1)

    def action_pane(self, index: int) -> None:
        self.focus_pane(index)

    def set_zoom(self, zoom: str | None) -> None:
        """Zoom the active pane (``"pane"``), the detail strip (``"detail"``), or neither."""
        self.zoom = zoom
        self.set_class(zoom == "pane", "-zoom")
        self.set_class(zoom == "detail", "-zoom-detail")
        self.detail.set_expanded(zoom == "detail")
        self._set_active(self.active_pane)

    def action_zoom(self) -> None:
        self.set_zoom(None if self.zoom == "pane" else "pane")

    def action_zoom_detail(self) -> None:
        self.set_zoom(None if self.zoom == "detail" else "detail")

    def action_back(self) -> None:
        # escape also puts away a failure that is not retried (a 404, a refused filter)
        self.banner.clear_final()
        if self.zoom is not None:
            self.set_zoom(None)
            return
        focused = self.focused
        if focused is self.runs_pane.runs_table:
            self.runs_pane.experiment_table.focus()
        elif focused is self.registry_pane.version_table:
            self.registry_pane.model_table.focus()

    # --- prompt and help ------------------------------------------------------------------

    def open_prompt(self, kind: str, value: str = "") -> None:
        suggestions: list[str] = []
        if kind == "order":
            for column in self.runs_pane.columns:
                suggestions += [f"{column.order_key} DESC", f"{column.order_key} ASC"]
        if kind == "filter" and self.active_pane == 1:
            kind = "model-filter"
            value = value or (self.registry_pane.filter or "")
        elif kind == "filter":
            value = value or (self.runs_pane.filter or "")
        self._focus_before_prompt = self.focused
        self.prompt.open(kind, value, suggestions)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PROMPT_ACTIONS and isinstance(self.focused, Input):
            return False  # typed into the field (these bindings have priority)
        if action in ("dismiss_banner", "banner_text"):
            try:
                return self.banner.shown
            except NoMatches:
                return False
        return True

    def action_dismiss_banner(self) -> None:
        self.banner.clear_all()
        self.refresh_bindings()

    def action_banner_text(self) -> None:
        from widgets.text_viewer import TextViewer

        self.app.push_screen(TextViewer("Failure", self.banner.full_text))

    def action_order(self) -> None:
        if self.active_pane == 0:
            self.open_prompt("order")
        else:
            self.notify("o sorts the runs: press 1 for the experiments and runs pane")

    def action_filter(self) -> None:
        self.open_prompt("filter")

    def action_command_line(self) -> None:
        self.open_prompt("command")

    def on_prompt_submitted(self, message: PromptSubmitted) -> None:
        # restore focus, then let the message bubble on to the shell, which acts on it
        previous = self._focus_before_prompt
        self._focus_before_prompt = None
        if self.prompt.is_open:
            return  # keys typed after enter opened a prompt again: it keeps the focus
        focused = self.focused
        if focused is not None and focused.is_on_screen and focused.parent is not self.prompt:
            return  # the field handed the focus back already (on enter, at once)
        if previous is not None and previous.is_attached:
            previous.focus()
        else:
            self._default_focus(self.active_pane).focus()

    def help_text(self) -> tuple[str, str]:
        pane = (self.runs_pane, self.registry_pane, self.lineage_pane)[self.active_pane]
        return PANE_NAMES[self.active_pane], getattr(pane, "HELP", "")

    def action_help(self) -> None:
        from widgets.help_screen import HelpScreen

        title, text = self.help_text()
        self.app.push_screen(HelpScreen(text, f"Help · {title}"))

"""Choosing a runbook and filling in its parameters before it runs (dry run or for real).

``RunbookChooser`` lists runbooks (name, title, summary; malformed ones shown with their error and
not selectable) and dismisses with the chosen name. ``RunbookForm`` shows one input per declared
parameter under its label (wrapped, never cut), prefilled with its default (secrets masked), and
dismisses with a ``RunbookLaunch``. It opens at the top with the first field focused (enter in a
field is a dry run, the safe choice); a focused field is scrolled into view with its label.
Plain data in, plain data out: no commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.safe_text import printable
from widgets.text import DataInput

SECRET_TYPES = frozenset({"secret", "dsn"})

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical, {name} > VerticalScroll {{ width: 90; max-width: 100%; height: auto;
    max-height: 100%; border: heavy $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; }}
{name} .error {{ color: $error; }}
{name} Horizontal {{ height: auto; }}
{name} Button {{ margin: 0 1 0 0; }}
"""


@dataclass(frozen=True)
class RunbookEntry:
    """One runbook of the catalog, as listed."""

    name: str
    title: str = ""
    summary: str = ""
    steps: int = 0
    actions: int = 0
    error: str | None = None


@dataclass(frozen=True)
class ParamField:
    """One declared parameter: ``type`` is the runbook type (``secret``/``dsn`` are masked)."""

    name: str
    type: str = "string"
    description: str = ""
    default: str = ""
    env: str | None = None
    env_set: bool = False
    required: bool = False
    # why the field needs the operator (e.g. its default names a model this server does not have)
    note: str = ""

    @property
    def secret(self) -> bool:
        return self.type in SECRET_TYPES


@dataclass(frozen=True)
class RunbookLaunch:
    """What the form returns: parameter values typed (empty ones left out) and the mode."""

    dry_run: bool
    params: dict[str, str] = field(default_factory=dict)
    # continue the interrupted run the form offered (its own parameters; the fields are unused)
    resume: bool = False


class RunbookChooser(ModalScreen[str | None]):
    """Pick a runbook; enter runs the highlighted one's form, escape cancels."""

    DEFAULT_CSS = _CSS.format(name="RunbookChooser") + (
        "RunbookChooser OptionList { height: auto; max-height: 18; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, entries: list[RunbookEntry]) -> None:
        super().__init__()
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        options: list[Option] = []
        for entry in self.entries:
            label = Text(printable(entry.title or entry.name), style="bold")
            label.append(printable(f"  {entry.name}"), style="dim")
            if entry.error:
                label.append("\n  malformed: ", style="bold red")
                label.append(printable(entry.error, limit=200))
            else:
                steps = f"{entry.steps} steps, {entry.actions} action(s)"
                label.append("\n  " + printable(entry.summary, limit=240))
                label.append(f"\n  {steps}", style="dim")
            options.append(Option(label, id=entry.name, disabled=entry.error is not None))
        with Vertical():
            yield Label("Runbooks", classes="title")
            if options:
                yield OptionList(*options, id="runbook-options")
            else:
                yield Label("no runbooks found", classes="error")

    @on(OptionList.OptionSelected, "#runbook-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class RunbookForm(ModalScreen[RunbookLaunch | None]):
    """The runbook's parameters and a dry-run / run choice; escape cancels."""

    DEFAULT_CSS = _CSS.format(name="RunbookForm") + (
        "RunbookForm #form-params { height: auto; }\n"
        "RunbookForm .param { height: auto; margin: 1 0 0 0; }\n"
        # labels wrap to the form's width: a description is read whole, not cut at the border
        "RunbookForm .param Label, RunbookForm .title { width: 1fr; }\n"
        "RunbookForm .note { color: $warning; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        summary: str,
        fields: list[ParamField],
        *,
        read_only: bool = False,
        actions: int = 0,
        resumable: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text, self.summary = title, summary
        # an interrupted run of this runbook, described ("run 3f2a…, stopped at step 3 …")
        self.resumable = resumable
        self.fields = list(fields)
        self.read_only = read_only
        # steps that change something: in read-only mode Run is refused at once, not after
        # the checks and gates ran up to the first of them
        self.actions = actions

    def compose(self) -> ComposeResult:
        # one scrolling frame: at 80×24 the reason field and the buttons are below the fold,
        # and tab scrolls each into view as it takes the focus
        with VerticalScroll(id="form-frame", can_focus=False):
            yield Label(Text(printable(f"Runbook: {self.title_text}")), classes="title")
            yield Static(Text(printable(self.summary, limit=600)))
            if self.refuses_run:
                yield Static(Text(self.read_only_reason, style="bold"))
            elif self.read_only:
                yield Static(Text("read-only mode: this runbook only checks", style="bold"))
            # at the top: at 80×24 the buttons are below the fold
            if self.resumable:
                yield Static(
                    Text(printable(f"interrupted: {self.resumable}; Resume continues it")),
                    id="form-resumable",
                    classes="note",
                )
            with Vertical(id="form-params"):
                if not self.fields:
                    yield Static(Text("no parameters", style="dim"))
                for param in self.fields:
                    # label and input together: focusing the input scrolls both into view
                    with Vertical(classes="param", id=f"group-{param.name}"):
                        yield Label(_param_label(param))
                        if param.note:
                            yield Label(Text(printable(param.note, limit=300)), classes="note")
                        # the default may be a server's model name: shown sanitized, sent real
                        yield DataInput(
                            value="" if param.env else param.default,
                            placeholder=_placeholder(param),
                            password=param.secret,
                            id=f"param-{param.name}",
                        )
            yield Label("", id="form-error", classes="error")
            with Horizontal():
                yield Button("Dry run", id="form-dry", variant="primary")
                yield Button("Run", id="form-run", variant="warning")
                if self.resumable:
                    yield Button("Resume", id="form-resume", variant="warning")
                yield Button("Cancel", id="form-cancel")

    def on_mount(self) -> None:
        # the first field, so the form opens at its top (title, summary, first label);
        # enter in a field is a dry run, the safe choice
        first = self.query(Input).first() if self.fields else self.query_one("#form-dry", Button)
        first.focus()

    def set_focus(
        self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False
    ) -> None:
        """Focus ``widget`` and scroll its field (label and input), not only the input, into view.

        Textual centres a focused widget that is not wholly visible, which leaves a field's label
        above the fold when tabbing back up; the form scrolls instead to the whole field.
        """
        super().set_focus(widget, scroll_visible=False, from_app_focus=from_app_focus)
        if widget is not None and scroll_visible:
            self.call_after_refresh(self._show_field, widget)

    def _show_field(self, widget: Widget) -> None:
        if self.focused is not widget:
            return
        target = widget
        for node in widget.ancestors:
            if isinstance(node, Widget) and node.has_class("param"):
                target = node
                break
        frame = self.query_one("#form-frame", VerticalScroll)
        groups = self.query(".param")
        if groups and target is groups.first():
            # the first field: the title and summary above it too
            frame.scroll_home(animate=False, immediate=True)
        frame.scroll_to_widget(target, animate=False, immediate=True)

    def values(self) -> dict[str, str]:
        """The typed values; empty ones are left to the runbook (environment, then default).

        A field still showing its prefilled value gives the real value (a model name holding
        control characters is shown escaped but passed on as it is); an edited one what was typed.
        """
        out = {}
        for param in self.fields:
            box = self.query_one(f"#param-{param.name}", DataInput)
            real = box.data_value
            value = real if real != box.value else box.value.strip()
            if value.strip():
                out[param.name] = value
        return out

    def _missing(self, values: dict[str, str]) -> list[str]:
        return [
            p.name
            for p in self.fields
            if p.required and p.name not in values and not p.env_set and not p.default
        ]

    @property
    def refuses_run(self) -> bool:
        """Read-only mode and a runbook with actions: Run is refused before anything runs."""
        return self.read_only and self.actions > 0

    @property
    def read_only_reason(self) -> str:
        return (
            f"read-only mode: Run is refused ({self.actions} step(s) would change things); "
            "Dry run shows what they would change"
        )

    def _launch(self, dry_run: bool, resume: bool = False) -> None:
        if not dry_run and self.refuses_run:
            self.query_one("#form-error", Label).update(Text(self.read_only_reason))
            self.notify(self.read_only_reason, severity="warning", markup=False)
            return
        if resume:
            # the interrupted run's own parameters: the fields' defaults must not replace them
            self.dismiss(RunbookLaunch(dry_run=False, resume=True))
            return
        values = self.values()
        missing = self._missing(values)
        if missing:
            error = f"needed: {', '.join(missing)}"
            self.query_one("#form-error", Label).update(Text(printable(error)))
            # the error is by the buttons, perhaps below the fold: the first missing field (its
            # label says required) takes the focus, and a toast says what is needed
            self.query_one(f"#param-{missing[0]}", Input).focus()
            self.notify(printable(error), severity="warning")
            return
        self.dismiss(RunbookLaunch(dry_run=dry_run, params=values))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-cancel":
            self.dismiss(None)
        elif event.button.id == "form-resume":
            self._launch(dry_run=False, resume=True)
        else:
            self._launch(dry_run=event.button.id == "form-dry")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        # enter in a field is the safe choice: a dry run
        self._launch(dry_run=True)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _param_label(param: ParamField) -> Text:
    text = Text(printable(param.name), style="bold")
    text.append(f" ({param.type}{', required' if param.required else ''})", style="dim")
    if param.description:
        text.append(" " + printable(param.description, limit=200))
    return text


def _placeholder(param: ParamField) -> str:
    parts = []
    if param.note:
        parts.append("required")
    if param.env:
        parts.append(f"from ${param.env}" + (" (set)" if param.env_set else " (not set)"))
    if param.default:
        shown = "********" if param.secret else param.default
        parts.append(f"default {shown}")
    return printable(", ".join(parts) or "empty", limit=120)

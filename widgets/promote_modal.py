"""Promotion modals: choose an alias or a stage, watch the gates run, read the plan and confirm.

The plan modal starts focused on "No"; escape and ``n`` answer no; promotions to ``champion`` or
Production are confirmed only by typing the model name; ``v`` shows the plan's whole text. While
gates run (one at a time, cheapest first), ``GatesRunning`` shows each one: waiting, running,
its verdict, or not run when an earlier one failed (escape or x cancels). A plan refused only
by gates opens ``PlanOverrideModal``: a reason and the model name typed again override them, as
``promote --force --reason`` does. ``PromotionDriver`` is the driver the shell hands to
``commands.promote.promote``: its ``confirm`` and ``override`` open those modals and wait.
Server text is rendered literally. No clients or commands are imported here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.promotion_model import (
    STAGES,
    GateProgress,
    PromotionPlan,
    PromotionResult,
    RunAllGates,
    check_alias,
    plan_lines,
)
from console.safe_text import printable
from widgets.text import confirms
from widgets.text_viewer import TextViewer

SUGGESTED_ALIASES = ("champion", "challenger")

_MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90; max-width: 100%; height: auto; max-height: 100%;
                     border: heavy $accent; background: $surface; padding: 0 1; }}
{name} .title {{ text-style: bold; }}
{name} .error {{ color: $error; }}
{name} Horizontal {{ height: auto; }}
{name} Button {{ margin: 0 1 0 0; }}
{name} Input > .input--placeholder {{ text-style: dim italic; }}
"""


class TargetChoice(BaseModel):
    """What the operator picked: an alias (set or remove) or a stage, and an optional reason."""

    alias: str | None = None
    stage: str | None = None
    remove: bool = False
    archive_others: bool = False
    reason: str | None = None


# --- choosing the target -----------------------------------------------------------------------


class AliasChooser(ModalScreen[TargetChoice | None]):
    """Pick an existing or suggested alias, or type one; ``aliases`` maps alias → version."""

    DEFAULT_CSS = _MODAL_CSS.format(name="AliasChooser")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, model: str, version: str, aliases: dict[str, str]) -> None:
        super().__init__()
        self.model_name, self.version, self.aliases = model, version, dict(aliases)

    def compose(self) -> ComposeResult:
        options = []
        for alias in sorted({*self.aliases, *SUGGESTED_ALIASES}):
            holder = self.aliases.get(alias)
            if holder == self.version:
                label = f"{alias}  (on v{holder}: remove it)"
            elif holder:
                label = f"{alias}  (move from v{holder})"
            else:
                label = f"{alias}  (new)"
            options.append(Option(Text(printable(label)), id=alias))
        with Vertical():
            yield Label(
                Text(printable(f"Alias for {self.model_name} v{self.version}")), classes="title"
            )
            yield OptionList(*options, id="alias-options")
            yield Input(
                placeholder="or type an alias and press enter",
                id="alias-typed",
                select_on_focus=False,
            )
            yield Input(
                placeholder="reason (optional; recorded in the audit)",
                id="alias-reason",
                select_on_focus=False,
            )
            yield Label("", id="alias-error", classes="error")

    def _reason(self) -> str | None:
        return self.query_one("#alias-reason", Input).value.strip() or None

    def _choose(self, alias: str) -> None:
        try:
            check_alias(alias)
        except ValueError as exc:
            self.query_one("#alias-error", Label).update(Text(printable(str(exc))))
            return
        remove = self.aliases.get(alias) == self.version
        self.dismiss(TargetChoice(alias=alias, remove=remove, reason=self._reason()))

    @on(OptionList.OptionSelected, "#alias-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(str(event.option.id))

    @on(Input.Submitted, "#alias-typed")
    def _typed(self, event: Input.Submitted) -> None:
        self._choose(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class StageChooser(ModalScreen[TargetChoice | None]):
    """Pick a stage for the version; optionally archive the others in that stage."""

    DEFAULT_CSS = _MODAL_CSS.format(name="StageChooser")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        model: str,
        version: str,
        current_stage: str | None,
        in_stage: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.model_name, self.version = model, version
        self.current = current_stage or "None"
        # stage → the versions in it, as the registry pane shows them (None: not known)
        self.in_stage = in_stage

    def _option(self, stage: str) -> str:
        label = f"{stage}{'  (current)' if stage == self.current else ''}"
        if self.in_stage is None:
            return label
        versions = sorted(self.in_stage.get(stage, []), key=int)
        if stage == "None":
            # no stage: any number of versions are in it, none "holds" it
            count = len(versions)
            return f"{label}  · no stage; {count} version{'' if count == 1 else 's'} in it"
        shown = ", ".join(f"v{v}" for v in versions[:4]) + (" …" if len(versions) > 4 else "")
        return f"{label}  · {shown or 'no version'}"

    def compose(self) -> ComposeResult:
        options = [Option(self._option(stage), id=stage) for stage in STAGES.values()]
        with Vertical():
            yield Label(
                Text(printable(f"Stage for {self.model_name} v{self.version}")), classes="title"
            )
            yield OptionList(*options, id="stage-options")
            yield Checkbox("archive the other versions in that stage", id="stage-archive")
            yield Input(
                placeholder="reason (optional; recorded in the audit)",
                id="stage-reason",
                select_on_focus=False,
            )

    @on(OptionList.OptionSelected, "#stage-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        stage = str(event.option.id)
        archive = self.query_one("#stage-archive", Checkbox).value
        reason = self.query_one("#stage-reason", Input).value.strip() or None
        self.dismiss(
            TargetChoice(
                stage=stage,
                archive_others=archive and stage not in ("None", "Archived"),
                reason=reason,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


# --- the plan ----------------------------------------------------------------------------------

# "----": not run (an earlier gate failed): never green, never mistaken for a pass
_GATE_STYLE = {
    "PASS": "green",
    "FAIL": "bold red",
    "SKIP": "dim",
    "ERR ": "bold red",
    "----": "yellow",
}


def plan_text(
    plan: PromotionPlan, result: PromotionResult | None = None, *, full: bool = False
) -> Text:
    """The plan as literal text, gate lines coloured by their verdict; ``full`` (the ``v``
    viewer) lists every problem of every gate, whole."""
    text = Text()
    for index, line in enumerate(plan_lines(plan, full=full)):
        shown = printable(line)
        mark = line.strip()[:4]
        if index == 0:
            style = "bold"
        elif mark in _GATE_STYLE:
            style = _GATE_STYLE[mark]
        elif "REFUSED" in line or "OVERRIDE" in line:
            style = "bold red"
        elif mark == "stop":  # "stopped: at the first failed gate; not run: …"
            style = "yellow"
        else:
            style = ""
        text.append(shown + "\n", style=style)
    if result is not None:
        style = "bold green" if result.ok else "bold red"
        text.append("\n")
        text.append(printable(f"{result.outcome}: {result.message}") + "\n", style=style)
    return text


class PlanModal(ModalScreen[bool]):
    """The plan and its gates; dismisses True only on an explicit yes (or the typed name)."""

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="PlanModal")
        + """
    PlanModal VerticalScroll { height: auto; max-height: 20; }
    PlanModal #plan-typed-hint.-mismatch { color: $error; }
    """
    )
    BINDINGS = [
        Binding("escape", "answer(False)", "No"),
        Binding("n", "answer(False)", "No", show=False),
        Binding("y", "yes", "Yes", show=False),
        Binding("v", "full_text", "Full text", id="plan.full_text"),
        # the plan scrolls while the buttons (or the typed name) keep the focus
        Binding("up", "scroll_plan(-1)", "Scroll up", show=False),
        Binding("down", "scroll_plan(1)", "Scroll down", show=False),
        Binding("pageup", "scroll_plan(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_plan(10)", "Page down", show=False),
    ]
    # the rows around the plan's text: the border, the buttons, the typed name and its hint
    BORDER_ROWS, BUTTON_ROWS, TYPED_ROWS = 2, 3, 4

    def __init__(
        self,
        plan: PromotionPlan,
        result: PromotionResult | None = None,
        *,
        preface: str | None = None,
    ) -> None:
        super().__init__()
        self.plan, self.result = plan, result
        # what the whole flow does when the promotion is one step of it (a rollback)
        self.preface = preface
        # a refused or finished plan can only be closed
        self.closing_only = result is not None or bool(plan.refusal) or plan.noop
        self.typed = None if self.closing_only else plan.typed_confirmation

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.preface:
                yield Static(
                    Text(printable(self.preface, keep_newlines=True), style="bold"),
                    id="plan-preface",
                )
            # not a tab stop: focused, it took typed keys (`v` opened the viewer); `v` shows it all
            with VerticalScroll(can_focus=False):
                yield Static(plan_text(self.plan, self.result), id="plan-body")
            if self.closing_only:
                with Horizontal():
                    yield Button("Close", id="plan-no")
                return
            if self.typed is not None:
                yield Label(Text(printable(f"type {self.typed} to confirm")), id="plan-typed-hint")
                # the placeholder must not pass for typed text: it says what to type, in italics
                yield Input(
                    placeholder=printable(f"type {self.typed} to confirm"),
                    id="plan-typed",
                    select_on_focus=False,
                )
            with Horizontal():
                yield Button("No", id="plan-no", variant="primary")
                yield Button("Yes", id="plan-yes", variant="error", disabled=self.typed is not None)

    def on_mount(self) -> None:
        # the safe choice has the focus (a query, not query_one: the app may be closing under it)
        for button in self.query("#plan-no").results(Button):
            button.focus()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The plan's text gets the rows the buttons leave: at 80×24 a long plan (every gate of
        a Production promotion) pushed its first lines, the title among them, off the screen."""
        rows = self.BORDER_ROWS + self.BUTTON_ROWS
        if self.typed is not None:
            rows += self.TYPED_ROWS
        if self.preface:
            rows += 1 + self.preface.count("\n")
        for scroll in self.query(VerticalScroll).results(VerticalScroll):
            scroll.styles.max_height = max(3, min(20, self.app.size.height - rows))

    def action_scroll_plan(self, rows: int) -> None:
        for scroll in self.query(VerticalScroll).results(VerticalScroll):
            scroll.scroll_relative(y=rows, animate=False)

    def _typed_ok(self) -> bool:
        if self.typed is None:
            return True
        return confirms(self.query_one("#plan-typed", Input).value, self.typed)

    @on(Input.Changed, "#plan-typed")
    def _typing(self) -> None:
        self.query_one("#plan-yes", Button).disabled = not self._typed_ok()

    @on(Input.Submitted, "#plan-typed")
    def _typed_enter(self) -> None:
        if self._typed_ok():
            self.dismiss(True)
            return
        # enter on a wrong name used to do nothing at all: say what is expected
        hint = self.query_one("#plan-typed-hint", Label)
        hint.update(Text(printable(f"that is not {self.typed}: type {self.typed} exactly")))
        hint.add_class("-mismatch")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "plan-yes" and not self.closing_only and self._typed_ok())

    def action_yes(self) -> None:
        # `y` answers yes only where no typed confirmation is required
        if not self.closing_only and self.typed is None:
            self.dismiss(True)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_full_text(self) -> None:
        self.app.push_screen(
            TextViewer(self.plan.title, plan_text(self.plan, self.result, full=True))
        )


class PlanOverrideModal(ModalScreen[str | RunAllGates | None]):
    """A plan the gates refused, with the override the CLI has (``--force --reason``); under a
    rollback's own line (``preface``) when it is the rollback's promotion.

    Overriding needs a reason (recorded in the audit and the version's tags) and the model name
    typed again; "Close" has the focus and escape closes. Dismisses with the reason, or None.
    When the first failed gate stopped the others (shown as not run), ``g`` or "Run all gates"
    dismisses with ``RunAllGates`` (``--all-gates``): the flow runs every gate and asks again.
    """

    DEFAULT_CSS = (
        _MODAL_CSS.format(name="PlanOverrideModal")
        + """
    PlanOverrideModal > Vertical { height: 100%; max-height: 44; }
    PlanOverrideModal VerticalScroll { height: 1fr; min-height: 3; }
    PlanOverrideModal #override-title { color: $warning; text-style: bold; width: 100%; }
    PlanOverrideModal #override-problem { width: 100%; color: $error; display: none; }
    """
    )
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("v", "full_text", "Full text", id="plan.full_text"),
        Binding("g", "all_gates", "Run all gates", id="plan.all_gates"),
    ]

    def __init__(self, plan: PromotionPlan, *, preface: str | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.model_name = plan.request.model
        # what the whole flow does when the promotion is one step of it (a rollback)
        self.preface = preface
        self.not_run = [g.name for g in plan.not_run_gates]

    def compose(self) -> ComposeResult:
        failed = ", ".join(g.name for g in self.plan.failed_gates)
        title = f"Override failed gate(s) {failed}?"
        if self.not_run:
            title += f" Not run: {', '.join(self.not_run)} (g runs every gate)."
        with Vertical():
            if self.preface:
                yield Static(
                    Text(printable(self.preface, keep_newlines=True), style="bold"),
                    id="plan-preface",
                )
            with VerticalScroll(id="plan-scroll", can_focus=False):  # not a tab stop; `v`
                yield Static(plan_text(self.plan), id="plan-body")
            yield Label(
                Text(printable(f"{title} Audited, tagged. v: whole plan")),
                id="override-title",
            )
            yield Input(
                placeholder="reason (required; in the audit and the tags)",
                id="override-reason",
                select_on_focus=False,
            )
            yield Input(
                placeholder=printable(f"type {self.model_name} to confirm"),
                id="override-typed",
                select_on_focus=False,
            )
            yield Label("", id="override-problem")
            with Horizontal():
                yield Button("Close", id="plan-no", variant="primary")
                yield Button("Override", id="override-yes", variant="error", disabled=True)
                if self.not_run:
                    yield Button("Run all gates", id="override-all-gates")

    def on_mount(self) -> None:
        for button in self.query("#plan-no").results(Button):
            button.focus()

    def _reason(self) -> str:
        return self.query_one("#override-reason", Input).value.strip()

    def _ready(self) -> bool:
        typed = self.query_one("#override-typed", Input).value
        return bool(self._reason()) and confirms(typed, self.model_name)

    @on(Input.Changed)
    def _typing(self) -> None:
        self.query_one("#override-yes", Button).disabled = not self._ready()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        if self._ready():
            self.dismiss(self._reason())
            return
        if not self._reason():
            self._say("a reason is required: it goes into the audit log and the tags")
            self.query_one("#override-reason", Input).focus()
        elif event.input.id == "override-reason":
            self._say("")
            self.query_one("#override-typed", Input).focus()
        else:  # a wrong name used to be ignored without a word
            self._say(f"that is not {self.model_name}: type it exactly")

    def _say(self, problem: str) -> None:
        """The line under the fields: shown only while there is something to say."""
        label = self.query_one("#override-problem", Label)
        label.update(Text(printable(problem, limit=200)))
        label.display = bool(problem)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "override-yes" and self._ready():
            self.dismiss(self._reason())
        elif event.button.id == "override-all-gates":
            self.action_all_gates()
        else:
            self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "all_gates":
            return bool(self.not_run)  # offered only when a failure stopped the others
        return True

    def action_all_gates(self) -> None:
        if self.not_run:
            self.dismiss(RunAllGates())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_full_text(self) -> None:
        self.app.push_screen(TextViewer(self.plan.title, plan_text(self.plan, full=True)))


# --- gates in progress -------------------------------------------------------------------------

_RUNNING_MARKS = {
    "waiting": "·",
    "running": "▶",
    "passed": "✔",
    "failed": "✘",
    "error": "✘",
    "skipped": "–",
    "not_run": "–",
}


class GatesRunning(ModalScreen[None]):
    """Which gate is running, for how long, and the verdicts so far; escape or x cancels.

    Fed ``GateProgress`` items by ``PromotionDriver``; cancelling calls ``on_cancel`` (the shell
    cancels the promotion's worker, which kills a gate's child process): nothing is written.
    """

    DEFAULT_CSS = _MODAL_CSS.format(name="GatesRunning")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("x", "cancel", "Cancel", show=False),
    ]

    def __init__(self, title: str, on_cancel: Any = None, clock: Any = None) -> None:
        super().__init__()
        import time

        self.title_text = title
        self.on_cancel = on_cancel
        self.clock = clock or time.monotonic
        self.gates: dict[str, GateProgress] = {}
        self.started: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(printable(f"Checking gates: {self.title_text}")), classes="title")
            yield Static(Text("starting…"), id="gates-body")
            yield Static(
                Text("escape or x cancels (nothing has been written)", style="dim"),
                id="gates-hint",
            )

    def on_mount(self) -> None:
        self.set_interval(0.5, self._render_gates)
        self._render_gates()

    def update_gate(self, item: GateProgress) -> None:
        if item.status == "running":  # the gates run one at a time: each starts when it starts
            self.started[item.name] = self.clock()
        self.gates[item.name] = item
        if self.is_mounted:
            self._render_gates()

    def lines(self) -> Text:
        text = Text()
        now = self.clock()
        for name, item in self.gates.items():
            mark = _RUNNING_MARKS.get(item.status, "?")
            if item.status == "running":
                took = f"running… {now - self.started.get(name, now):.0f} s"
                style = "bold"
            elif item.status == "waiting":
                took, style = "waiting", "dim"
            elif item.status == "not_run":  # its detail says so: "not run (an earlier …)"
                took, style = "", "yellow"
            else:
                took = f"{item.status} ({item.seconds or 0:.1f} s)"
                style = "red" if item.status in ("failed", "error") else ""
            text.append(f"{mark} {name:<11} {took}", style=style)
            if item.detail:
                text.append(printable(f"  {item.detail}", limit=400), style="dim")  # wraps: not cut
            text.append("\n")
        return text

    def _render_gates(self) -> None:
        # a query, not query_one: the timer may fire while the modal is being taken away
        if self.gates:
            for body in self.query("#gates-body").results(Static):
                body.update(self.lines())

    def action_cancel(self) -> None:
        if self.on_cancel is not None:
            self.on_cancel()  # the shell cancels the flow and takes this modal away
        if self.app.screen is self:
            self.dismiss(None)


# --- the driver --------------------------------------------------------------------------------


class PromotionProgress(Message):
    """What the promotion is doing now (for the status bar)."""

    def __init__(self, text: str, warning: bool = False) -> None:
        super().__init__()
        self.text, self.warning = text, warning


class GatesModalHost:
    """What a driver needs to show gates while they run: ``GatesRunning`` pushed on the first
    gate's progress, updated on each, taken away when the next question comes. A driver sets
    ``app``, ``title``, ``on_cancel`` and ``gates_screen = None`` (promotions and rollbacks)."""

    app: Any
    title: str
    on_cancel: Any
    gates_screen: GatesRunning | None

    def show_gate(self, item: GateProgress) -> None:
        if self.gates_screen is None:
            self.gates_screen = GatesRunning(self.title, self.on_cancel)
            self.app.push_screen(self.gates_screen)
        self.gates_screen.update_gate(item)

    def close_progress(self) -> None:
        """Take the gates-in-progress modal away (the plan, or the outcome, comes next)."""
        screen, self.gates_screen = self.gates_screen, None
        if screen is not None and screen.is_attached and screen in self.app.screen_stack:
            if self.app.screen is screen:
                screen.dismiss(None)
            else:
                self.app.call_later(self._dismiss_later, screen)

    def _dismiss_later(self, screen: GatesRunning) -> None:
        if screen in self.app.screen_stack and self.app.screen is screen:
            screen.dismiss(None)


class PromotionDriver(GatesModalHost):
    """The driver for a promotion running as an async worker on the app's loop.

    ``confirm`` opens ``PlanModal`` on the last plan the command output and waits for the answer.
    Progress and warnings are posted to ``target`` (the app or a screen) as messages.
    """

    def __init__(
        self,
        app: Any,
        target: Any = None,
        *,
        on_cancel: Any = None,
        allow_override: bool = True,
        title: str = "",
    ) -> None:
        self.app = app
        self.target = target or app
        self.plan: PromotionPlan | None = None
        self.outputs: list[Any] = []
        self.on_cancel = on_cancel
        self.allow_override = allow_override
        self.title = title
        self.gates_screen: GatesRunning | None = None
        # the operator already saw the refused plan (in the override form)
        self.refusal_shown = False

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.target.post_message(PromotionProgress(message))

    def warn(self, message: str) -> None:
        self.target.post_message(PromotionProgress(message, warning=True))

    def output(self, item: Any) -> None:
        self.outputs.append(item)
        if isinstance(item, PromotionPlan):
            self.plan = item
        elif isinstance(item, GateProgress):
            self.show_gate(item)

    async def _ask(self, modal: ModalScreen[Any]) -> Any:
        self.close_progress()
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(value: Any) -> None:
            if not answer.done():
                answer.set_result(value)

        self.app.push_screen(modal, done)
        return await answer

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        if self.plan is None:
            return False  # nothing was shown: never confirm blind
        return bool(await self._ask(PlanModal(self.plan)))

    async def override(self, plan: PromotionPlan) -> str | None:
        """The refused plan with the override form; the reason, or None (not overridden)."""
        if not self.allow_override:
            return None
        self.refusal_shown = True
        return await self._ask(PlanOverrideModal(plan))

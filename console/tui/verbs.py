"""The console's operator verbs, each declared once: its keys, its ``:`` names, its palette title
and help line, where it applies, whether it changes the registry, and what it runs.

Everything that used to keep its own copy is generated from ``VERBS``: the app's key bindings
(``bindings()``), the ``:`` command line (``console.tui.commands``: parsing, Tab completion, the
error hint), the palette's entries for the screen in view, and the help screen's command block
(``help_lines()``). A binding's id is its verb's id, so a profile's ``keys`` table remaps it
(Textual's keymap: ``"promote.alias" = "A"``) and the help shows the key in use.

Pure data and plain functions (Textual is imported only to build bindings): ``run`` names the
app attribute path that carries the verb out — called with no argument when the verb takes
none, else with the typed argument (``""`` for none typed: ``:filter`` clears the filter),
``None`` when run from a key or the palette (the feature then asks or uses the selection), or
the verb's ``fixed`` one; ``state`` names the path that says whether it is offered here (True),
greyed (None: ``explain`` says why when its key is pressed) or not offered (False).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Argument = Literal["none", "optional", "required"]
# what a verb's argument is completed from (``ConsoleApp.completion_candidates``)
Completes = Literal["experiment", "model", "deployment", "runbook", None]
# the screens a verb is offered on (palette): anywhere, the main screen, a version in view
Where = Literal["anywhere", "main", "version"]


@dataclass(frozen=True)
class Verb:
    id: str
    title: str  # the palette's entry and the help's words
    help: str  # one line: what it does
    run: str  # app attribute path, called with the argument (``browse.go_to_model``)
    keys: str = ""  # Textual key list ("question_mark,f1"); empty: a ``:`` command only
    key_display: str | None = None
    names: tuple[str, ...] = ()  # ``:`` words, the first is the one shown
    argument: Argument = "none"
    argument_name: str = ""  # NAME, ID, EXPR (help and errors)
    completes: Completes = None
    fixed: str = ""  # the argument passed when there is none to type (focus targets)
    where: Where = "anywhere"
    mutates: bool = False  # read-only mode refuses it (greyed, with the reason)
    footer: bool = False
    # acts on the main screen's panes: typed on another screen, it returns there first
    on_main: bool = False
    state: str | None = None  # app path → bool | None (offered, greyed, not offered)
    explain: str | None = None  # app path: why a greyed verb cannot run now
    palette: bool = True


VERBS: tuple[Verb, ...] = (
    # promotions first, so they fit in the footer at 80 columns
    Verb(
        "promote.alias",
        "Alias: set, move or remove",
        "set, move or remove an alias of the version (plan, gates, confirm)",
        "promotion.action_alias",
        keys="a",
        names=("alias",),
        where="version",
        mutates=True,
        footer=True,
        state="promotion.verb_state",
        explain="promotion.explain_disabled",
    ),
    Verb(
        "promote.stage",
        "Stage: change",
        "change the version's stage (plan, gates, confirm)",
        "promotion.action_stage",
        keys="s",
        names=("stage",),
        where="version",
        mutates=True,
        footer=True,
        state="promotion.verb_state",
        explain="promotion.explain_disabled",
    ),
    Verb(
        "quit",
        "Quit",
        "leave the console",
        "exit_console",
        keys="q",
        names=("q", "q!", "quit", "exit"),
    ),
    Verb(
        "refresh",
        "Refresh",
        "reload everything and retry what failed",
        "action_refresh",
        keys="r",
        names=("refresh", "reload"),
        footer=True,
    ),
    Verb(
        "help",
        "Help",
        "the keys of the focused pane or screen, and these",
        "action_help",
        keys="question_mark,f1",
        key_display="?",
        names=("help", "h"),
        footer=True,
    ),
    Verb(
        "provenance",
        "Provenance",
        "where the version came from: run, data, code, environment, gaps",
        "provenance.action_provenance",
        keys="p",
        names=("provenance", "prov"),
        where="version",
    ),
    Verb(
        "mark",
        "Mark for compare",
        "mark the version (two marks: c compares them)",
        "provenance.action_mark",
        keys="m",
        names=("mark",),
        where="version",
    ),
    Verb(
        "compare",
        "Compare the marked versions",
        "causes, differences and the prediction probe of the two marked versions",
        "provenance.action_compare",
        keys="c",
        names=("compare",),
    ),
    Verb(
        "runbooks",
        "Runbooks",
        "choose a runbook to run, or open one by name",
        "runbooks.open_runbook",
        keys="b",
        names=("runbook", "runbooks", "rb"),
        argument="optional",
        argument_name="NAME",
        completes="runbook",
    ),
    Verb(
        "deployments",
        "Deployments",
        "what is served, in sync, healthy, drifting (there: enter or M monitor, R rollout, "
        "B rollback, T retrain)",
        "deployments.open",
        keys="D",
        names=("deployments", "deploys", "dep"),
    ),
    Verb(
        "monitor",
        "Monitor a deployment",
        "drift and realized performance of one deployment",
        "deployments.open",
        names=("monitor",),
        argument="required",
        argument_name="NAME",
        completes="deployment",
        palette=False,
    ),
    Verb(
        "history",
        "History",
        "who moved which alias or stage, when; the state at an instant; undo",
        "history.open_history",
        keys="h",
        names=("history", "hist"),
        argument="optional",
        argument_name="MODEL",
        completes="model",
        footer=True,
        state="history.verb_state",
        palette=False,  # the history feature names the model in its entry
    ),
    Verb(
        "audit",
        "Audit log",
        "promotions and runbook actions, newest first",
        "promotion.action_audit",
        names=("audit",),
    ),
    Verb(
        "experiment",
        "Experiment",
        "show one experiment's runs",
        "browse.go_to_experiment",
        names=("experiment", "exp"),
        argument="required",
        argument_name="NAME",
        completes="experiment",
        on_main=True,
        palette=False,  # one entry per experiment instead
    ),
    Verb(
        "model",
        "Model",
        "show one model's versions",
        "browse.go_to_model",
        names=("model",),
        argument="required",
        argument_name="NAME",
        completes="model",
        on_main=True,
        palette=False,
    ),
    Verb(
        "run",
        "Run",
        "open one run by its id",
        "browse.open_run",
        names=("run",),
        argument="required",
        argument_name="ID",
        on_main=True,
        palette=False,
    ),
    Verb(
        "filter",
        "Filter runs",
        "MLflow filter syntax or part of a run name",
        "filter_runs",
        names=("filter",),
        argument="optional",
        argument_name="EXPR",
        where="main",
        on_main=True,
    ),
    Verb(
        "order",
        "Sort runs",
        "by a metric, param or attribute (server side)",
        "sort_runs",
        names=("sort", "order"),
        argument="optional",
        argument_name="EXPR",
        where="main",
        on_main=True,
    ),
    Verb(
        "clear",
        "Clear run filter and sort",
        "show every run, newest first",
        "browse.clear_runs_query",
        names=("clear",),
        where="main",
        on_main=True,
    ),
    # the lists, by name (1 2 3 and tab move between the panes)
    *(
        Verb(
            f"focus.{target}",
            title,
            text,
            "focus_list",
            names=names,
            fixed=target,
            where="main",
            on_main=True,
        )
        for target, title, text, names in (
            ("experiments", "Experiments", "go to the experiments list", ("experiments", "exps")),
            ("runs", "Runs", "go to the runs of the selected experiment", ("runs", "run-list")),
            ("models", "Models", "go to the registered models", ("models", "registry")),
            ("versions", "Versions", "go to the versions of the selected model", ("versions",)),
            ("lineage", "Lineage", "go to the lineage pane", ("lineage",)),
        )
    ),
)
BY_ID: dict[str, Verb] = {verb.id: verb for verb in VERBS}


def by_name() -> dict[str, Verb]:
    """Every ``:`` word → its verb."""
    return {name: verb for verb in VERBS for name in verb.names}


def bindings() -> list[Any]:
    """The app's key bindings, one per verb with keys; ids are the verbs' (for the keymap)."""
    from textual.binding import Binding

    return [
        Binding(
            verb.keys,
            f"verb('{verb.id}')",
            verb.title.split(":")[0],
            show=verb.footer,
            key_display=verb.key_display,
            id=verb.id,
            tooltip=verb.help,
        )
        for verb in VERBS
        if verb.keys
    ]


def bound_keys(verb: Verb, keymap: Mapping[str, str] | None = None) -> list[str]:
    """The keys that run ``verb`` now, as Textual names them (a profile's ``keys`` replaces
    the default)."""
    keys = (keymap or {}).get(verb.id) or verb.keys
    return [k.strip() for k in keys.split(",") if k.strip()]


def keys_of(verb: Verb, keymap: Mapping[str, str] | None = None) -> list[str]:
    """``bound_keys`` as the help and the palette show them (``?``, ``F1``)."""
    shown = {"question_mark": "?", "f1": "F1"}
    return [shown.get(k, k) for k in bound_keys(verb, keymap)]


def unknown_keymap_ids(keymap: Mapping[str, str]) -> list[str]:
    """The ``[keys]`` entries that name no verb (typos), for a warning."""
    return sorted(set(keymap) - set(BY_ID))


def usage(verb: Verb) -> str:
    """``:runbook [NAME]``, ``:model NAME``, ``:audit``."""
    if not verb.names:
        return ""
    word = f":{verb.names[0]}"
    if verb.argument == "required":
        return f"{word} {verb.argument_name}"
    if verb.argument == "optional":
        return f"{word} [{verb.argument_name}]"
    return word


def command_hint() -> str:
    """Every ``:`` command, as the error of an unknown one lists them."""
    return " ".join(usage(v) for v in VERBS if v.names)


def help_lines(
    keymap: Mapping[str, str] | None = None, *, read_only: bool = False
) -> list[tuple[str, str, bool]]:
    """The help's command block: (keys and ``:`` usage, what it does, greyed) per verb, in
    ``VERBS`` order; mutating verbs are greyed in read-only mode; a remapped key is shown as
    mapped."""
    lines = []
    for verb in VERBS:
        if verb.id.startswith("focus."):
            continue
        keys = " ".join(keys_of(verb, keymap))
        invoke = "  ".join(part for part in (keys, usage(verb)) if part)
        lines.append((invoke, verb.help, read_only and verb.mutates))
    focus = ", ".join(usage(v) for v in VERBS if v.id.startswith("focus."))
    lines.append((focus, "go to a list", False))
    return lines


def applies(verb: Verb, where: Iterable[str]) -> bool:
    """Whether the palette offers ``verb`` on a screen that is ``where`` (its kinds)."""
    return verb.palette and (verb.where == "anywhere" or verb.where in set(where))

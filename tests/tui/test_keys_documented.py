"""The guide's key table (docs/guide/console.md) and the help screen name every key the console
binds (and no key it does not): the bindings are read from the classes, so adding a key without
documenting it fails. README's table of the keys that matter names only keys the guide's table
names and the console binds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.tui import verbs
from console.tui.app import ConsoleApp
from widgets.help_screen import GLOBAL_KEYS as STATIC_KEYS
from widgets.help_screen import command_text
from widgets.lineage_pane import LineagePane
from widgets.lineage_tree import LineageTree
from widgets.main_screen import MainScreen
from widgets.registry_pane import RegistryPane
from widgets.runs_pane import RunsPane, RunsTable
from widgets.tables import NavTable

# the help as the console shows it: the static keys and the commands generated from the verbs
GLOBAL_KEYS = STATIC_KEYS + command_text(verbs.help_lines()).plain

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "guide" / "console.md"
NAMES = {
    "slash": "/",
    "colon": ":",
    "question_mark": "?",
    "plus": "+",
    "equals_sign": None,  # a second key for +
    "minus": "-",
    "f1": "F1",
}
# keys of the shell's own (not Textual bindings): j/k in the choosers, ctrl+p is Textual's
EXTRA = {"ctrl+p", "space", "enter", "escape"}


def _bound_keys() -> set[str]:
    keys: set[str] = set()
    for cls in (ConsoleApp, MainScreen, NavTable, RunsTable, LineageTree):
        for binding in cls.BINDINGS:
            for key in binding.key.split(","):
                shown = NAMES.get(key, key)
                if shown:
                    keys.add(shown)
    return keys | EXTRA


def _screen_keys() -> set[str]:
    """Keys bound by the screens opened from the main screen (compare, plan, history, …)."""
    from widgets.audit_screen import AuditScreen
    from widgets.compare_screen import CompareScreen
    from widgets.deployments_screen import DeploymentsScreen
    from widgets.history_screen import HistoryScreen
    from widgets.monitor_screen import MonitorScreen
    from widgets.promote_modal import PlanModal
    from widgets.provenance_screen import ProvenanceScreen
    from widgets.text_viewer import TextViewer
    from widgets.version_screen import VersionScreen

    keys: set[str] = set()
    screens = (
        AuditScreen,
        CompareScreen,
        DeploymentsScreen,
        HistoryScreen,
        MonitorScreen,
        PlanModal,
        ProvenanceScreen,
        TextViewer,
        VersionScreen,
    )
    for cls in screens:
        for binding in cls.BINDINGS:
            if isinstance(binding, tuple):
                keys.update(binding[0].split(","))
            else:
                keys.update(binding.key.split(","))
    return {NAMES.get(k, k) or k for k in keys}


def _table_keys(page: Path) -> set[str]:
    text = page.read_text()
    table = text[text.index("| key | does |") :]
    table = table[: table.index("\n\n")]
    keys: set[str] = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        keys |= set(re.findall(r"`([^`]+)`", first))
    return keys


def _help_text() -> str:
    return "\n".join([GLOBAL_KEYS, RunsPane.HELP, RegistryPane.HELP, LineagePane.HELP])


def test_guide_names_every_bound_key() -> None:
    documented = _table_keys(GUIDE)
    missing = {k for k in _bound_keys() if k not in documented and k.lower() not in documented}
    assert not missing, f"keys bound but not in the guide's key table: {sorted(missing)}"


def test_help_names_every_bound_key() -> None:
    tokens = set(re.split(r"[\s,/]+", _help_text()))
    missing = {k for k in _bound_keys() if k not in tokens and k not in _help_text().split()}
    missing -= {"/"}  # the separator of "j/k": "/" has its own line, checked below
    assert not missing, f"keys bound but not in the help: {sorted(missing)}"
    assert re.search(r"^\s+/\s+filter", GLOBAL_KEYS, re.M)


@pytest.mark.parametrize("page", [GUIDE, README], ids=["guide", "README"])
def test_page_names_no_key_that_is_not_bound(page: Path) -> None:
    bound = {k.lower() for k in _bound_keys()} | {"1", "2", "3", "shift+tab", "tab"}
    # keys of the detail screens and modals the tables also name
    on_screens = {"g"} | {k.lower() for k in _screen_keys()}
    for key in _table_keys(page):
        if key.startswith(":") or " " in key or key.startswith("--"):
            continue  # commands, not keys
        assert key.lower() in bound | on_screens, f"{page.name} documents {key!r}, nothing binds it"


def test_readme_keys_are_a_subset_of_the_guides() -> None:
    """README shows the dozen keys that matter; the guide's table is the whole list."""
    extra = _table_keys(README) - _table_keys(GUIDE)
    assert not extra, f"README's key table names keys the guide's table does not: {sorted(extra)}"


@pytest.mark.parametrize(
    "module",
    [
        "compare_screen",
        "deployments_screen",
        "history_screen",
        "monitor_screen",
        "provenance_screen",
        "run_screen",
        "version_screen",
    ],
)
def test_every_screens_help_fits_the_help_modal_at_80_columns(module: str) -> None:
    """Found in tmux: the deployments help wrapped mid-sentence at 80×24 (74 columns inside)."""
    import importlib

    text = importlib.import_module(f"widgets.{module}").HELP
    long = [line for line in text.splitlines() if len(line) > 74]
    assert long == [], long

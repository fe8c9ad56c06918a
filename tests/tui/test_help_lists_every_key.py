"""Every key is reachable from `?`: at 80 columns a footer shows the first few keys only
(``a Alias s Stage r Re▏`` on the registry; the provenance footer hid ``l``), so each screen's
help must list every letter key bound there."""

from __future__ import annotations

import re
import sys

import pytest
from textual.binding import Binding

from console.tui import verbs
from console.tui.app import ConsoleApp
from widgets.compare_screen import CompareScreen
from widgets.deployments_screen import DeploymentsScreen
from widgets.detail_base import DetailScreen
from widgets.help_screen import GLOBAL_KEYS as STATIC_KEYS
from widgets.help_screen import command_text
from widgets.history_screen import HELP as HISTORY_HELP
from widgets.history_screen import HistoryScreen
from widgets.main_screen import MainScreen
from widgets.monitor_screen import MonitorScreen
from widgets.provenance_screen import ProvenanceScreen
from widgets.registry_pane import RegistryPane
from widgets.run_screen import RunScreen
from widgets.runs_pane import RunsPane
from widgets.version_screen import VersionScreen

# the help as the console shows it: the static keys and the commands generated from the verbs
GLOBAL_KEYS = STATIC_KEYS + command_text(verbs.help_lines()).plain


def _letters(*owners: type) -> set[str]:
    keys: set[str] = set()
    for owner in owners:
        for cls in owner.__mro__:
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding):
                    keys.update(k.strip() for k in binding.key.split(","))
    return {k for k in keys if len(k) == 1 and k.isalpha()}


def _listed(help_text: str) -> set[str]:
    """The keys a help text names: a key at the start of an entry, or in a `x / y` pair."""
    listed: set[str] = set()
    for line in help_text.split("\n"):
        pattern = r"(?:^|\s{2,})((?:[A-Za-z@?:/](?:\s*/\s*|,\s*|\s+or\s+|\s)?)+)\s{2,}"
        for match in re.finditer(pattern, line):
            listed.update(re.findall(r"\b[A-Za-z]\b", match.group(1)))
    return listed


def _help(screen: type) -> str:
    """The screen's help: its ``HELP``, or its module's."""
    text = getattr(screen, "HELP", None) or getattr(sys.modules[screen.__module__], "HELP", "")
    return text if isinstance(text, str) else ""


def test_the_main_screen_lists_every_key() -> None:
    help_text = GLOBAL_KEYS + RegistryPane.HELP + RunsPane.HELP
    missing = _letters(ConsoleApp, MainScreen, RegistryPane, RunsPane) - _listed(help_text)
    assert not missing, f"keys bound but not in the help: {sorted(missing)}"


@pytest.mark.parametrize(
    "screen",
    [ProvenanceScreen, RunScreen, VersionScreen, CompareScreen, DeploymentsScreen, MonitorScreen],
    ids=lambda s: s.__name__,
)
def test_each_screen_lists_its_keys(screen: type) -> None:
    help_text = _help(screen) + (_help(DetailScreen) if issubclass(screen, DetailScreen) else "")
    missing = _letters(screen) - _listed(help_text) - _listed(GLOBAL_KEYS)
    assert not missing, f"{screen.__name__}: keys bound but not in its help: {sorted(missing)}"


def test_history_lists_its_keys() -> None:
    missing = _letters(HistoryScreen) - _listed(HISTORY_HELP)
    assert not missing, f"keys bound but not in the history help: {sorted(missing)}"

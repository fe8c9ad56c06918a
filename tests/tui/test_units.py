"""Pure pieces of the console: command line, filters, sort clauses, columns, formatting and the
demo's progress protocol."""

from __future__ import annotations

import pytest

from console.mlflow.errors import Unauthorized, Unreachable
from console.model import Run
from console.tui.commands import Command, CommandError, parse_command
from console.tui.data import model_filter
from console.tui.demo import progress_record as _progress_record
from console.tui.jobs import describe_failure
from widgets.format import age, sparkline
from widgets.run_columns import choose_columns, parse_filter, parse_order
from widgets.text import Cell


def test_command_line() -> None:
    assert parse_command(":q") == Command("quit")
    assert parse_command("runs") == Command("focus.runs", "runs")
    assert parse_command(":experiment my exp") == Command("experiment", "my exp")
    assert parse_command(":sort") == Command("order", "")
    assert parse_command(":hist next-week") == Command("history", "next-week")
    assert parse_command("  ") is None
    with pytest.raises(CommandError, match="unknown command"):
        parse_command(":frobnicate")
    with pytest.raises(CommandError, match="needs an argument"):
        parse_command(":run")
    with pytest.raises(CommandError, match="takes no argument"):
        parse_command(":audit everything")


def test_every_verb_is_declared_once_and_each_surface_comes_from_it() -> None:
    """Bindings, ``:`` names, palette entries and the help all read ``console.tui.verbs``."""
    from console.tui import verbs
    from console.tui.app import ConsoleApp
    from console.tui.commands import command_names

    ids = [v.id for v in verbs.VERBS]
    assert len(ids) == len(set(ids))
    names = [n for v in verbs.VERBS for n in v.names]
    assert len(names) == len(set(names)), "a : name belongs to one verb"
    bound = {b.id: b for b in ConsoleApp.BINDINGS}
    assert set(bound) == {v.id for v in verbs.VERBS if v.keys}
    assert bound["promote.alias"].key == "a" and bound["promote.alias"].action == (
        "verb('promote.alias')"
    )
    assert set(command_names()) == set(names)
    helped = "\n".join(f"{a} {b}" for a, b, _ in verbs.help_lines())
    for verb in verbs.VERBS:
        if not verb.id.startswith("focus."):
            assert verbs.usage(verb) in helped and verb.help in helped
    remapped = verbs.help_lines({"promote.alias": "A"})
    assert remapped[0][0] == "A  :alias"
    assert verbs.unknown_keymap_ids({"promote.alias": "A", "promote.alais": "x"}) == [
        "promote.alais"
    ]
    greyed = {a: g for a, _, g in verbs.help_lines(read_only=True)}
    assert greyed["a  :alias"] and greyed["s  :stage"] and not greyed["r  :refresh"]


def test_tab_completes_arguments_from_the_servers_names() -> None:
    from console.tui.commands import complete_command, matching_arguments

    names = {"model": ["next-week-commits", "next-week-issues", "churn"], "runbook": ["x"]}

    def candidates(what: str) -> list[str]:
        return names.get(what, [])

    assert complete_command(":model ch", candidates) == ":model churn"
    assert complete_command(":model ne", candidates) == ":model next-week-"  # as far as agreed
    assert complete_command(":model next-week-", candidates) is None  # the prompt lists them
    assert matching_arguments(":model next-week-", candidates) == [
        "next-week-commits",
        "next-week-issues",
    ]
    assert complete_command(":model NE", candidates) == ":model next-week-"  # any case
    assert complete_command(":audit x", candidates) is None  # takes no argument
    assert complete_command(":run 10d5", candidates) is None  # run ids are not listed
    assert complete_command(":history ", candidates) is None  # two or more: listed
    assert complete_command(":rb ", candidates) == ":rb x"


def test_filters() -> None:
    assert parse_filter("metrics.rmse < 1") == "metrics.rmse < 1"
    assert parse_filter("fraud") == "attributes.run_name LIKE '%fraud%'"
    assert parse_filter("it's") == 'attributes.run_name LIKE "%it\'s%"'
    assert parse_filter("") is None
    assert model_filter("churn") == "name ILIKE '%churn%'"
    assert model_filter("name LIKE 'a%'") == "name LIKE 'a%'"


def _run(i: int, **params: str) -> Run:
    return Run.model_validate(
        {
            "info": {"run_id": str(i)},
            "params": {"fixed": "1", **params},
            "metrics": {"rmse": {"key": "rmse", "value": i}, "same": {"key": "same", "value": 1}},
        }
    )


def test_columns_show_what_varies_and_sort_by_them() -> None:
    columns = choose_columns([_run(1, seed="1"), _run(2, seed="2")])
    labels = [c.label for c in columns]
    assert labels == ["run", "status", "started", "rmse", "seed"]
    assert parse_order("rmse", columns) == "metrics.`rmse` DESC"
    assert parse_order("seed ASC", columns) == "params.`seed` ASC"
    assert parse_order("start_time asc", columns) == "attributes.start_time ASC"
    kept = choose_columns([_run(1), _run(2)], keep=["param:fixed"])
    assert kept[-1].order_key == "params.`fixed`"


def test_formatting() -> None:
    assert age(0, 90_000) == "1m"
    assert sparkline([1, 2, 3]) == "▁▅█"
    assert sparkline([]) == ""
    cell = Cell("\x1b[31m[b]x[/b]" + "y" * 200, limit=20)
    assert str(cell).startswith("\\x1b[31m[b]x[/b]") and len(str(cell)) == 20
    assert cell.__rich__().plain == str(cell)


def test_demo_progress_protocol() -> None:
    assert _progress_record(b'{"type": "progress", "message": "training", "fraction": 0.5}') == (
        "progress",
        "training (50%)",
    )
    assert _progress_record(b'{"type": "error", "message": "boom"}') == ("error", "boom")
    assert _progress_record(b'{"type": "result", "result": {}}') == ("result", "done")
    assert _progress_record(b"not json") == ("progress", "not json")


def test_failure_messages_say_what_and_what_to_do() -> None:
    auth = describe_failure("loading runs", Unauthorized("search runs failed: HTTP 401"))
    assert auth.startswith("loading runs: authentication failed")
    assert "MLFLOW_TRACKING_USERNAME" in auth
    down = describe_failure("loading runs", Unreachable("search runs failed: refused"))
    assert "check that the server is running" in down
    bug = describe_failure("loading runs", ValueError("x"))
    assert "unexpected ValueError" in bug


async def test_palette_offers_what_fits_the_screen(tmp_path) -> None:
    from console.settings import Settings
    from console.tui.app import build_app
    from tests.tui.fake_client import NOW, FakeClient
    from tests.tui.support import settle
    from widgets.run_screen import RunScreen

    settings = Settings(home=tmp_path, tracking_uri="http://mlflow.test")
    app = build_app(settings, client_factory=FakeClient, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Filter runs" in titles and "Experiment: next-week-commits" in titles
        assert "Back" not in titles
        # Textual's own "Keys" panel (escape did not close it) and maximize (not our zoom) are
        # not offered; its Quit and Theme are
        assert not {"Keys", "Maximize", "Minimize"} & set(titles)
        assert {"Quit", "Theme", "Help"} <= set(titles)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Back" in titles and "Filter runs" not in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        from widgets.palette import ConsolePalette

        assert isinstance(app.screen, ConsolePalette)  # the one that survives a closing search
        for ch in "Back":
            await pilot.press(ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.main


def test_tab_completes_a_command_word_as_far_as_the_known_words_agree() -> None:
    from console.tui.commands import complete_command, matching_commands

    assert complete_command("mod") == "model"  # model and models
    assert matching_commands("mod") == ["model", "models"]
    assert complete_command("model") is None  # nothing more to add: the prompt shows the matches
    assert complete_command(":aud") == ":audit"
    assert complete_command("experim") == "experiment"  # experiment, experiments
    assert complete_command("monit") == "monitor "  # one match, it takes an argument
    assert complete_command("run 10d5") is None  # only the first word is completed
    assert complete_command("zzz") is None

"""Server text reaches Textual as ``Text``/``Content``, never as markup (issue 20, finding 2).

``textual.markup.escape`` only escapes ``[`` before a letter, ``#``, ``/`` or ``@``; Textual still
parses ``[ @click=app.quit]`` (a leading space), so escaping is not a defence. These tests hold the
rule itself:

- a source scan: no markup escaping left in the console (``markup_safe``, ``escape``) and no
  parsing of markup from a variable;
- a taint test: the console runs (Pilot, a fake client) on experiment and model names carrying a
  marker, the operator opens the palette, searches it, picks an entry, marks a version, opens the
  runbook form, the history and the audit view; every call of Textual's and Rich's markup parsers
  is recorded, and none may have seen the marker;
- the palette provider's hits and the ``DataInput`` field, directly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.content import Content
from textual.fuzzy import Matcher

from console.model import Experiment, ModelVersion, Page, RegisteredModel
from console.safe_text import printable, safe_label
from console.settings import Settings
from console.tui.app import build_app
from tests.support.hostile import PAYLOADS, terminal_control
from tests.tui import fake_client
from tests.tui.fake_client import NOW, T0, FakeClient
from tests.tui.support import settle
from widgets.palette import highlighted
from widgets.text import DataInput, confirms

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "widgets").rglob("*.py"), *(ROOT / "console").rglob("*.py")]


def test_no_markup_escaping_left() -> None:
    """Escaping server text into markup is the bug: it must be ``Text``, not escaped markup."""
    offenders = []
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        for pattern in (
            r"\bmarkup_safe\b",
            r"(textual|rich)\.markup import [^\n]*\bescape\b",
            r"\bescape_markup\b",
            # markup parsed from anything but a literal (a literal is our own fixed styling)
            r"(Content|Text)\.from_markup\((?![\"'])",
            r"\bmarkup=True\b",
        ):
            for found in re.finditer(pattern, source):
                line = source.count("\n", 0, found.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {found.group(0)}")
    assert not offenders, offenders


# --- the taint test ----------------------------------------------------------------------------

TAINT = "TAINTED"
NAMES = {
    "click": f"{TAINT} palm [ @click=app.quit]MQUIT",
    "link": f"{TAINT} [ link=http://evil.example]L[/]",
    "reverse": f"{TAINT} [ reverse]R",
    "plain-click": f"{TAINT} [@click=app.quit]Q[/]",
    "osc": f"{TAINT} stmodel \x1b]2;STPWNTITLE\x1b\\\x1b]52;c;U1RQV05FRA==\x1b\\ end",
}


class HostileClient(FakeClient):
    """The fake client with experiments and one-version models named ``NAMES``."""

    experiments = [
        Experiment(experiment_id=str(100 + i), name=name, creation_time=T0)
        for i, name in enumerate(NAMES.values())
    ]
    versions = {
        name: ModelVersion(
            name=name,
            version="1",
            creation_timestamp=T0,
            current_stage="None",
            status="READY",
            run_id=f"{1:032x}",
            source="models:/m-0001",
            description=name,
            tags={"note": name},
            aliases=[],
        )
        for name in NAMES.values()
    }
    models = [
        RegisteredModel(name=name, last_updated_timestamp=T0, description=name)
        for name in NAMES.values()
    ]

    async def search_experiments_page(self, **_: object) -> Page[Experiment]:
        return Page(items=fake_client.EXPERIMENTS + self.experiments)

    async def search_registered_models_page(self, **_: object) -> Page[RegisteredModel]:
        return Page(items=self.models + fake_client.MODELS)

    async def search_model_versions_page(self, *, name=None, **kwargs):
        if name in self.versions:
            return Page(items=[self.versions[name]])
        return await super().search_model_versions_page(name=name, **kwargs)

    async def get_model_version(self, name: str, version: str) -> ModelVersion:
        if name in self.versions:
            return self.versions[name]
        return await super().get_model_version(name, version)

    async def get_registered_model(self, name: str) -> RegisteredModel:
        found = next((m for m in self.models if m.name == name), None)
        return found if found is not None else await super().get_registered_model(name)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every string Textual's or Rich's markup parser is given, while the test runs."""
    import rich.console
    import rich.markup
    import textual.markup

    seen: list[str] = []

    def recording(original):
        def parse(markup, *args, **kwargs):
            seen.append(str(markup))
            return original(markup, *args, **kwargs)

        return parse

    monkeypatch.setattr(textual.markup, "to_content", recording(textual.markup.to_content))
    monkeypatch.setattr(rich.markup, "render", recording(rich.markup.render))
    monkeypatch.setattr(rich.console, "render_markup", recording(rich.console.render_markup))
    return seen


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_no_server_name_reaches_a_markup_parser(tmp_path, parsed) -> None:
    settings = Settings(home=tmp_path, tracking_uri="http://mlflow.test")
    app = build_app(settings, client_factory=HostileClient, page_size=10, clock=lambda: NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        registry = app.main.registry_pane
        assert set(NAMES.values()) <= set(registry.models), "the hostile models were not shown"
        # the palette: discovery, then a search that finds every hostile entry, then a pick
        await pilot.press("ctrl+p")
        await settle(pilot)
        await _type(pilot, "TAINTED")
        await settle(pilot)
        await pilot.pause(0.5)
        await pilot.press("down", "enter")  # the first hit: its command runs
        await settle(pilot)
        assert app.is_running
        # the registry: each hostile model's versions, mark v1 (a toast quotes the name)
        await pilot.press("escape")
        await pilot.press("2")
        await settle(pilot)
        for _ in NAMES:
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("m")
            await settle(pilot)
            await pilot.press("escape")
            await pilot.press("j")
        # the OSC model: runbook form (prefilled), history, audit
        registry.model_table.move_cursor(row=registry.model_table.get_row_index(NAMES["osc"]))
        registry.model_table.focus()
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        field = form.query_one("#param-model", DataInput)
        assert field.value == printable(NAMES["osc"])  # drawn escaped
        assert form.values()["model"] == NAMES["osc"]  # but passed on as it is
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("escape")
        await pilot.press("colon")
        await _type(pilot, "audit")
        await pilot.press("enter")
        await settle(pilot)
        app.notify(f"toast about {NAMES['click']}", title=NAMES["link"])
        await settle(pilot)
        assert app.is_running
    tainted = [markup for markup in parsed if TAINT in markup]
    assert not tainted, f"server text parsed as markup: {tainted[:5]}"


# --- the palette's hits and the prefilled field, directly -----------------------------------------


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_palette_hits_are_plain_text(name: str) -> None:
    title = f"Model: {PAYLOADS[name]}"  # as the app yields it: the provider sanitizes
    shown = highlighted(Matcher("m"), title)
    assert isinstance(shown, Content)
    assert shown.plain == safe_label(title)  # every character shown, none taken as markup
    assert terminal_control(shown.plain, allow_newlines=False) == []
    for span in shown.spans:
        style = span.style
        assert not getattr(style, "link", None) and not getattr(style, "meta", None), span
    assert Content.from_markup(shown) is shown  # the palette does not parse it again


class _Form(App[None]):
    def compose(self) -> ComposeResult:
        yield DataInput(value=NAMES["osc"], id="field")


async def test_a_prefilled_field_shows_the_name_escaped_and_gives_it_back_real() -> None:
    app = _Form()
    async with app.run_test() as pilot:
        field = app.query_one(DataInput)
        assert field.value == printable(NAMES["osc"]) and "\x1b" not in field.value
        assert field.data_value == NAMES["osc"]
        line = "".join(segment.text for segment in field.render_line(0))
        assert "\x1b" not in line
        await pilot.press("end", "x")  # edited: what the operator typed
        assert field.data_value == printable(NAMES["osc"]) + "x"
        field.prefill("other")
        assert field.data_value == "other"
        field.prefill("")
        assert field.data_value == ""


def test_a_typed_confirmation_may_be_what_the_screen_shows() -> None:
    name = NAMES["osc"]
    assert confirms(name, name)
    assert confirms(printable(name), name)
    assert not confirms("stmodel", name)
    assert Text(printable(name)).plain == printable(name)

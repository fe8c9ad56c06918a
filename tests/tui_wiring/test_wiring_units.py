"""The wiring without a server: commands, the not-configured lineage hint, the runbook form
(defaults, masked secrets, required fields), ``:runbook NAME``, help in read-only mode, and the
palette entries."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Input

from console.settings import Settings
from console.tui.app import build_app
from console.tui.commands import Command, parse_command
from console.tui.lineage import unavailable
from console.tui.runbooks import param_fields
from tests.tui.fake_client import NOW, FakeClient
from tests.tui.support import plain, showing, wait_for
from widgets.help_screen import HelpScreen
from widgets.runbook_chooser import ParamField, RunbookForm, RunbookLaunch


def _app(tmp_path, **extra):
    settings = Settings(home=tmp_path, tracking_uri="http://mlflow.test", **extra)
    return build_app(settings, client_factory=FakeClient, page_size=10, clock=lambda: NOW)


def test_commands() -> None:
    assert parse_command(":audit") == Command("audit")
    assert parse_command(":runbook") == Command("runbooks")
    assert parse_command(":runbooks") == Command("runbooks")
    assert parse_command(":rb lineage-broken-from-mlflow-side") == Command(
        "runbooks", "lineage-broken-from-mlflow-side"
    )


async def test_a_profiles_keys_remap_a_verb_and_the_help_shows_it(tmp_path) -> None:
    """``[keys]`` in the profile: ``promote.alias = "A"``: A opens the alias flow, a no longer
    does, the help shows A; an unknown id is reported once, not applied."""
    from widgets.help_screen import HelpScreen

    app = _app(tmp_path, keys={"promote.alias": "A", "promote.alais": "x"})
    async with app.run_test(size=(120, 40)) as pilot:
        registry = app.main.registry_pane
        await wait_for(pilot, lambda: bool(registry.versions))
        assert app.keymap == {"promote.alias": "A"}
        assert any("promote.alais" in n.message for n in app._notifications)
        app.main.focus_pane(1, registry.version_table)
        await pilot.pause()
        started: list[str] = []
        app.promotion.action_alias = lambda: started.append("alias")  # type: ignore[method-assign]
        await pilot.press("a")
        await pilot.pause()
        assert started == []
        await pilot.press("A")
        await pilot.pause()
        assert started == ["alias"]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = plain(app.screen.query_one("#help-body").content)
        assert "A  :alias" in shown and "a  :alias" not in shown


def test_lineage_not_configured_says_how(tmp_path) -> None:
    production = unavailable(Settings(home=tmp_path, tracking_uri="http://mlflow.test"))
    assert production is not None and "DATAHUB_GMS_URL" in production.how
    embedded = unavailable(Settings(home=tmp_path))
    assert embedded is not None and "demo" in embedded.how and "DATAHUB_GMS_URL" in embedded.how
    gms = Settings(home=tmp_path, tracking_uri="http://mlflow.test", datahub_gms_url="http://gms")
    assert unavailable(gms) is None


async def test_lineage_pane_without_a_store(tmp_path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        registry = app.main.registry_pane
        await wait_for(pilot, lambda: bool(registry.models))
        app.main.focus_pane(1, registry.version_table)
        await wait_for(pilot, lambda: "Selected:" in _body(app))
        body = _body(app)
        assert "Lineage is not configured" in body and "DATAHUB_GMS_URL" in body


def _body(app) -> str:
    return plain(app.main.lineage_pane.query_one("#lineage-body").content)


async def test_runbook_form_defaults_secrets_and_required() -> None:
    fields = [
        ParamField("dsn", type="dsn", required=True, description="the database"),
        ParamField("days", type="float", default="30"),
        ParamField("token", type="secret", default="s3cret"),
        ParamField("uri", env="SOME_URI", env_set=True, default="http://x"),
    ]
    app = App()
    answers: list[RunbookLaunch | None] = []
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(RunbookForm("T", "summary", fields), answers.append)
        await pilot.pause()
        form = app.screen
        assert form.query_one("#param-dsn", Input).password
        assert form.query_one("#param-token", Input).password
        assert not form.query_one("#param-days", Input).password
        assert form.query_one("#param-days", Input).value == "30"
        assert form.query_one("#param-uri", Input).value == ""  # the environment supplies it
        await pilot.press("enter")  # dry run, but dsn is missing
        await pilot.pause()
        assert "dsn" in plain(form.query_one("#form-error").render())
        form.query_one("#param-dsn", Input).value = "postgresql://u:pw@h/db"
        form.query_one("#form-run").press()
        await pilot.pause()
    assert answers == [
        RunbookLaunch(
            dry_run=False,
            params={"dsn": "postgresql://u:pw@h/db", "days": "30", "token": "s3cret"},
        )
    ]


def test_param_fields_from_a_real_runbook() -> None:
    from commands.runbooks.catalog import load_runbook

    fields = {f.name: f for f in param_fields(load_runbook("mlflow-postgres-bloat"), env={})}
    assert fields["backend_dsn"].secret and fields["backend_dsn"].required
    assert not fields["backend_dsn"].env_set
    assert fields["older_than_days"].default == "30"


async def test_runbook_command_opens_the_form_and_help_greys_promotions(tmp_path) -> None:
    app = _app(tmp_path, read_only=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("colon")
        await pilot.press(*"runbook model-registry-promotion-stuck", "enter")
        await wait_for(pilot, lambda: showing(app, RunbookForm))
        assert app.screen.read_only
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "struck out: disabled, read-only mode" in plain(
            app.screen.query_one("#help-body").content
        )
        await pilot.press("escape")
        await pilot.pause()
        # typed as a command, a mutating verb is refused at once with the reason too
        started: list[str] = []
        app.promotion._start_promotion = lambda *a: started.append("x")  # type: ignore[method-assign]
        await pilot.press("colon", *"alias", "enter")
        await pilot.pause()
        assert started == [] and any("read-only" in n.message for n in app._notifications)


async def test_palette_offers_audit_runbooks_and_promotions_on_a_version(tmp_path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.runbooks.catalog is not None)
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert "Audit log" in titles and "Runbooks" in titles
        assert "Runbook: Lineage is broken on the MLflow side" in titles
        assert "Alias: set, move or remove" not in titles  # no version in view
        registry = app.main.registry_pane
        await wait_for(pilot, lambda: bool(registry.versions))
        app.main.focus_pane(1, registry.version_table)
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert {"Alias: set, move or remove", "Stage: change", "Provenance"} <= set(titles)
        helps = {c.title: c.help for c in app.get_system_commands(app.main)}
        assert helps["Alias: set, move or remove"].endswith("(a · :alias)")  # keys taught

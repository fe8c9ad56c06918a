"""The runbook form as a reviewer met it in tmux, driven through the real app with Pilot against a
real MLflow server at 80×24 and 160×48: it starts from the selected model (not the demo's default
model, which this server does not have), a failure's advice is about that failure, labels wrap
whole, and the form opens at its top with each focused field shown with its label."""

from __future__ import annotations

import uuid

from textual.widgets import Input, Label, OptionList

from console.tui.app import build_app
from tests.tui.conftest import World
from tests.tui.support import showing, wait_for
from tests.tui.test_small_terminal import (
    SIZES,
    assert_focus_visible,
    loaded,
    on_version,
)
from widgets.runbook_chooser import RunbookChooser, RunbookForm
from widgets.runbook_screen import RunbookScreen

RETRAIN = "model-retrain"
STUCK = "model-registry-promotion-stuck"


async def _open_form(pilot, app, name: str) -> RunbookForm:
    """``b``, the named runbook in the chooser, enter: its form."""
    await pilot.press("b")
    await wait_for(pilot, lambda: showing(app, RunbookChooser), 30)
    options = app.screen.query_one(OptionList)
    options.highlighted = options.get_option_index(name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: showing(app, RunbookForm), 30)
    await pilot.pause()
    return app.screen


def _field(form: RunbookForm, name: str) -> Input:
    return form.query_one(f"#param-{name}", Input)


def _label_of(form: RunbookForm, name: str) -> Label:
    return form.query_one(f"#group-{name}").query(Label).first()


def _shown(app, widget) -> bool:
    """``widget`` is drawn whole: on screen and not scrolled out of (or cut by) its frame."""
    from textual.errors import NoWidget

    try:
        geometry = app.screen.find_widget(widget)
    except NoWidget:
        return False
    region = geometry.region
    return app.screen.region.contains_region(region) and geometry.visible_region == region


def _label_text(label: Label) -> str:
    from textual.geometry import Region

    lines = label.render_lines(Region(0, 0, label.size.width, label.size.height))
    return " ".join(" ".join(strip.text for strip in lines).split())


# --- A. the model comes from the selection; a default the server lacks is not used ------------


@SIZES
async def test_the_form_starts_from_the_selected_version(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        await on_version(pilot, app, tui_world, "3")
        form = await _open_form(pilot, app, RETRAIN)
        # the selection, not the runbook's default (the demo's next-week-commits)
        assert _field(form, "model").value == tui_world.model
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        # the models table: the highlighted model; the promotion-stuck runbook has no default
        app.main.focus_pane(1, app.main.registry_pane.model_table)
        await pilot.pause()
        form = await _open_form(pilot, app, STUCK)
        assert _field(form, "model").value == tui_world.model


@SIZES
async def test_a_default_model_this_server_lacks_is_not_used(
    tui_world: World, settings_for, size, tmp_path, monkeypatch
) -> None:
    # the session's server may hold the demo's model (other tests build the demo on it): the
    # runbook is the shipped one with a default that no server here has
    from commands.runbooks import REPO_RUNBOOKS

    absent = f"absent-{uuid.uuid4().hex[:8]}"
    books = tmp_path / "runbooks"
    books.mkdir()
    shipped = (REPO_RUNBOOKS / f"{RETRAIN}.md").read_text()
    assert "default: next-week-commits" in shipped
    (books / f"{RETRAIN}.md").write_text(
        shipped.replace("default: next-week-commits", f"default: {absent}", 1)
    )
    monkeypatch.setenv("MLOPS_CONSOLE_RUNBOOKS", str(books))
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        app.main.focus_pane(0, app.main.runs_pane.experiment_table)  # no model selected
        await pilot.pause()
        form = await _open_form(pilot, app, RETRAIN)
        field = _field(form, "model")
        assert field.value == ""
        label = " ".join(str(lb.render()) for lb in form.query_one("#group-model").query(Label))
        assert "required" in label and f"{absent} is not registered" in label
        # enter is a dry run: refused, the field is needed (the demo's model is never tried)
        assert app.focused is field
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.screen is form
        assert "needed: model" in str(form.query_one("#form-error", Label).render())
        assert app.focused is field and _shown(app, _label_of(form, "model"))


@SIZES
async def test_the_advice_after_a_failure_is_about_that_failure(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        form = await _open_form(pilot, app, RETRAIN)
        _field(form, "model").value = "no-such-model"
        _field(form, "model").focus()
        await pilot.pause()
        await pilot.press("enter")  # a dry run
        await wait_for(pilot, lambda: showing(app, RunbookScreen), 30)
        screen = app.screen
        await wait_for(pilot, lambda: screen.status is not None, 60)
        assert screen.states["snapshot"] == "failed"
        item = screen.step_items["snapshot"]
        assert "no-such-model" in item["error"] and "not found" in item["error"]
        # not "the champion's provenance has no pinned snapshot"
        assert "pinned snapshot" not in item["advice"]
        assert "no model no-such-model" in item["advice"] and "`model`" in item["advice"]
        assert "pinned snapshot" not in screen.transcript_text
        # the champion of the seeded model pins no snapshot: that advice says so
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)
        form = await _open_form(pilot, app, RETRAIN)
        _field(form, "model").value = tui_world.model
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, RunbookScreen), 30)
        screen = app.screen
        await wait_for(pilot, lambda: screen.status is not None, 60)
        item = screen.step_items["snapshot"]
        assert "pins no Iceberg snapshot" in item["error"]
        assert f"mlops-console provenance {tui_world.model} " in item["advice"]


# --- B. labels wrap; the form opens at its top; a focused field is shown with its label -------


@SIZES
async def test_labels_wrap_and_each_focused_field_shows_its_label(
    tui_world: World, settings_for, size
) -> None:
    app = build_app(settings_for(tui_world.url), page_size=5)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app, tui_world)
        app.main.focus_pane(0, app.main.runs_pane.experiment_table)
        await pilot.pause()
        for name in (STUCK, RETRAIN):
            form = await _open_form(pilot, app, name)
            first = _field(form, form.fields[0].name)
            # opened at the top: the title, the summary and the first field with its label
            assert form.query_one("#form-frame").scroll_y == 0
            assert app.focused is first
            assert _shown(app, form.query_one(".title"))
            assert _shown(app, _label_of(form, form.fields[0].name))
            assert_focus_visible(app)
            # every label whole (wrapped, not cut at the border)
            width = form.query_one("#form-params").content_region.width
            for param in form.fields:
                label = _label_of(form, param.name)
                assert label.outer_size.width <= width, param.name  # not wider than the form
                text = _label_text(label)
                assert " ".join(param.description.split()) in text, (param.name, text)
            # tab down through every field, then back up: each field comes with its label
            names = [p.name for p in form.fields]
            for param in names[1:]:
                await pilot.press("tab")
                await pilot.pause()
                assert app.focused is _field(form, param)
                assert_focus_visible(app)
                assert _shown(app, _label_of(form, param)), param
            for _ in range(3):  # the buttons
                await pilot.press("tab")
                await pilot.pause()
                assert_focus_visible(app)
            for param in reversed(names):
                while app.focused is not _field(form, param):
                    await pilot.press("shift+tab")
                    await pilot.pause()
                assert_focus_visible(app)
                assert _shown(app, _label_of(form, param)), param
            # back on the first field: the runbook's title is in view again
            assert _shown(app, form.query_one(".title"))
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.main)


async def test_read_only_refuses_run_at_once_on_the_form(tui_world: World, settings_for) -> None:
    """Read-only: Run of a runbook with actions is refused on the form, before any check or gate
    runs (it once ran the checks and about 15 s of gates, then refused); a dry run is offered."""
    import time

    from textual.widgets import Button, Static

    app = build_app(settings_for(tui_world.url, read_only=True), page_size=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app, tui_world)
        await on_version(pilot, app, tui_world, "3")
        form = await _open_form(pilot, app, RETRAIN)
        note = " ".join(str(s.render()) for s in form.query(Static))
        assert "read-only mode: Run is refused" in note
        started = time.monotonic()
        form.query_one("#form-run", Button).press()
        await pilot.pause(0.2)
        assert time.monotonic() - started < 2
        assert app.screen is form  # not the runner: nothing ran
        assert "Run is refused" in str(form.query_one("#form-error", Label).render())
        toasts = [str(n.message) for n in app._notifications]
        assert any("read-only mode: Run is refused" in t for t in toasts), toasts
        # the dry run still goes
        form.query_one("#form-dry", Button).press()
        await wait_for(pilot, lambda: showing(app, RunbookScreen), 30)

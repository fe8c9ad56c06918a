"""Where the console lands when the first runs appear after it started (the first-start demo
build, issue 21 finding 5): on the experiment holding the most recent run, once a reload sees
it — unless the operator moved the cursor off where the console landed. A real MLflow server of
its own (the shared one has runs)."""

from __future__ import annotations

from pathlib import Path

from console.tui.app import build_app
from tests.support.servers import start_mlflow_server
from tests.tui.support import wait_for


async def test_lands_again_when_the_first_runs_appear_unless_moved(
    tmp_path: Path, settings_for
) -> None:
    from mlflow import MlflowClient

    server = start_mlflow_server(tmp_path / "mlflow")
    try:
        client = MlflowClient(server.url)
        other = client.create_experiment("other")  # the newest experiment: listed first

        # the operator moved: a reload that sees runs keeps their choice
        app = build_app(settings_for(server.url), page_size=5)
        async with app.run_test(size=(160, 48)) as pilot:
            pane = app.main.runs_pane
            await wait_for(pilot, lambda: {"0", other} <= set(pane.experiments), 60)
            landed = pane.experiment_table.current_key
            app.main.runs_pane.experiment_table.focus()
            await pilot.press("j" if landed == other else "k")
            moved = "0" if landed == other else other
            await wait_for(pilot, lambda: pane.experiment_table.current_key == moved, 30)
            first = client.create_experiment("first-runs")
            run = client.create_run(first)
            app.action_refresh()
            await wait_for(pilot, lambda: first in pane.experiments, 60)
            await pilot.pause(1.0)
            assert pane.experiment_table.current_key == moved
            assert pane.experiment is not None and pane.experiment.experiment_id == moved
        client.delete_run(run.info.run_id)  # no active run again

        # untouched: the reload lands on the experiment holding the most recent run
        app = build_app(settings_for(server.url), page_size=5)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.main.runs_pane
            await wait_for(pilot, lambda: first in pane.experiments, 60)
            assert pane.runs_table.row_count == 0
            built = client.create_experiment("built")
            run = client.create_run(built)
            app.action_refresh()
            await wait_for(pilot, lambda: pane.experiment_table.current_key == built, 60)
            await wait_for(pilot, lambda: pane.runs_table.row_count == 1, 60)
            assert pane.experiment is not None and pane.experiment.experiment_id == built
            assert pane.runs_table.current_key == run.info.run_id
    finally:
        server.stop()

"""demo advance and monitor on the real demo: a real MLflow server, Iceberg catalog, MLflow's
own scoring server as the deployment, and the inference log written per the contract."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from dataclasses import dataclass

import pytest

from commands.demo import future
from commands.demo.advance import serving_rows
from commands.demo.config import MODEL_NAME, TABLE_IDENT, DemoConfig
from console.cli import main
from tests.monitor.conftest import DemoWorld
from tests.support.inference import (
    log_traffic,
    start_scoring_server,
    write_deployment_record,
)
from tests.tui.support import showing

SHORT_WINDOW = {"lag_1", "lag_2", "mean_4", "std_4", "ratio_4_12"}
SLOW = {"lag_4", "mean_12"}


def _catalog(world: DemoWorld):
    from commands.demo import lake

    return lake.open_catalog(world.paths.catalog_db, world.paths.warehouse)


def _snapshots(world: DemoWorld) -> list[int]:
    return [s.snapshot_id for s in _catalog(world).load_table(TABLE_IDENT).snapshots()]


def _cli_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_advance_appends_a_week_once_and_says_when_no_deployment(world: DemoWorld, capsys) -> None:
    config = DemoConfig()
    before = _snapshots(world)
    code, doc = _cli_json(capsys, *world.cli(), "demo", "advance", "--weeks", "1", "--json")
    assert code == 0
    assert doc["status"] == "advanced"
    assert doc["weeks_added"] == [config.total_weeks]
    assert doc["rows_added"] == 7 * config.repos
    assert "no embedded deployment" in doc["traffic_note"]
    assert doc["traffic"] == []
    assert doc["regime"]["repos"] == future.regime_repos(config)
    after = _snapshots(world)
    assert len(after) == len(before) + 1
    # the new week is exactly what the seeded generator says, whatever else happened
    table = _catalog(world).load_table(TABLE_IDENT)
    rows = table.scan().to_pandas()
    week_start = config.start.toordinal() + 7 * config.total_weeks
    new = rows[rows["day"].map(lambda d: d.toordinal() >= week_start)]
    expected = future.future_week(config, config.total_weeks)
    assert sorted(map(tuple, new[["repo", "commits"]].to_numpy().tolist())) == sorted(
        map(tuple, expected[["repo", "commits"]].to_numpy().tolist())
    )
    # advancing to a week that exists changes nothing
    code, again = _cli_json(
        capsys, *world.cli(), "demo", "advance", "--to-week", str(config.total_weeks), "--json"
    )
    assert code == 0 and again["status"] == "unchanged" and again["weeks_added"] == []
    assert _snapshots(world) == after


@dataclass
class Drifted:
    """The champion served by MLflow's scoring server for five new weeks of a regime change."""

    version: str
    advance: dict  # what `demo advance --json` printed
    logged: int
    weeks: list[int]
    deployment: str = "nwc-test"


@pytest.fixture(scope="module")
def drifted(world: DemoWorld) -> Drifted:
    """Five weeks advanced with traffic through a real deployment and its inference log.

    Module-scoped and first used after the one-week test above, which expects the demo as built.
    """
    config = DemoConfig()
    version = world.result.champion_version
    scoring = start_scoring_server(
        world.server.url, f"models:/{MODEL_NAME}/{version}", world.home / "scoring"
    )
    try:
        write_deployment_record(world.home, "nwc-test", scoring.url, MODEL_NAME, version)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main([*world.cli(), "demo", "advance", "--weeks", "5", "--json"])
        advance = json.loads(printed.getvalue())
        assert code == 0, advance
        first = config.total_weeks + 1
        # the deployment's inference log: every new week's rows, as the predict service logs them
        table = _catalog(world).load_table(TABLE_IDENT)
        weeks = list(range(config.total_weeks, first + 5))
        per_week = serving_rows(table.scan().to_pandas(), config, weeks)
        catalog = _catalog(world)
        logged = sum(
            log_traffic(
                catalog,
                scoring.url,
                rows,
                deployment="nwc-test",
                model=MODEL_NAME,
                version=version,
            )
            for rows in per_week.values()
        )
    finally:
        scoring.stop()
    return Drifted(version=version, advance=advance, logged=logged, weeks=weeks)


def test_regime_change_is_detected_on_the_features_it_touches(
    world: DemoWorld, drifted: Drifted, capsys
) -> None:
    from commands.monitor import run_monitor

    config = DemoConfig()
    version, logged, weeks, doc = drifted.version, drifted.logged, drifted.weeks, drifted.advance
    first = config.total_weeks + 1
    assert doc["weeks_added"] == list(range(first, first + 5))
    (traffic,) = doc["traffic"]
    assert traffic["deployment"] == "nwc-test"
    assert traffic["rows"] == traffic["answered"] == 5 * config.repos
    assert traffic["error"] is None
    assert logged == len(weeks) * config.repos
    report = asyncio.run(run_monitor(world.settings(), MODEL_NAME, "champion"))
    assert report.version == version
    assert report.inference_rows == logged
    moved = {d.feature for d in report.drift if d.drifted}
    assert moved >= SHORT_WINDOW, report.drift
    assert not (SLOW & moved), report.drift
    for d in report.drift:
        assert set(d.sources) == {"inference_log", "newest_snapshot"}
        assert d.test == "ks_2samp" and 0 <= d.statistic <= 1
    assert report.drift_share == pytest.approx(len(moved) / 8)
    # labels have arrived for every served week but the newest
    assert [w.window for w in report.performance] == [
        str(config.start.fromordinal(config.start.toordinal() + 7 * (w + 1))) for w in weeks[:-1]
    ]
    assert all(w.rows == config.repos and w.source == "inference_log" for w in report.performance)
    assert all(w.metric == "f1_macro" and 0 <= w.value <= 1 for w in report.performance)
    assert report.baseline_metric == "holdout_f1_macro"
    assert report.retrain_suggested
    assert any("features drifted" in r for r in report.reasons)

    # the CLI prints the contract's keys and exits 1 when a retrain is suggested
    code, doc = _cli_json(capsys, *world.cli(), "monitor", MODEL_NAME, "--json")
    assert code == 1
    for key in ("model", "version", "drift", "drift_share", "performance", "retrain_suggested"):
        assert key in doc
    assert {"feature", "statistic", "drifted"} <= set(doc["drift"][0])
    assert {"window", "metric", "value"} <= set(doc["performance"][0])
    assert doc["reasons"]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_the_monitoring_screen_shows_the_real_report(
    world: DemoWorld, drifted: Drifted, size
) -> None:
    """`:monitor nwc-test` in the console runs the real command on the drifted demo: the drift
    table, the weekly performance and the verdict are the command's, at both sizes."""
    from textual.widgets import Sparkline

    from console.tui.app import build_app
    from console.tui.commands import parse_command
    from tests.tui.support import plain, table_texts, wait_for
    from widgets.monitor_screen import MonitorScreen

    app = build_app(world.settings(), build_demo=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.connection.client is not None, within=120)
        app.execute(parse_command(f":monitor {drifted.deployment}"))
        await wait_for(pilot, lambda: showing(app, MonitorScreen), within=120)
        screen = app.screen
        done = lambda: screen.state is not None and not screen.state.checking  # noqa: E731
        await wait_for(pilot, lambda: done() and (screen.state.report or screen.state.error), 300)
        assert screen.state.error is None, screen.state.error
        report = screen.state.report
        assert report.version == drifted.version and report.retrain_suggested
        cells = table_texts(screen.table)
        rows = {cells[i]: cells[i + 2] for i in range(0, len(cells), 3)}
        assert {f for f, mark in rows.items() if mark == "DRIFT"} >= SHORT_WINDOW
        assert all(rows[f] == "ok" for f in SLOW)
        summary = plain(screen.query_one("#monitor-summary").content, width=300)
        assert f"{MODEL_NAME} v{drifted.version}" in summary and "drift share" in summary
        (spark,) = screen.query(Sparkline)
        assert list(spark.data) == [w.value for w in report.performance]
        weeks = plain(screen.query("#monitor-performance Static").last().content, width=300)
        assert report.performance[-1].window in weeks
        verdict = plain(screen.query_one("#monitor-verdict").content, width=300)
        assert "RETRAIN SUGGESTED" in verdict and "features drifted" in verdict
        # the focused drift table is on screen, whole, at this size
        geometry = screen.find_widget(screen.table)
        assert screen.region.contains_region(geometry.region)


def test_thresholds_come_from_the_profile(world: DemoWorld, tmp_path) -> None:
    from commands.monitor import run_monitor

    config = tmp_path / "config.toml"
    config.write_text(
        "[profiles.strict.monitoring.next-week-commits]\n"
        "p_value = 1e-9\n"
        "drift_share = 0.9\n"
        "performance_drop = 1.0\n"
    )
    settings = world.settings(MLOPS_CONSOLE_CONFIG=str(config), MLOPS_CONSOLE_PROFILE="strict")
    report = asyncio.run(run_monitor(settings, MODEL_NAME, "champion"))
    assert report.thresholds["p_value"] == 1e-9
    drifted = {d.feature for d in report.drift if d.drifted}
    assert drifted < SHORT_WINDOW  # fewer features cross the stricter p-value
    assert not report.retrain_suggested and report.reasons == []


def test_monitor_without_inference_log_scores_the_new_weeks_itself(world: DemoWorld) -> None:
    # the scenario versions have no deployment: their realized performance is scored offline
    from mlflow import MlflowClient

    from commands.monitor import run_monitor

    version = world.result.scenario_versions[0]
    MlflowClient(world.server.url).set_registered_model_alias(MODEL_NAME, "shadow", version)
    report = asyncio.run(run_monitor(world.settings(), MODEL_NAME, "shadow"))
    assert report.inference_rows == 0
    assert {d.feature for d in report.drift} and all(
        set(d.sources) == {"newest_snapshot"} for d in report.drift
    )
    assert report.performance and all(w.source == "newest_snapshot" for w in report.performance)
    assert any("offline" in g for g in report.gaps)


def test_monitor_someone_elses_model_says_what_is_missing(world: DemoWorld, capsys) -> None:
    import mlflow
    import numpy as np
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(world.server.url)
    mlflow.set_experiment("plain-sklearn")
    x = np.random.default_rng(0).normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            LogisticRegression().fit(x, y), name="model", registered_model_name="plain"
        )
    MlflowClient(world.server.url).set_registered_model_alias("plain", "champion", "1")
    capsys.readouterr()  # MLflow's own client prints run links
    code, doc = _cli_json(capsys, *world.cli(), "monitor", "plain", "--json")
    assert code == 0
    assert doc["drift"] == [] and doc["drift_share"] is None and doc["performance"] == []
    assert doc["retrain_suggested"] is False
    assert any("no pinned training snapshot" in g for g in doc["gaps"])


def test_monitor_unknown_model_is_one_line(world: DemoWorld, capsys) -> None:
    code = main([*world.cli(), "monitor", "no-such-model"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and "no-such-model" in err and "Traceback" not in err


def test_advance_is_refused_read_only(world: DemoWorld, capsys) -> None:
    code = main([*world.cli(), "--read-only", "demo", "advance"])
    assert code == 3
    assert "read-only" in capsys.readouterr().err

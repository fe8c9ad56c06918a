"""The monitoring report of a known inference log, pinned: every drift test, every week's realized
performance, the verdict and its reasons.

Real data: the demo built on a real MLflow server, advanced ten weeks, and a log written through
``commands.inference_log`` with the champion's own predictions (each week's rows served three
times), plus what a real log also holds: a row whose ``inputs`` is broken JSON, a row served
again with its numbers a rounding error apart, rows of another version and of another model.
The pinned figures were produced by the row-by-row implementation this replaced.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from commands.demo.config import MODEL_NAME, TABLE_IDENT, DemoConfig
from tests.monitor.conftest import DemoWorld

WEEKS = 10
REPEAT = 3
# feature -> source -> (statistic, p-value, drifted, rows tested, reference rows)
DRIFT = {
    "lag_1": {
        "inference_log": (0.179554, 1.0649539828277302e-13, True, 721, 1344),
        "newest_snapshot": (0.187831, 3.2080974665595853e-06, True, 216, 1344),
    },
    "lag_2": {
        "inference_log": (0.164196, 1.6068072283706214e-11, True, 721, 1344),
        "newest_snapshot": (0.167824, 4.741458704930043e-05, True, 216, 1344),
    },
    "lag_3": {
        "inference_log": (0.146064, 3.3398599173575816e-09, True, 721, 1344),
        "newest_snapshot": (0.152447, 0.0003047811995986562, True, 216, 1344),
    },
    "lag_4": {
        "inference_log": (0.135511, 5.5797988041846886e-08, True, 721, 1344),
        "newest_snapshot": (0.140956, 0.0010879139824979444, True, 216, 1344),
    },
    "mean_4": {
        "inference_log": (0.179352, 1.1410721063146078e-13, True, 721, 1344),
        "newest_snapshot": (0.180886, 8.461852148403e-06, True, 216, 1344),
    },
    "std_4": {
        "inference_log": (0.178911, 1.3259058098613708e-13, True, 721, 1344),
        "newest_snapshot": (0.179977, 9.581301725972397e-06, True, 216, 1344),
    },
    "mean_12": {
        "inference_log": (0.103004, 8.571576097701144e-05, True, 721, 1344),
        "newest_snapshot": (0.09036, 0.08961106938066604, False, 216, 1344),
    },
    "ratio_4_12": {
        "inference_log": (0.174432, 5.968809074241152e-13, True, 721, 1344),
        "newest_snapshot": (0.211475, 8.91142159317709e-08, True, 216, 1344),
    },
}
# window -> (macro F1 of the served predictions against the labels, rows)
PERFORMANCE = {
    "2025-04-28": (0.669775, 24),
    "2025-05-05": (0.625121, 24),
    "2025-05-12": (0.712222, 24),
    "2025-05-19": (0.649295, 24),
    "2025-05-26": (0.838095, 24),
    "2025-06-02": (0.587179, 24),
    "2025-06-09": (0.789008, 24),
    "2025-06-16": (0.672439, 24),
    "2025-06-23": (0.714646, 24),
}
REASONS = [
    "8 of 8 features drifted (share 1.00 ≥ 0.30, p < 0.01): lag_1, lag_2, lag_3, lag_4, "
    "mean_4, std_4, mean_12, ratio_4_12"
]


@pytest.fixture(scope="module")
def logged(world: DemoWorld) -> str:
    """The champion's version, after ten weeks of its traffic were written to the log."""
    import mlflow
    import pandas as pd

    from commands import inference_log
    from commands.demo import lake
    from commands.demo.advance import advance_demo, serving_rows
    from commands.driver import QuietDriver

    config = DemoConfig()
    version = world.result.champion_version
    advance_demo(world.paths, QuietDriver(), to_week=config.total_weeks + WEEKS - 1, send=False)
    catalog = lake.open_catalog(world.paths.catalog_db, world.paths.warehouse)
    daily = catalog.load_table(TABLE_IDENT).scan().to_pandas()
    weeks = list(range(config.total_weeks, config.total_weeks + WEEKS))
    per_week = serving_rows(daily, config, weeks)
    mlflow.set_tracking_uri(world.server.url)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")
    first_day = datetime(2026, 1, 5, tzinfo=UTC)

    def request(rows, outputs, *, week: int, version: str = version, model: str = MODEL_NAME):
        return inference_log.LoggedRequest(
            request_id=uuid.uuid4().hex,
            deployment="pinned",
            model=model,
            version=version,
            alias="champion",
            inputs=rows,
            outputs=outputs,
            latency_ms=2.0,
            time=first_day + timedelta(weeks=week),
        )

    predicted: list = []
    for i, week in enumerate(weeks):
        rows = per_week[week]
        predicted = [{"bucket": str(p)} for p in model.predict(pd.DataFrame(rows))]
        records = inference_log.to_records([request(rows * REPEAT, predicted * REPEAT, week=i)])
        inference_log.append(catalog, records)
    last = per_week[weeks[-1]]
    again = [{**last[0], "lag_1": last[0]["lag_1"] + 1e-9}]
    odd = inference_log.to_records(
        [
            request(again, predicted[:1], week=WEEKS),
            request(last[:2], [{"bucket": "high"}] * 2, week=WEEKS, version="999"),
            request(last[:2], [{"bucket": "high"}] * 2, week=WEEKS, model="someone-else"),
        ]
    )
    broken = {**odd[0], "inputs": '{"lag_1": 3.0, "lag_2": ', "request_id": uuid.uuid4().hex}
    inference_log.append(catalog, [*odd, broken])
    return version


def test_the_report_of_a_known_log_is_pinned(world: DemoWorld, logged: str) -> None:
    from commands.monitor import run_monitor

    report = asyncio.run(run_monitor(world.settings(), MODEL_NAME, "champion"))
    assert report.version == logged
    # 30 rows a week for ten weeks, the row served again and the broken row (the other version's
    # and the other model's rows are not this version's); the broken row is tested by no feature
    assert report.inference_rows == REPEAT * DemoConfig().repos * WEEKS + 2
    assert report.gaps == []
    drift = {
        d.feature: {
            source: (t.statistic, t.p_value, t.drifted, t.rows, t.reference_rows)
            for source, t in d.sources.items()
        }
        for d in report.drift
    }
    assert drift.keys() == DRIFT.keys()
    for feature, sources in DRIFT.items():
        assert drift[feature].keys() == sources.keys(), feature
        for source, (statistic, p_value, drifted, rows, reference_rows) in sources.items():
            got = drift[feature][source]
            assert got[0] == statistic, (feature, source)
            assert got[1] == pytest.approx(p_value, rel=1e-9), (feature, source)
            assert got[2:] == (drifted, rows, reference_rows), (feature, source)
    assert all(d.test == "ks_2samp" and d.source == "inference_log" for d in report.drift)
    assert report.drift_share == 1.0
    assert {w.window: (w.value, w.rows) for w in report.performance} == PERFORMANCE
    assert [w.window for w in report.performance] == list(PERFORMANCE)
    assert all(w.metric == "f1_macro" and w.source == "inference_log" for w in report.performance)
    assert report.baseline_metric == "holdout_f1_macro"
    assert report.retrain_suggested and report.reasons == REASONS

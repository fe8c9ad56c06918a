"""Benchmark: ``monitor`` on a year of inference log (52 weeks of rows written per the contract).

Builds the demo lifecycle on a fresh MLflow server in a temp directory (or reuses one:
``--tracking-uri URL --home DIR``), advances it a year (idempotent per week), writes 52 weeks of
inference log rows for the champion through ``commands.inference_log`` — one append per week, the
week's feature rows repeated to ``--rows-per-week`` with the champion's real predictions — then
times ``run_monitor`` in process (the worker process included) and ``mlops-console monitor
--json`` in a new process. Run: ``uv run python benchmarks/bench_monitor.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands.demo.config import MODEL_NAME, DemoConfig  # noqa: E402
from console.settings import Settings  # noqa: E402

WEEKS = 52


def fill_log(settings: Settings, version: str, rows_per_week: int) -> tuple[int, float]:
    """A year of the champion's traffic in the inference log; (rows written, seconds)."""
    import mlflow
    import pandas as pd

    from commands import inference_log
    from commands.demo import lake
    from commands.demo.advance import advance_demo, serving_rows
    from commands.demo.config import TABLE_IDENT
    from commands.demo.result import DemoPaths
    from commands.driver import QuietDriver

    config = DemoConfig()
    paths = DemoPaths.for_home(settings.home)
    advance_demo(paths, QuietDriver(), to_week=config.total_weeks + WEEKS - 1, send=False)
    catalog = lake.open_catalog(paths.catalog_db, paths.warehouse)
    daily = catalog.load_table(TABLE_IDENT).scan().to_pandas()
    weeks = list(range(config.total_weeks, config.total_weeks + WEEKS))
    per_week = serving_rows(daily, config, weeks)
    mlflow.set_tracking_uri(str(settings.tracking_uri))
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")
    started = time.perf_counter()
    written = 0
    first_day = datetime.now(UTC) - timedelta(weeks=WEEKS)
    for i, week in enumerate(weeks):
        rows = per_week[week]
        predicted = [str(p) for p in model.predict(pd.DataFrame(rows))]
        repeat = max(1, rows_per_week // len(rows))
        request = inference_log.LoggedRequest(
            request_id=uuid.uuid4().hex,
            deployment="bench",
            model=MODEL_NAME,
            version=version,
            alias="champion",
            inputs=rows * repeat,
            outputs=[{"bucket": p} for p in predicted] * repeat,
            latency_ms=3.0,
            time=first_day + timedelta(weeks=i),
        )
        records = inference_log.to_records([request])
        inference_log.append(catalog, records)
        written += len(records)
    return written, time.perf_counter() - started


def cli_monitor(settings: Settings) -> float:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "console", "monitor", MODEL_NAME, "--json",
         "--home", str(settings.home), "--tracking-uri", str(settings.tracking_uri)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode not in (0, 1):
        raise SystemExit(f"monitor failed: {out.stderr.strip()}")
    return time.perf_counter() - started


async def champion(settings: Settings) -> str:
    from console.mlflow.client import MlflowRestClient

    async with MlflowRestClient(str(settings.tracking_uri)) as client:
        return (await client.get_model_version_by_alias(MODEL_NAME, "champion")).version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="a server that already holds the demo")
    parser.add_argument("--home", type=Path, help="the console home of that demo")
    parser.add_argument("--rows-per-week", type=int, default=2400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = None
    if args.tracking_uri and args.home:
        uri, home = args.tracking_uri, args.home
    else:
        from commands.demo.pipeline import build_demo
        from commands.demo.result import DemoPaths
        from commands.driver import QuietDriver
        from tests.support.servers import start_mlflow_server

        work = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
        server = start_mlflow_server(work / "mlflow")
        uri, home = server.url, work / "home"
        print("building the demo lifecycle…", file=sys.stderr)
        build_demo(DemoPaths.for_home(home), uri, QuietDriver())
    try:
        from commands.monitor import run_monitor

        settings = Settings(home=home, tracking_uri=uri)
        version = asyncio.run(champion(settings))
        print(f"writing {WEEKS} weeks of inference log for v{version}…", file=sys.stderr)
        rows, fill_s = fill_log(settings, version, args.rows_per_week)
        times, report = [], None
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = asyncio.run(run_monitor(settings, MODEL_NAME, "champion"))
            times.append(time.perf_counter() - started)
        cli_s = [cli_monitor(settings) for _ in range(2)]
        assert report is not None
        print(f"inference log: {report.inference_rows:,} rows of v{version} ({rows:,} written "
              f"in {WEEKS} appends, {fill_s:.1f} s)")  # fmt: skip
        print(
            f"run_monitor (worker included): median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s over {len(times)}; {len(report.performance)} weeks of "
            f"performance, drift share {report.drift_share}"
        )
        print(f"mlops-console monitor --json, new process: median {statistics.median(cli_s):.2f} s")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

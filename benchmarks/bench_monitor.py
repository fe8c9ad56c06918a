"""Benchmark: ``monitor`` on a year of inference log (52 weeks of rows written per the contract).

Builds the demo lifecycle on a fresh MLflow server in a temp directory (or reuses one:
``--tracking-uri URL --home DIR``), advances it a year (idempotent per week), writes 52 weeks of
inference log rows for the champion through ``commands.inference_log`` — one append per week, the
week's feature rows repeated to ``--rows-per-week`` with the champion's real predictions; skipped
when the log already holds rows of that version, so a reused home is not filled twice — then
times ``run_monitor`` in process (the worker process included) and ``mlops-console monitor
--json`` in a new process, wall and CPU (this process and its children), with the load average.

Each is timed twice over: **cold**, every process compiling the packages and the console from
source (a ``PYTHONPYCACHEPREFIX`` holding only the standard library's bytecode, and
``PYTHONDONTWRITEBYTECODE``: how a ``uv sync`` venv runs on a machine that sets
``PYTHONDONTWRITEBYTECODE``, as these do), and **warm**, with the bytecode written by a first run
into a prefix of its own (an installed console's state). The venv is not touched.
Run: ``uv run python benchmarks/bench_monitor.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
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
    logged = logged_rows(catalog, version)
    if logged:
        print(f"the log already holds {logged:,} rows of v{version}: not written again",
              file=sys.stderr)  # fmt: skip
        return logged, 0.0
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


def logged_rows(catalog, version: str) -> int:
    from pyiceberg.expressions import And, EqualTo

    from commands import inference_log

    table = inference_log.open_log(catalog, create=False)
    if table is None or table.current_snapshot() is None:
        return 0
    condition = And(EqualTo("model", MODEL_NAME), EqualTo("version", version))
    return table.scan(row_filter=condition, selected_fields=("version",)).to_arrow().num_rows


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stdlib_bytecode(prefix: Path) -> None:
    """Compile the standard library into ``prefix``: an installed Python has its bytecode."""
    script = (
        "import compileall, re, sysconfig; compileall.compile_dir(sysconfig.get_paths()['stdlib'],"
        " quiet=1, workers=0, rx=re.compile(r'/(test|tests|idlelib|site-packages)/'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    subprocess.run([sys.executable, "-c", script], env=env, check=True)


def bytecode(mode: str, prefix: Path) -> None:
    """Set this process's environment (which every child inherits) for ``mode``."""
    stdlib_bytecode(prefix)
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    if mode == "cold":
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def timed_monitor(settings: Settings):
    """(wall s, CPU s of this process and its children, report) of one ``run_monitor``."""
    from commands.monitor import run_monitor

    wall, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
    report = asyncio.run(run_monitor(settings, MODEL_NAME, "champion"))
    cpu = time.process_time() - cpu + children_cpu() - children
    return time.perf_counter() - wall, cpu, report


def cli_monitor(settings: Settings) -> tuple[float, float]:
    """(wall s, CPU s of the process and its worker) of ``mlops-console monitor --json``."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    children = children_cpu()
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "console", "monitor", MODEL_NAME, "--json",
         "--home", str(settings.home), "--tracking-uri", str(settings.tracking_uri)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode not in (0, 1):
        raise SystemExit(f"monitor failed: {out.stderr.strip()}")
    return time.perf_counter() - started, children_cpu() - children


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
    prefixes = Path(tempfile.mkdtemp(prefix="bench-monitor-pyc-"))  # bytecode, removed at the end
    try:
        settings = Settings(home=home, tracking_uri=uri)
        version = asyncio.run(champion(settings))
        print(f"writing {WEEKS} weeks of inference log for v{version}…", file=sys.stderr)
        rows, fill_s = fill_log(settings, version, args.rows_per_week)
        print(f"inference log: {rows:,} rows of v{version} ({WEEKS} appends, {fill_s:.1f} s)")
        for mode in ("cold", "warm"):
            bytecode(mode, prefixes / mode)
            if mode == "warm":
                cli_monitor(settings)  # writes the bytecode of the CLI and of the worker
            load = os.getloadavg()[0]
            runs = [timed_monitor(settings) for _ in range(args.repeat)]
            cli = [cli_monitor(settings) for _ in range(2)]
            load = f"{load:.1f}–{os.getloadavg()[0]:.1f}"
            report = runs[-1][2]
            walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
            print(
                f"{mode}: run_monitor (worker included): median {statistics.median(walls):.2f} s "
                f"wall, max {max(walls):.2f} s, CPU median {statistics.median(cpus):.2f} s over "
                f"{len(runs)}; {len(report.performance)} weeks of performance, drift share "
                f"{report.drift_share}, retrain suggested {report.retrain_suggested}"
            )
            print(
                f"{mode}: mlops-console monitor --json, new process: median "
                f"{statistics.median(c[0] for c in cli):.2f} s wall, CPU median "
                f"{statistics.median(c[1] for c in cli):.2f} s; load average {load}"
            )
    finally:
        shutil.rmtree(prefixes, ignore_errors=True)
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

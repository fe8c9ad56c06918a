"""Benchmark: provenance of a version, diagnose without the probe, and the probe on 1,000 rows.

Budgets (DESIGN.md and issue 6): provenance within 1 s, diagnose without the probe within 1.5 s,
the probe on 1,000 rows within 20 s including model loading. Builds the demo lifecycle on a fresh
MLflow server in a temp directory (or reuses one: ``--tracking-uri URL --home DIR``), then times
the in-process calls with a fresh client each time, the CLI commands in fresh processes, and
``python -m commands.probe`` scoring 1,000 feature rows of the pinned snapshot.
Run: ``uv run python benchmarks/bench_diagnose.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands.diagnose import diagnose, probe_request  # noqa: E402
from console.mlflow.client import MlflowRestClient  # noqa: E402
from console.provenance.collect import ProvenanceSources, collect  # noqa: E402
from console.settings import Settings  # noqa: E402

MODEL = "next-week-commits"


async def time_provenance(settings: Settings, version: str) -> float:
    started = time.perf_counter()
    sources = ProvenanceSources.from_settings(settings)
    async with MlflowRestClient(settings.tracking_uri) as client:
        record = await collect(client, MODEL, version, sources)
    await sources.aclose()
    assert not record.gaps, record.gaps
    return time.perf_counter() - started


async def time_diagnose(settings: Settings, left: str, right: str) -> float:
    started = time.perf_counter()
    sources = ProvenanceSources.from_settings(settings)
    async with MlflowRestClient(settings.tracking_uri) as client:
        result = await diagnose(client, MODEL, left, right, sources, probe=False)
    await sources.aclose()
    assert result.causes and result.causes[0].kind == "data", result.causes
    return time.perf_counter() - started


def cli(settings: Settings, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "console", *args, "--home", str(settings.home),
         "--tracking-uri", str(settings.tracking_uri)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if out.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed: {out.stderr.strip()}")
    return elapsed


async def _records(settings: Settings, left: str, right: str, sources: ProvenanceSources):
    async with MlflowRestClient(settings.tracking_uri) as client:
        return await asyncio.gather(
            collect(client, MODEL, left, sources), collect(client, MODEL, right, sources)
        )


def probe_1000(settings: Settings, left: str, right: str) -> tuple[float, dict]:
    sources = ProvenanceSources.from_settings(settings, lineage=False)
    records = asyncio.run(_records(settings, left, right, sources))
    request = probe_request(
        str(settings.tracking_uri), *records, sources, scope="all", max_rows=1000
    )
    started = time.perf_counter()
    out = subprocess.run(request.argv(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    final = lines[-1] if lines else {"event": "error", "message": out.stderr[-300:]}
    if final["event"] != "result":
        raise SystemExit(f"probe failed: {final}")
    return elapsed, final


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="a server that already holds the demo")
    parser.add_argument("--home", type=Path, help="the console home of that demo")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    server = None
    if args.tracking_uri and args.home:
        uri, home = args.tracking_uri, args.home
    else:
        from commands.demo.pipeline import build_demo
        from commands.demo.result import DemoPaths
        from commands.driver import QuietDriver
        from tests.support.servers import start_mlflow_server

        work = Path(tempfile.mkdtemp(prefix="bench-diagnose-"))
        server = start_mlflow_server(work / "mlflow")
        uri, home = server.url, work / "home"
        print("building the demo lifecycle…", file=sys.stderr)
        build_demo(DemoPaths.for_home(home), uri, QuietDriver())
    try:
        settings = Settings(home=home, tracking_uri=uri)
        left, right = "2", "3"
        prov = [asyncio.run(time_provenance(settings, right)) for _ in range(args.repeat)]
        diag = [asyncio.run(time_diagnose(settings, left, right)) for _ in range(args.repeat)]
        cli_prov = [cli(settings, "provenance", MODEL, right, "--json") for _ in range(3)]
        cli_diag = [
            cli(settings, "diagnose", MODEL, left, right, "--no-probe", "--json") for _ in range(3)
        ]
        probe_s, probe = probe_1000(settings, left, right)
        print(f"provenance of a version, in process:      {summary(prov)} (budget 1 s)")
        print(f"diagnose without the probe, in process:   {summary(diag)} (budget 1.5 s)")
        print(f"mlops-console provenance --json, process: {summary(cli_prov)}")
        print(f"mlops-console diagnose --no-probe, proc.: {summary(cli_diag)}")
        print(
            f"probe on {probe['rows']:,} rows incl. loading: {probe_s:.1f} s wall "
            f"({probe['disagreements']} disagreements; {probe['source']}) (budget 20 s)"
        )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

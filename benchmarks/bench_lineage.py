"""Benchmark: three hops of lineage from a model version on a DataHub Lite store of 1,000 entities.

Budget (DESIGN.md): within 0.5 s. Builds the store once with DataHub's own Lite writer (in a temp
directory, or ``--store PATH`` to reuse one), then times ``lineage_for_version(depth=3)`` with a
fresh reader each time (sqlite open included) and the whole ``mlops-console lineage`` command in a
fresh process. Run: ``uv run python benchmarks/bench_lineage.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.lineage.lite import LiteSource  # noqa: E402
from console.lineage.reader import LineageReader  # noqa: E402
from tests.lineage.stores import MODEL, RunSpec, build_store  # noqa: E402

RUNS = 320  # each run brings its version, two run entities, and shares tables and jobs


def build(path: Path) -> int:
    specs = [
        RunSpec(
            run_id=f"{i:032x}",
            version=str(i + 1),
            snapshot=str(5_000_000_000 + i),
            param_table=f"lake.git.commits_{i % 40}",
        )
        for i in range(RUNS)
    ]
    build_store(path, specs, consumer=True)
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(DISTINCT urn) FROM metadata_aspect_v2").fetchone()[0]


async def one(path: Path, version: str):
    async with LineageReader(LiteSource(path)) as reader:
        return await reader.lineage_for_version(MODEL, version, depth=3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, help="reuse (or create) the store at this path")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-lineage-"))
    home = workdir / "home"
    store = args.store or home / "datahub" / "lite.db"
    try:
        if not store.exists():
            started = time.perf_counter()
            entities = build(store)
            print(f"built {entities} entities in {time.perf_counter() - started:.1f} s")
        else:
            with sqlite3.connect(store) as conn:
                entities = conn.execute(
                    "SELECT count(DISTINCT urn) FROM metadata_aspect_v2"
                ).fetchone()[0]
        times, graph = [], None
        for i in range(args.repeat):
            started = time.perf_counter()
            graph = asyncio.run(one(store, str(1 + (i * 37) % RUNS)))
            times.append(time.perf_counter() - started)
        assert graph is not None and max(n.depth for n in graph.nodes) == 3
        print(
            f"lineage_for_version depth 3 on {entities} entities: median "
            f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
            f"({len(graph.nodes)} nodes, {len(graph.edges)} edges, {args.repeat} runs)"
        )
        if store.parent.parent != home:
            home.joinpath("datahub").mkdir(parents=True, exist_ok=True)
            shutil.copy(store, home / "datahub" / "lite.db")
        cli = [
            sys.executable,
            "-m",
            "console",
            "--home",
            str(home),
            "lineage",
            MODEL,
            "1",
            "--no-mlflow",
            "--json",
        ]
        walls = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(
                cli, cwd=ROOT, capture_output=True, check=False, env={**os.environ, "NO_COLOR": "1"}
            )
            walls.append(time.perf_counter() - started)
        print(
            f"`mlops-console lineage MODEL 1 --json` end to end: median "
            f"{statistics.median(walls) * 1000:.0f} ms (process start included)"
        )
        budget_ok = statistics.median(times) < 0.5
        print("budget 0.5 s:", "met" if budget_ok else "MISSED")
        return 0 if budget_ok else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

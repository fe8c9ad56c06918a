"""Benchmark the console's MLflow REST client against ``mlflow.MlflowClient`` on 10,000 runs.

Run with ``uv run python benchmarks/bench_client.py [--runs N] [--json]``. It starts a real
``mlflow server`` (sqlite, one worker) in a temporary directory, seeds the runs by bulk-inserting
copies of one run logged through MLflow's own client, then measures — each in a fresh
interpreter, import included — the first page of 100 runs, all runs through the iterator, and
peak RSS, for both clients; plus the import time of ``console.mlflow.client``.
Not part of the pytest suite.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import start_mlflow_server  # noqa: E402

PAGE = 100
ALL_PAGE = 1000  # the same page size for both clients when listing everything

TEMPLATE = r"""
import sys
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
client = MlflowClient(sys.argv[1])
exp = client.create_experiment("bench")
run = client.create_run(exp, run_name="template")
rid = run.info.run_id
client.log_batch(
    rid,
    metrics=[Metric(k, 0.5, 0, 0) for k in ("rmse", "mae", "r2", "loss", "accuracy")],
    params=[Param(f"param_{i}", str(i)) for i in range(10)]
    + [Param("data.iceberg.snapshot_id", "1000")],
    tags=[RunTag(f"tag_{i}", f"value-{i}") for i in range(5)]
    + [RunTag("mlflow.source.git.commit", "0" * 40)],
)
client.set_terminated(rid)
print(exp, rid)
"""

OURS = r"""
import asyncio, json, resource, sys, time
t0 = time.perf_counter()
from console.mlflow.client import MlflowRestClient
t_import = time.perf_counter() - t0
url, exp, page, all_page = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

async def main():
    async with MlflowRestClient(url, timeout=120) as client:
        t1 = time.perf_counter()
        first = await client.search_runs_page(exp, page_size=page)
        t_first = time.perf_counter() - t1
        t2 = time.perf_counter()
        runs = [r async for r in client.iter_runs(exp, page_size=all_page)]
        t_all = time.perf_counter() - t2
        return len(first.items), len(runs), t_first, t_all

n_first, n_all, t_first, t_all = asyncio.run(main())
print(json.dumps({
    "import_s": t_import, "first_page_s": t_first, "first_page_from_start_s": t_import + t_first,
    "all_s": t_all, "first_count": n_first, "all_count": n_all,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

THEIRS = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from mlflow import MlflowClient
t_import = time.perf_counter() - t0
url, exp, page, all_page = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = MlflowClient(url)
t1 = time.perf_counter()
first = client.search_runs([exp], max_results=page)
t_first = time.perf_counter() - t1
t2 = time.perf_counter()
runs, token = [], None
while True:
    batch = client.search_runs([exp], max_results=all_page, page_token=token)
    runs.extend(batch)
    token = batch.token
    if not token:
        break
t_all = time.perf_counter() - t2
print(json.dumps({
    "import_s": t_import, "first_page_s": t_first, "first_page_from_start_s": t_import + t_first,
    "all_s": t_all, "first_count": len(first), "all_count": len(runs),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def python(code: str, *args: str, timeout: float = 900) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise SystemExit(f"subprocess failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


def bulk_copy(db: Path, template_run: str, total: int) -> None:
    """Copy the template run's rows ``total - 1`` times, varying names, times and metrics."""
    rng = random.Random(7)
    con = sqlite3.connect(db, timeout=60)
    con.row_factory = sqlite3.Row
    tables = {}
    for table in ("runs", "params", "metrics", "latest_metrics", "tags"):
        rows = con.execute(f"SELECT * FROM {table} WHERE run_uuid = ?", (template_run,)).fetchall()
        tables[table] = [dict(r) for r in rows]
    (template,) = tables["runs"]
    inserts: dict[str, list[tuple]] = {t: [] for t in tables}
    for i in range(1, total):
        rid = uuid.uuid4().hex
        run = {
            **template,
            "run_uuid": rid,
            "name": f"run-{i:05d}",
            "start_time": template["start_time"] + i,
            "end_time": (template["end_time"] or template["start_time"]) + i + 1000,
            "artifact_uri": template["artifact_uri"].replace(template_run, rid),
        }
        inserts["runs"].append(tuple(run.values()))
        for table in ("params", "tags"):
            for row in tables[table]:
                value = row["value"]
                if row["key"] == "mlflow.runName":
                    value = run["name"]
                inserts[table].append(tuple({**row, "run_uuid": rid, "value": value}.values()))
        values = {row["key"]: rng.random() for row in tables["metrics"]}
        for table in ("metrics", "latest_metrics"):
            for row in tables[table]:
                inserts[table].append(
                    tuple({**row, "run_uuid": rid, "value": values[row["key"]]}.values())
                )
    with con:
        for table, rows in inserts.items():
            if not rows:
                continue
            columns = ", ".join(tables[table][0].keys())
            marks = ", ".join("?" * len(tables[table][0]))
            con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    con.close()


def warm_up(url: str, exp: str) -> None:
    """One first-page request before measuring, so neither client pays for a cold server."""
    import urllib.request

    body = json.dumps({"experiment_ids": [exp], "max_results": PAGE}).encode()
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/runs/search",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()


def best(samples: list[dict]) -> dict:
    """Per measure, the best of the repeats (min time; min RSS) to damp a shared machine."""
    return {key: min(s[key] for s in samples) for key in samples[0]}


def import_time(samples: int = 9) -> dict[str, float]:
    """Wall and CPU time of ``import console.mlflow.client`` in fresh interpreters.

    CPU time is reported beside wall time because on a shared 2-core machine wall time mostly
    measures the neighbours.
    """
    code = (
        "import time; w = time.perf_counter(); c = time.process_time(); "
        "import console.mlflow.client; "
        "print(time.perf_counter() - w, time.process_time() - c)"
    )
    pairs = [tuple(map(float, python(code).split())) for _ in range(samples)]
    walls = sorted(p[0] for p in pairs)
    cpus = sorted(p[1] for p in pairs)
    return {
        "wall_min_s": walls[0],
        "wall_median_s": statistics.median(walls),
        "cpu_min_s": cpus[0],
        "cpu_median_s": statistics.median(cpus),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs to seed (default 10,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--repeat", type=int, default=2, help="measure each client N times, alternating (best of)"
    )
    args = parser.parse_args()

    report: dict = {"runs": args.runs}
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        workdir = Path(tmp)
        t = time.perf_counter()
        server = start_mlflow_server(workdir)
        report["server_start_s"] = time.perf_counter() - t
        try:
            t = time.perf_counter()
            exp, template_run = python(TEMPLATE, server.url).split()
            report["seed_template_s"] = time.perf_counter() - t
            t = time.perf_counter()
            bulk_copy(workdir / "mlflow.db", template_run, args.runs)
            report["seed_bulk_insert_s"] = time.perf_counter() - t

            report["import_console_client"] = import_time()
            warm_up(server.url, exp)
            samples: dict[str, list[dict]] = {"console": [], "mlflow": []}
            for i in range(args.repeat):
                # alternate who goes first so neither always meets a warmer server
                order = [("console", OURS), ("mlflow", THEIRS)]
                for name, code in order if i % 2 == 0 else reversed(order):
                    out = python(code, server.url, exp, str(PAGE), str(ALL_PAGE))
                    samples[name].append(json.loads(out))
            report["console"] = best(samples["console"])
            report["mlflow"] = best(samples["mlflow"])
            report["repeats"] = args.repeat
        finally:
            server.stop()

    ours, theirs = report["console"], report["mlflow"]
    assert ours["all_count"] == theirs["all_count"] == args.runs, (ours, theirs)
    report["ratios_mlflow_over_console"] = {
        key: theirs[key] / ours[key]
        for key in ("import_s", "first_page_s", "first_page_from_start_s", "all_s", "peak_rss_mb")
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"runs seeded: {args.runs:,} (template via MlflowClient {report['seed_template_s']:.1f} s,"
    )
    print(
        f"  bulk insert {report['seed_bulk_insert_s']:.1f} s; server start "
        f"{report['server_start_s']:.1f} s)"
    )
    imp = report["import_console_client"]
    print(
        f"import console.mlflow.client: wall min {imp['wall_min_s']:.3f} s, median "
        f"{imp['wall_median_s']:.3f} s; CPU min {imp['cpu_min_s']:.3f} s, median "
        f"{imp['cpu_median_s']:.3f} s"
    )
    rows = [
        ("import", "import_s", "s"),
        ("first page of 100 (request)", "first_page_s", "s"),
        ("first page of 100 from start", "first_page_from_start_s", "s"),
        (f"all {args.runs:,} runs (pages of {ALL_PAGE})", "all_s", "s"),
        ("peak RSS", "peak_rss_mb", "MB"),
    ]
    print(f"{'measure':<34}{'console':>10}{'MlflowClient':>14}{'ratio':>8}")
    for label, key, unit in rows:
        ratio = report["ratios_mlflow_over_console"][key]
        print(f"{label:<34}{ours[key]:>9.2f}{unit[0]}{theirs[key]:>13.2f}{unit[0]}{ratio:>7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: the probe on 5,000 synthetic rows of two demo-sized models, and ``reproduce``.

Builds the demo lifecycle on a fresh MLflow server in a temp directory (or reuses one:
``--tracking-uri URL --home DIR``). Times ``python -m commands.probe`` on the demo's scenario pair
with ``--no-datasets`` and no row builder reachable (``--model`` names no builder), so it scores
5,000 synthetic rows from the signature and input examples — split into loading (time to the
first "scored" progress line) and scoring — and ``mlops-console reproduce`` on the champion
(worktree, retraining, logging, probe). Run: ``uv run python benchmarks/bench_probe_reproduce.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = "next-week-commits"


def probe_synthetic(uri: str, left: str, right: str, rows: int) -> tuple[float, float, dict]:
    """(wall seconds, seconds until scoring began, the result)."""
    argv = [
        sys.executable, "-m", "commands.probe", "--tracking-uri", uri, "--model", "bench-none",
        "--left-uri", f"models:/{MODEL}/{left}", "--right-uri", f"models:/{MODEL}/{right}",
        "--left", left, "--right", right, "--no-datasets", "--synthetic-rows", str(rows),
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    scoring_at = None
    final: dict = {}
    assert proc.stdout is not None
    for raw in proc.stdout:
        doc = json.loads(raw)
        if doc["event"] == "progress" and scoring_at is None and "scored" in doc["message"]:
            scoring_at = time.perf_counter()
        elif doc["event"] in ("result", "error"):
            final = doc
    proc.wait()
    elapsed = time.perf_counter() - started
    if final.get("event") != "result":
        raise SystemExit(f"probe failed: {final}")
    return elapsed, (scoring_at or started) - started, final


def reproduce(uri: str, home: Path, version: str) -> tuple[float, dict]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["XDG_CONFIG_HOME"] = str(home / "bench-config")
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "console", "reproduce", MODEL, version, "--json",
         "--home", str(home), "--tracking-uri", uri],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if out.returncode not in (0, 1):
        raise SystemExit(f"reproduce failed: {out.stderr.strip()[-400:]}")
    return elapsed, json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="a server that already holds the demo")
    parser.add_argument("--home", type=Path, help="the console home of that demo")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = None
    if args.tracking_uri and args.home:
        uri, home = args.tracking_uri, args.home
        champion = "1"
    else:
        from commands.demo.pipeline import build_demo
        from commands.demo.result import DemoPaths
        from commands.driver import QuietDriver
        from tests.support.servers import start_mlflow_server

        work = Path(tempfile.mkdtemp(prefix="bench-probe-"))
        server = start_mlflow_server(work / "mlflow")
        uri, home = server.url, work / "home"
        print("building the demo lifecycle…", file=sys.stderr)
        champion = build_demo(DemoPaths.for_home(home), uri, QuietDriver()).champion_version
    try:
        for _ in range(args.repeat):
            wall, loading, result = probe_synthetic(uri, "2", "3", args.rows)
            print(
                f"probe, {result['rows']:,} synthetic rows, two demo models: {wall:.1f} s wall "
                f"({loading:.1f} s to load, {wall - loading:.1f} s to make and score rows; "
                f"{result['disagreements']:,} disagreements)"
            )
        wall, doc = reproduce(uri, home, champion)
        print(
            f"reproduce champion v{champion}: {wall:.1f} s wall, {doc['verdict']} "
            f"({doc['predictions']['rows']:,} rows compared)"
        )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

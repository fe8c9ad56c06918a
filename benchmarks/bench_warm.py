"""Benchmark: model work cold and warm — the home's model worker against the bare import.

Builds the demo lifecycle on a fresh ``mlflow server`` (or reuses one: ``--tracking-uri URL
--home DIR``), compiles the bytecode an installed console has (``--no-compile`` to skip), then
measures in the same run, each in three modes:
- ``plain``: as before the worker (``MLOPS_CONSOLE_MODEL_WORKER=0`` and
  ``MLOPS_CONSOLE_MODEL_CACHE=0``: a fresh interpreter imports mlflow and downloads the models);
- ``cold``: the home's worker stopped and its download cache emptied before the run (the first
  run of a home: the worker starts, imports, forks the child);
- ``warm``: the following runs (``--repeat N``), the worker running and the models cached;

and these measures:
- ``mlops-console invariance next-week-commits 1`` (whole process, end to end);
- ``mlops-console diagnose next-week-commits 2 3`` with the probe (whole process);
- the champion's promotion gates (ready, metric, provenance, invariance) as the console runs them:
  a headless Textual app running the promotion in an async worker with ``PromotionDriver``
  (``benchmarks/bench_gates.py``'s ``tui_promote``); the figure is the gates' own seconds;
- the reference: a fresh ``python -c "import mlflow.pyfunc, sklearn.ensemble"``, measured before
  and after the rest; the median is the figure the budget halves.
Run: ``uv run python benchmarks/bench_warm.py [--repeat N] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MODEL = "next-week-commits"
ALL_GATES = '[gates.default]\nrequire = ["ready", "metric", "provenance", "invariance"]\n'
PLAIN = {"MLOPS_CONSOLE_MODEL_WORKER": "0", "MLOPS_CONSOLE_MODEL_CACHE": "0"}
MODE_VARS = tuple(PLAIN)


def compile_bytecode() -> None:
    import compileall
    import sysconfig

    for folder in ("console", "widgets", "commands"):
        compileall.compile_dir(ROOT / folder, quiet=1, workers=0)
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1, workers=0)


def bare_import() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import mlflow.pyfunc, sklearn.ensemble"], check=True)
    return time.perf_counter() - started


def _env(mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    for name in MODE_VARS:
        env.pop(name, None)
    return env | (PLAIN if mode == "plain" else {})


def cli(mode: str, uri: str, home: Path, *args: str) -> float:
    argv = [sys.executable, "-m", "console", *args, "--home", str(home), "--tracking-uri", uri]
    started = time.perf_counter()
    out = subprocess.run(argv, cwd=ROOT, env=_env(mode), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if out.returncode not in (0, 1) or not out.stdout.strip():
        raise SystemExit(f"{' '.join(args)} failed: {out.stderr.strip()[-600:]}")
    return wall


def gates(mode: str, uri: str, home: Path, alias: str) -> float:
    """The gates' own seconds of a promotion in a headless Textual app, as the console runs it."""
    from bench_gates import tui_promote

    saved = {name: os.environ.pop(name, None) for name in MODE_VARS}
    os.environ.update(PLAIN if mode == "plain" else {})
    try:
        _wall, plan = asyncio.run(tui_promote(uri, home, MODEL, "1", alias, ALL_GATES))
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
    if any(g["status"] not in ("passed", "skipped") for g in plan.values()):
        raise SystemExit(f"the gates did not pass: {plan}")
    return sum(g.get("seconds") or 0.0 for g in plan.values())


def reset_worker(home: Path) -> None:
    from commands.model_worker import stop
    from commands.model_worker_protocol import WorkerPaths

    stop(home)
    shutil.rmtree(WorkerPaths.for_home(home).models, ignore_errors=True)


def build_demo(home: Path, uri: str) -> None:
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, '.');"
        "from commands.demo.pipeline import build_demo;"
        "from commands.demo.result import DemoPaths;"
        "from commands.driver import QuietDriver;"
        f"build_demo(DemoPaths.for_home(Path({str(home)!r})), {uri!r}, QuietDriver())"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per measure")
    parser.add_argument("--tracking-uri", help="reuse this server (with --home)")
    parser.add_argument("--home", type=Path, help="a home whose demo lifecycle is built")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.no_compile:
        print("compiling bytecode…", file=sys.stderr)
        compile_bytecode()
    server = None
    if args.tracking_uri and args.home:
        uri, home = args.tracking_uri, args.home
    else:
        from tests.support.servers import start_mlflow_server

        work = Path(tempfile.mkdtemp(prefix="bench-warm-"))
        server = start_mlflow_server(work / "mlflow")
        uri, home = server.url, work / "home"
        print("building the demo lifecycle…", file=sys.stderr)
        build_demo(home, uri)
    results: dict[str, dict[str, list[float]]] = {}
    loads = [os.getloadavg()[0]]
    n = 0

    def measure(name: str, run) -> None:
        nonlocal n
        row = results.setdefault(name, {"plain": [], "cold": [], "warm": []})
        n += 1
        row["plain"].append(run("plain", n))
        reset_worker(home)
        n += 1
        row["cold"].append(run("cold", n))
        for _ in range(args.repeat):
            n += 1
            row["warm"].append(run("warm", n))
        loads.append(os.getloadavg()[0])
        print(f"{name}: {row}", file=sys.stderr)

    try:
        reference = [bare_import(), bare_import()]
        measure("invariance", lambda mode, _n: cli(mode, uri, home, "invariance", MODEL, "1"))
        measure("diagnose", lambda mode, _n: cli(mode, uri, home, "diagnose", MODEL, "2", "3"))
        measure("gates", lambda mode, i: gates(mode, uri, home, f"bench-{os.getpid()}-{i}"))
        reference += [bare_import(), bare_import()]
        loads.append(os.getloadavg()[0])
    finally:
        reset_worker(home)
        if server is not None:
            server.stop()
    bare = statistics.median(reference)
    doc = {
        "bare_import": {"median": round(bare, 2), "all": [round(r, 2) for r in reference]},
        "load_average": [round(x, 2) for x in loads],
        "measures": {
            name: {
                mode: {"median": round(statistics.median(v), 2), "all": [round(x, 2) for x in v]}
                for mode, v in row.items()
            }
            for name, row in results.items()
        },
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"bare import mlflow.pyfunc, sklearn.ensemble: median {bare:.2f} s {doc['bare_import']}")
    print(f"load average (1 min) over the run: {doc['load_average']}")
    for name, row in doc["measures"].items():
        warm = row["warm"]["median"]
        print(
            f"{name:11s} plain {row['plain']['median']:.2f} s | cold {row['cold']['median']:.2f} s"
            f" | warm {warm:.2f} s ({warm / bare:.2f}× the bare import) {row['warm']['all']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the console TUI against the budgets of DESIGN.md, launching the real CLI under a pty.

Run with ``uv run python benchmarks/bench_tui.py [--runs N] [--json]``. It starts a real
``mlflow server`` (sqlite, one worker), seeds N runs (10,000 by default) with the client
benchmark's bulk-copy routine, then launches ``python -m console --tracking-uri URL`` in a
160×48 pseudo-terminal and timestamps what the terminal receives: the first frame, the first page
of runs on screen, and — after pressing ``G`` until every run is loaded — the resident memory of
the console process. Before each launch it starts a bare Textual app (one ``Static``) on the same
pty and reports the console's first frame and first page as ratios of that app's first frame
(budgets 1.3× and 2.0×), so a busy machine can neither hide nor fake a result; and the median
wall time of ``--help`` (budget 0.3 s). It also checks that mlflow, pandas, pyiceberg and
datahub were never imported by the console process. Not part of the pytest suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_client import TEMPLATE, bulk_copy, python, warm_up  # noqa: E402
from tests.support.servers import start_mlflow_server  # noqa: E402
from tests.support.terminal import HEAVY, TerminalError  # noqa: E402
from tests.support.terminal import Terminal as _Terminal  # noqa: E402

COLS, ROWS = 160, 48


class Terminal(_Terminal):
    """The pty harness of the tests, failing the benchmark with its message."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(argv, env, cols=COLS, rows=ROWS)

    def wait_for(self, needle, timeout: float) -> float:  # type: ignore[no-untyped-def]
        try:
            return super().wait_for(needle, timeout)
        except TerminalError as exc:
            raise SystemExit(str(exc)) from None

    def check_alive(self) -> None:
        try:
            super().check_alive()
        except TerminalError as exc:
            raise SystemExit(str(exc)) from None


def heavy_imports(url: str) -> list[str]:
    """Modules the console imports while connecting and loading its panes, in-process."""
    code = (
        "import asyncio, sys, json\n"
        "from console.settings import Settings\n"
        "from console.tui.app import build_app\n"
        "async def main():\n"
        f"    app = build_app(Settings(home='/tmp/bench-home', tracking_uri={url!r}))\n"
        "    async with app.run_test(size=(160, 48)) as pilot:\n"
        "        for _ in range(100):\n"
        "            await pilot.pause(0.05)\n"
        "            if app.main.runs_pane.runs_table.row_count: break\n"
        "asyncio.run(main())\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))\n"
    )
    return json.loads(python(code))


BARE_APP = """
from textual.app import App
from textual.widgets import Static


class Bare(App):
    def compose(self):
        yield Static("bare-app-ready")


Bare().run()
"""


def measure_bare() -> float:
    """Seconds until a bare Textual app (one Static) draws, on the same pty and Python."""
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": ""}
    env.pop("NO_COLOR", None)
    term = Terminal([sys.executable, "-c", BARE_APP], env)
    try:
        return term.wait_for(b"bare-app-ready", 60)
    finally:
        term.close()


def measure(url: str, runs: int, browse: bool = True) -> dict:
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLORTERM": "",
        "MLOPS_CONSOLE_HOME": tempfile.mkdtemp(prefix="bench-tui-home-"),
    }
    env.pop("NO_COLOR", None)
    term = Terminal([sys.executable, "-m", "console", "--tracking-uri", url], env)
    try:
        first_output = term.first_output(30)
        first_frame = term.wait_for(b"mlops-console", 30)
        # the experiment's newest run is run-<N-1> (start times grow with the index)
        first_page = term.wait_for(re.compile(rb"run-\d{5}"), 30)
        rss_first_page = term.rss_mb()
        if not browse:
            return {
                "first_output_s": first_output,
                "first_frame_s": first_frame,
                "first_page_on_screen_s": first_page,
                "rss_first_page_mb": rss_first_page,
                "heavy_libraries_mapped": sorted(term.loaded_modules()),
            }
        term.press("\r")  # from the experiments into their runs
        # keys sent before the focus has moved would land in the experiments list
        term.wait_for(b"Open run", 30)
        # browse to the end: G jumps to the last loaded row, which asks for the next page
        started = time.perf_counter()
        # the oldest copies are the last rows: on screen once every page has been loaded.
        # (Textual redraws only what changed, so a "N loaded" title is not reliably in the
        # byte stream; a run name in a freshly drawn row is)
        target = b"run-00001"
        deadline = started + 900
        while target not in term.text and time.perf_counter() < deadline:
            term.check_alive()
            term.press("G")
            until = time.perf_counter() + 0.15
            while time.perf_counter() < until and target not in term.text:
                term.read(0.02)
        browse_s = time.perf_counter() - started
        if target not in term.text:
            raise SystemExit("did not reach the last run while browsing")
        time.sleep(1)
        rss_after = term.rss_mb()
        heavy = sorted(term.loaded_modules())
    finally:
        term.close()
    return {
        "first_output_s": first_output,
        "first_frame_s": first_frame,
        "first_page_on_screen_s": first_page,
        "rss_first_page_mb": rss_first_page,
        "browse_all_s": browse_s,
        "rss_after_browsing_all_mb": rss_after,
        "heavy_libraries_mapped": heavy,
    }


def measure_help(repeat: int = 5) -> float:
    """Median wall time of ``mlops-console --help`` as a new process."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "console", "--help"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def compile_bytecode() -> None:
    """Write the bytecode an installed console has, so no launch pays for compiling.

    ``uv sync`` does not compile by default and ``PYTHONDONTWRITEBYTECODE`` keeps Python from
    caching what it compiles: without this every launch would import from source (+0.3 s).
    """
    import compileall
    import sysconfig

    for folder in ("console", "widgets", "commands"):
        compileall.compile_dir(ROOT / folder, quiet=1, workers=0)
    compileall.compile_dir(sysconfig.get_paths()["purelib"], quiet=1, workers=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs to seed (default 10,000)")
    parser.add_argument("--repeat", type=int, default=5, help="launches to measure (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--no-browse", action="store_true", help="stop at the first page (no browse-all figures)"
    )
    args = parser.parse_args()

    compile_bytecode()
    report: dict = {"runs": args.runs, "terminal": f"{COLS}x{ROWS}"}
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        workdir = Path(tmp)
        server = start_mlflow_server(workdir)
        try:
            exp, template_run = python(TEMPLATE, server.url).split()
            bulk_copy(workdir / "mlflow.db", template_run, args.runs)
            warm_up(server.url, exp)
            samples = []
            for _ in range(args.repeat):
                # interleaved, so the bare app and the console see the same machine
                bare = measure_bare()
                sample = measure(server.url, args.runs, browse=not args.no_browse)
                sample["bare_first_frame_s"] = bare
                sample["first_frame_ratio"] = sample["first_frame_s"] / bare
                sample["first_page_ratio"] = sample["first_page_on_screen_s"] / bare
                samples.append(sample)
            report["heavy_imports_in_process"] = heavy_imports(server.url)
        finally:
            server.stop()
    for key in samples[0]:
        values = [s[key] for s in samples]
        if isinstance(values[0], float):
            # medians: a ratio's best case alone would flatter a noisy machine
            report[key] = statistics.median(values)
            report[f"{key}_all"] = [round(v, 3) for v in values]
        else:
            report[key] = values[0]
    report["help_s"] = measure_help()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"runs on the server: {args.runs:,}; terminal {report['terminal']}; median of {args.repeat}"
    )
    bare = report["bare_first_frame_s"]
    print(f"bare Textual app       {bare:.2f} s   (reference, same pty, same run)")
    print(
        f"first frame            {report['first_frame_s']:.2f} s   "
        f"{report['first_frame_ratio']:.2f}x bare (budget 1.3x)"
    )
    print(
        f"first page on screen   {report['first_page_on_screen_s']:.2f} s   "
        f"{report['first_page_ratio']:.2f}x bare (budget 2.0x)"
    )
    print(f"--help                 {report['help_s']:.2f} s   (budget 0.3 s)")
    print(f"RSS after first page   {report['rss_first_page_mb']:.0f} MB")
    if not args.no_browse:
        print(f"browse all runs        {report['browse_all_s']:.1f} s")
        rss = report["rss_after_browsing_all_mb"]
        print(f"RSS after browsing all {rss:.0f} MB   (budget 150 MB)")
    print(f"heavy libraries loaded: {report['heavy_imports_in_process'] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

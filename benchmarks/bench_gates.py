"""Benchmark: the promotion gates — the invariance gate in the CLI and in a Textual app.

Starts a real ``mlflow server`` in a temp directory and logs a plain scikit-learn pipeline with
MLflow's own client (in a child process: this one never imports mlflow); with ``--demo`` also
builds the demo lifecycle (whose model has its own invariance module besides the signature
checks). Then, per model, it measures in the same run:
- the reference: a fresh ``python -c "import mlflow.pyfunc, sklearn"``;
- ``mlops-console invariance MODEL V`` (the signature checks alone, one process);
- the invariance gate through ``mlops-console promote … --json`` (a new process, as an operator
  runs it), the gate's own seconds and the whole command's wall time;
- the same gate inside a Textual app (headless, the promotion in an async worker with
  ``PromotionDriver`` and the gates-running modal, as the console runs it);
- the stop-after-failure rule: a failing metric gate first, then how long the gates took.
Run: ``uv run python benchmarks/bench_gates.py [--demo] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKLEARN_MODEL = "bench-gates-sklearn"
DEMO_MODEL = "next-week-commits"
INVARIANCE_ONLY = '[gates.default]\nrequire = ["invariance"]\n'
METRIC_THEN_INVARIANCE = '[gates.default]\nrequire = ["invariance", "metric"]\n'


def seed_sklearn(uri: str) -> None:
    """Two versions of a plain sklearn pipeline: v1 accuracy 0.9, v2 accuracy 0.5."""
    from tests.promote.sklearn_models import seed

    seed(uri, SKLEARN_MODEL, [0.9, 0.5])


def reference() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import mlflow.pyfunc, sklearn"], check=True)
    return time.perf_counter() - started


def cli_promote(uri: str, home: Path, model: str, version: str, alias: str, config: str):
    """(wall seconds, the gates of the plan) of ``mlops-console promote`` in a new process."""
    xdg = home / f"bench-config-{alias}"
    (xdg / "mlops-console").mkdir(parents=True, exist_ok=True)
    (xdg / "mlops-console" / "config.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["XDG_CONFIG_HOME"] = str(xdg)
    argv = [sys.executable, "-m", "console", "promote", model, version, "--alias", alias,
            "--yes", "--json", "--home", str(home), "--tracking-uri", uri]  # fmt: skip
    started = time.perf_counter()
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if not out.stdout.strip():
        raise SystemExit(f"promote failed: {out.stderr.strip()[-400:]}")
    doc = json.loads(out.stdout)
    return wall, {g["name"]: g for g in doc["plan"]["gates"]}


async def tui_promote(uri: str, home: Path, model: str, version: str, alias: str, config: str):
    """(wall seconds, the gates) of the same promotion in a headless Textual app."""
    import tomllib

    from textual.app import App

    from commands.gates import parse_gates
    from commands.promote import PromoteContext, promote
    from console.mlflow.client import MlflowRestClient
    from console.promotion_model import PromotionRequest
    from console.settings import Settings
    from widgets.promote_modal import PlanModal, PromotionDriver

    gates = parse_gates(tomllib.loads(config)["gates"], "bench")
    request = PromotionRequest(model=model, version=version, alias=alias)
    settings = Settings(home=home, tracking_uri=uri)

    class Host(App):
        result = None

        def on_mount(self) -> None:
            self.run_worker(self.work(), exit_on_error=False)

        async def work(self) -> None:
            async with MlflowRestClient(uri) as client:
                ctx = PromoteContext.from_settings(settings, client, uri, gates=gates)
                self.result = await promote(ctx, request, PromotionDriver(self))

    app = Host()
    started = time.perf_counter()
    async with app.run_test(size=(100, 34)) as pilot:
        while app.result is None:
            if isinstance(app.screen, PlanModal) and app.screen.is_mounted:
                await pilot.press("y")
            await pilot.pause(0.05)
    wall = time.perf_counter() - started
    return wall, {g.name: g.model_dump() for g in app.result.plan.gates}


def cli_invariance(uri: str, home: Path, model: str, version: str) -> float:
    """Wall seconds of ``mlops-console invariance`` (the signature checks alone, one process)."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    argv = [sys.executable, "-m", "console", "invariance", model, version, "--json",
            "--home", str(home), "--tracking-uri", uri]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def _gate(gates: dict, name: str) -> str:
    g = gates.get(name)
    if g is None:
        return f"{name}: absent"
    took = f" {g['seconds']:.1f} s" if g.get("seconds") is not None else ""
    return f"{name} {g['status']}{took}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="also the demo model (≈ 1 min more)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from tests.support.servers import start_mlflow_server

    work = Path(tempfile.mkdtemp(prefix="bench-gates-"))
    server = start_mlflow_server(work / "mlflow")
    uri, home = server.url, work / "home"
    try:
        print("logging a scikit-learn model with MLflow's client…", file=sys.stderr)
        seed_sklearn(uri)
        models = [(SKLEARN_MODEL, "1")]
        if args.demo:
            print("building the demo lifecycle…", file=sys.stderr)
            code = (
                "import sys; from pathlib import Path; sys.path.insert(0, '.');"
                "from commands.demo.pipeline import build_demo;"
                "from commands.demo.result import DemoPaths;"
                "from commands.driver import QuietDriver;"
                f"print(build_demo(DemoPaths.for_home(Path({str(home)!r})), {uri!r}, "
                "QuietDriver()).champion_version)"
            )
            out = subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
            )
            models.append((DEMO_MODEL, out.stdout.strip().splitlines()[-1]))
        print(f"reference: import mlflow.pyfunc, sklearn: {reference():.1f} s")
        n = 0
        for model, version in models:
            wall = cli_invariance(uri, home, model, version)
            print(f"{model} v{version} `mlops-console invariance` (signature checks): {wall:.1f} s")
            for _ in range(args.repeat):
                n += 1
                wall, gates = cli_promote(uri, home, model, version, f"c{n}", INVARIANCE_ONLY)
                print(f"{model} v{version} CLI: {wall:.1f} s; " + _gate(gates, "invariance"))
                wall, gates = asyncio.run(
                    tui_promote(uri, home, model, version, f"t{n}", INVARIANCE_ONLY)
                )
                print(f"{model} v{version} Textual: {wall:.1f} s; " + _gate(gates, "invariance"))
        # stop after failure: v2 is worse than the champion v1 (the metric gate fails first)
        subprocess.run(
            [sys.executable, "-c", "import httpx,sys; httpx.post(sys.argv[1] + "
             "'/api/2.0/mlflow/registered-models/alias', json={'name': sys.argv[2], "
             "'alias': 'champion', 'version': '1'}).raise_for_status()", uri, SKLEARN_MODEL],
            check=True,
        )  # fmt: skip
        wall, gates = cli_promote(uri, home, SKLEARN_MODEL, "2", "champion", METRIC_THEN_INVARIANCE)
        print(
            f"{SKLEARN_MODEL} v2 → champion, metric fails: {wall:.1f} s wall; "
            + "; ".join(_gate(gates, name) for name in gates)
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()

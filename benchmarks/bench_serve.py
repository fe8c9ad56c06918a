"""Benchmark of the predict service: latency p50/p95 at 1, 10 and 100 rows per request, and
requests per second of one service process.

    uv run python benchmarks/bench_serve.py [--requests N] [--json]

Starts a real ``mlflow server`` in a temporary directory, logs a plain scikit-learn model with
MLflow's client, starts the service exactly as ``deploy`` runs it (``python -m commands.serve``,
inference log on), then sends sequential requests from one client over a kept-alive connection
(latency) and from 8 concurrent clients (throughput). Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from commands.serve import options  # noqa: E402
from tests.serve.models import register_sklearn_model  # noqa: E402
from tests.support.servers import free_port, start_mlflow_server  # noqa: E402


def _rows(n: int) -> list[dict]:
    return [{"petal length": 1.0 + (i % 50) / 10, "count": i % 50} for i in range(n)]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        server = start_mlflow_server(Path(tmp) / "mlflow")
        service = None
        try:
            model = register_sklearn_model(server.url)
            port = free_port()
            cmd = options.command(
                sys.executable,
                model=model,
                version="1",
                alias="bench",
                name="bench",
                port=port,
                tracking_uri=server.url,
                home=str(Path(tmp) / "home"),
            )
            t0 = time.monotonic()
            service = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL)
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - t0 > 300:
                    raise SystemExit("the service did not start within 300 s")
                time.sleep(0.2)
            startup = time.monotonic() - t0
            results: dict[str, object] = {"startup_s": round(startup, 1)}
            with httpx.Client(base_url=url, timeout=30) as client:
                for n in (1, 10, 100):
                    body = {"dataframe_records": _rows(n)}
                    for _ in range(20):  # warm-up
                        client.post("/invocations", json=body).raise_for_status()
                    times = []
                    for _ in range(args.requests):
                        start = time.perf_counter()
                        client.post("/invocations", json=body).raise_for_status()
                        times.append((time.perf_counter() - start) * 1000)
                    results[f"rows_{n}"] = {
                        "p50_ms": round(statistics.median(times), 2),
                        "p95_ms": round(_quantile(times, 0.95), 2),
                    }

            async def throughput(seconds: float = 10.0, clients: int = 8) -> float:
                body = {"dataframe_records": _rows(1)}
                done = 0
                deadline = time.perf_counter() + seconds
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:

                    async def worker() -> None:
                        nonlocal done
                        while time.perf_counter() < deadline:
                            (await http.post("/invocations", json=body)).raise_for_status()
                            done += 1

                    start = time.perf_counter()
                    await asyncio.gather(*(worker() for _ in range(clients)))
                    return done / (time.perf_counter() - start)

            results["requests_per_s_1_row_8_clients"] = round(asyncio.run(throughput()), 1)
        finally:
            if service is not None:
                service.terminate()
                service.wait(timeout=30)
            server.stop()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

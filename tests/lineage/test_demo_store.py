"""The reader against a store built by the demo pipeline itself (skipped without the demo)."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from console.lineage.reader import LineageReader, lite_source_for
from console.mlflow import MlflowRestClient
from console.settings import load_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("commands.demo.pipeline") is None, reason="no demo pipeline"
    ),
]
ROOT = Path(__file__).resolve().parents[2]


async def test_demo_store_is_read_whole(tmp_path: Path, mlflow_server) -> None:
    home = tmp_path / "home"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "commands.demo",
            "--home",
            str(home),
            "--tracking-uri",
            mlflow_server.url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    settings = load_settings(
        env={"MLOPS_CONSOLE_HOME": str(home), "MLFLOW_TRACKING_URI": mlflow_server.url}
    )
    async with MlflowRestClient.from_settings(settings) as mlflow:
        versions = [v async for v in mlflow.iter_model_versions(name="next-week-commits")]
        assert versions
        async with LineageReader(lite_source_for(home)) as reader:
            for version in versions:
                graph = await reader.lineage_for_version(
                    "next-week-commits", version.version, mlflow=mlflow
                )
                assert graph.problems == [], (version.version, graph.problems)
                run = graph.node(f"mlflow-run:{version.run_id}")
                assert run is not None and run.properties["seen_by"] == "mlflow+openlineage"
                pins = [e.snapshot_id for e in graph.edges if e.source == run.id and e.snapshot_id]
                assert pins == [run.properties["param.data.iceberg.snapshot_id"]]
                # issue 21, 6: downstream judges only what it traversed (no false problems)
                for direction in ("downstream", "upstream"):
                    seen = await reader.lineage_for_version(
                        "next-week-commits", version.version, mlflow=mlflow, direction=direction
                    )
                    assert seen.problems == [], (version.version, direction, seen.problems)
                    mlflow_run = await mlflow.get_run(version.run_id)
                    from_run = await reader.lineage_for_run(
                        version.run_id, direction=direction, mlflow_run=mlflow_run
                    )
                    assert from_run.problems == [], (version.version, direction, from_run.problems)
                assert seen.not_checked == [] and from_run.not_checked == []
                down = await reader.lineage_for_version(
                    "next-week-commits", version.version, mlflow=mlflow, direction="downstream"
                )
                assert down.checked == ["version_not_in_datahub"]
                assert {i.reason for i in down.not_checked} == {"direction"}

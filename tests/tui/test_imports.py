"""The console process stays light: building the app and loading its panes never imports
mlflow, pandas, pyiceberg, datahub, sklearn or pyarrow (they live in other processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.tui.fake_client import FakeClient  # noqa: F401 - imported by the child

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"mlflow", "pandas", "pyiceberg", "datahub", "sklearn", "pyarrow"}

CHILD = """
import asyncio, json, sys
from console.tui.app import build_app
from console.settings import Settings
import console.connection, console.embedded.lifecycle, console.mlflow.client
from tests.tui.fake_client import FakeClient, NOW

async def main():
    app = build_app(Settings(home=sys.argv[1], tracking_uri="http://mlflow.test"),
                    client_factory=FakeClient, clock=lambda: NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("enter", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()

asyncio.run(main())
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_console_process_never_imports_heavy_libraries(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & HEAVY, sorted(loaded & HEAVY)

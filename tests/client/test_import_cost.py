"""The client module stays cheap to import: no mlflow, no httpx CLI (click, rich), no Textual.

Import *time* is a budget measured by ``benchmarks/bench_client.py``, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.client.conftest import ROOT


def test_client_import_pulls_in_nothing_heavy():
    code = (
        "import json, sys; import console.mlflow.client, console.cli.registry; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout))
    heavy = {"mlflow", "click", "rich", "pygments", "textual", "pandas", "yaml", "httpx._main"}
    assert not {m for m in loaded if m in heavy or m.split(".")[0] in heavy}


def test_httpx_cli_still_importable_afterwards():
    code = "import console.mlflow.client, httpx._main, sys; print(type(httpx._main.main).__name__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "Command"  # the real click command, not httpx's stub

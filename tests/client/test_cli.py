"""``mlops-console models | versions | runs | experiments`` against a real seeded server.

Human output must be aligned text with server strings made printable; ``--json`` one document;
failures one line on stderr with a non-zero exit.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from console.cli import main
from tests.client.conftest import ROOT


@pytest.fixture(scope="module")
def seeded(mlflow_server):
    from tests.client.conftest import seed

    return {"url": mlflow_server.url, **seed(mlflow_server.url, "registry")}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_models_table_and_json(seeded, capsys):
    flt = f"name LIKE '{seeded['prefix']}%'"
    code, out, err = run_cli(capsys, "models", "--filter", flt, "--tracking-uri", seeded["url"])
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["model", "latest", "aliases", "updated", "(UTC)", "description"]
    row = next(line for line in lines if line.startswith(f"{seeded['model']} "))
    assert "challenger→v3, champion→v1" in row and "seeded model" in row

    code, out, _ = run_cli(
        capsys, "models", "--filter", flt, "--max", "2", "--json", "--tracking-uri", seeded["url"]
    )
    doc = json.loads(out)
    assert code == 0 and doc["truncated"] is True and len(doc["models"]) == 2


def test_versions_show_aliases(seeded, capsys):
    code, out, err = run_cli(capsys, "versions", seeded["model"], "--tracking-uri", seeded["url"])
    assert code == 0 and err == ""
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["3", "2", "1"]
    assert rows[0][1] == "challenger" and rows[2][1] == "champion"

    code, out, _ = run_cli(
        capsys, "versions", seeded["model"], "--json", "--tracking-uri", seeded["url"]
    )
    doc = json.loads(out)
    assert doc["aliases"] == {"champion": "1", "challenger": "3"}
    assert {v["version"]: v["aliases"] for v in doc["versions"]}["1"] == ["champion"]


def test_runs_filter_order_max_and_escaping(seeded, capsys):
    exp = f"{seeded['prefix']}-exp-a"
    code, out, err = run_cli(
        capsys, "runs", exp, "--order-by", "params.alpha DESC", "--tracking-uri", seeded["url"]
    )
    assert code == 0 and err == ""
    assert "\x1b" not in out and "\\x1b[31mred" in out  # the escape is shown, not obeyed
    assert len(out.splitlines()) == 6

    code, out, err = run_cli(
        capsys,
        "runs",
        exp,
        "--max",
        "2",
        "--filter",
        "params.alpha != '4'",
        "--order-by",
        "params.alpha",
        "--tracking-uri",
        seeded["url"],
    )
    assert code == 0 and "more exist" in err
    assert [line.split()[1] for line in out.splitlines()[1:]] == ["run-0", "run-1"]

    code, out, _ = run_cli(
        capsys, "runs", seeded["experiments"][0], "--json", "--tracking-uri", seeded["url"]
    )
    doc = json.loads(out)
    assert doc["experiment"]["name"] == exp and len(doc["runs"]) == 5
    assert doc["truncated"] is False
    assert all("\x1b" not in line for line in out.splitlines())


def test_experiments_listing(seeded, capsys):
    flt = f"name LIKE '{seeded['prefix']}%'"
    code, out, _ = run_cli(
        capsys, "experiments", "--filter", flt, "--json", "--tracking-uri", seeded["url"]
    )
    assert code == 0 and len(json.loads(out)["experiments"]) == 3
    code, out, _ = run_cli(capsys, "experiments", "--filter", flt, "--tracking-uri", seeded["url"])
    assert code == 0 and f"{seeded['prefix']}-exp-b" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["versions", "no-such-model"], "resource_does_not_exist"),
        (["runs", "no-such-experiment"], "resource_does_not_exist"),
        (["runs", "0", "--filter", "not a filter"], "filter"),
    ],
)
def test_errors_are_one_line(seeded, capsys, argv, expected):
    code, out, err = run_cli(capsys, *argv, "--tracking-uri", seeded["url"])
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err.lower()
    assert "Traceback" not in err and seeded["url"] in err


def test_unreachable_server_in_a_real_process():
    """The whole CLI in a subprocess: one line on stderr, exit 1, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "console", "models", "--tracking-uri", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("mlops-console: error: search registered models failed")
    assert "cannot reach http://127.0.0.1:9" in line

"""Units of the deployments view without a server: the monitor contract parser, the monitor
command's arguments and runner (real subprocesses), the text markers and the ``:`` commands."""

from __future__ import annotations

import json
import sys

import pytest

from console.deployment_model import DeploymentStatus
from console.monitor_contract import MonitorError, MonitorState, parse_monitor_output
from console.settings import Settings
from console.tui.commands import Command, parse_command
from console.tui.deployments import NOT_AVAILABLE, monitor_argv, run_monitor_command
from tests.tui.support import plain
from widgets.deployments_screen import COLUMNS, row_cells

REPORT = {
    "model": "m",
    "version": 3,
    "drift": [
        {"feature": "a", "statistic": 0.4, "drifted": True, "p_value": 0.001},
        {"feature": "b", "statistic": "NaN", "drifted": False},
    ],
    "drift_share": 0.5,
    "performance": [{"window": "2025-W01", "metric": "accuracy", "value": 0.8}],
    "retrain_suggested": True,
    "reasons": "drift",
    "extra": {"ignored": True},
}


def test_the_contract_is_parsed_leniently_where_it_may_vary() -> None:
    report = parse_monitor_output("  " + json.dumps(REPORT) + "\n")
    assert report.version == "3" and report.reasons == ["drift"]
    assert [d.feature for d in report.drifted] == ["a"]
    assert report.drift[1].statistic is None  # NaN is no number to show
    assert report.metrics() == {"accuracy": report.performance}


@pytest.mark.parametrize(
    ("stdout", "words"),
    [
        ("", "printed nothing"),
        ("Traceback (most recent call last):", "did not print JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps({"model": "m"}), "version"),
        (json.dumps({**REPORT, "drift": [{"statistic": 1}]}), "drift.0.feature"),
    ],
)
def test_anything_else_is_one_line(stdout: str, words: str) -> None:
    with pytest.raises(MonitorError) as caught:
        parse_monitor_output(stdout)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_markers_read_without_colour() -> None:
    report = parse_monitor_output(json.dumps(REPORT))
    assert MonitorState().marker() == "-"
    assert MonitorState(checking=True).marker() == "checking…"
    assert MonitorState(unavailable=True, error=NOT_AVAILABLE).marker() == "n/a"
    assert MonitorState(error="boom").marker() == "ERROR"
    # b's statistic is NaN: no test result, so it is not counted as a feature that passed
    assert MonitorState(report=report).marker() == "DRIFT 1/1 RETRAIN"
    tested_b = report.drift[1].model_copy(update={"statistic": 0.1})
    calm = report.model_copy(update={"drift": [tested_b], "retrain_suggested": False})
    assert MonitorState(report=calm).marker() == "ok 0/1"
    # features with no statistic were not tested (too few rows yet): not "ok 0/2"
    untested = report.model_copy(
        update={"drift": [d.model_copy(update={"statistic": None, "drifted": False})
                          for d in report.drift], "retrain_suggested": False}
    )  # fmt: skip
    assert MonitorState(report=untested).marker() == "unchecked"
    from widgets.monitor_screen import summary_text

    assert "no feature tested yet" in summary_text(untested, 0).plain
    assert "(1 of 1 features; 1 not tested)" in summary_text(report, 0).plain
    row = DeploymentStatus(
        name="\x1b]0;x\x07n",
        kind="embedded",
        url="http://127.0.0.1:1",
        protocol="mlops",
        model="m",
        alias="champion",
        served_version="1",
        alias_version="2",
        in_sync=False,
        healthy=False,
        state="running",
    )
    cells = {key: plain(cell).strip() for key, cell in row_cells(row, None).items()}
    assert list(cells) == [key for key, _ in COLUMNS]
    assert cells["sync"] == "OUT OF SYNC" and cells["health"] == "DOWN"
    assert cells["drift"] == "-" and "\x1b" not in cells["name"] and "\x07" not in cells["name"]


def test_monitor_argv_carries_no_secret_and_keeps_the_model_a_name() -> None:
    settings = Settings(
        home="/h", tracking_uri="http://x", tracking_token="s3cret", profile=None, read_only=True
    )
    argv = monitor_argv(settings, "-m", "champion")
    assert argv[1:] == [
        "-m",
        "console",
        "--home",
        "/h",
        "--tracking-uri",
        "http://x",
        "--read-only",
        "monitor",
        "--alias",
        "champion",
        "--json",
        "--",
        "-m",
    ]
    assert not [a for a in argv if "s3cret" in a]
    embedded = monitor_argv(Settings(home="/h"), "m", "a")
    assert "--tracking-uri" not in embedded  # the child finds the embedded server itself


async def test_runner_reports_each_outcome() -> None:
    ok = await run_monitor_command(
        [sys.executable, "-c", f"print({json.dumps(json.dumps(REPORT))})"]
    )
    assert ok.report is not None and ok.report.model == "m"
    drifted_exit = await run_monitor_command(
        [sys.executable, "-c", f"import sys; print({json.dumps(json.dumps(REPORT))}); sys.exit(1)"]
    )
    assert drifted_exit.report is not None  # a report is a report, whatever the exit code
    missing = await run_monitor_command(
        [
            sys.executable,
            "-c",
            'import sys; print("error: argument COMMAND: invalid choice: '
            "'monitor'\", file=sys.stderr); sys.exit(2)",
        ]
    )
    assert missing.unavailable and missing.error == NOT_AVAILABLE
    failed = await run_monitor_command(
        [sys.executable, "-c", "import sys; print('a\\nlast words', file=sys.stderr); sys.exit(3)"]
    )
    assert failed.error == "monitor failed (exit 3): last words"
    slow = await run_monitor_command(
        [sys.executable, "-c", "import time; time.sleep(60)"], limit_s=1
    )
    assert slow.error and "did not finish within 1 s" in slow.error
    absent = await run_monitor_command(["/nonexistent/mlops-console"])
    assert absent.unavailable


def test_command_line() -> None:
    assert parse_command(":deployments") == Command("deployments")
    assert parse_command("dep") == Command("deployments")
    assert parse_command(":monitor iris-live") == Command("monitor", "iris-live")


async def test_a_cancelled_monitor_run_kills_and_reaps_its_process(tmp_path) -> None:
    """Quitting during a monitor run: the child's whole group dies and is waited for (an
    unreaped transport raised "Event loop is closed" after the app had gone)."""
    import asyncio
    import os

    marker = tmp_path / "pid"
    code = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    task = asyncio.create_task(run_monitor_command([sys.executable, "-c", code]))
    for _ in range(200):
        if marker.exists() and marker.read_text():
            break
        await asyncio.sleep(0.05)
    pid = int(marker.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # reaped: no zombie left under this process, the pid is gone
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_the_monitor_command_uses_the_settings_read_after_the_first_frame(tmp_path) -> None:
    """The console reads its settings in a worker after the first frame; the monitor command is
    built from the settings it has then (it was bound to None at start: every monitoring run in
    the console failed with "'NoneType' object has no attribute 'home'")."""
    from console.tui.app import build_app

    home = tmp_path / "late-home"
    app = build_app(
        settings_loader=lambda: Settings(home=home, tracking_uri="http://127.0.0.1:1"),
        build_demo=False,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if app.settings is not None:
                break
            await pilot.pause(0.05)
        argv = app.deployments.monitor_argv("m", "champion")
    assert argv[argv.index("--home") + 1] == str(home)
    assert argv[-6:] == ["monitor", "--alias", "champion", "--json", "--", "m"]

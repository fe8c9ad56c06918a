"""An unexpected exception in the TUI ends it with one line and a masked crash log, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from textual.app import ComposeResult
from textual.widgets import Static

from console.settings import load_settings
from console.tui.crash import CRASH_LOG, CrashGuardedApp, crash_line, write_crash_log


class Exploding(Static):
    def on_mount(self) -> None:
        raise RuntimeError("boom \x1b[31m with an escape and s3cret-token-value")


class GuardedApp(CrashGuardedApp):
    def __init__(self, settings) -> None:
        super().__init__()
        self.settings = settings

    def _crash_guard_active(self) -> bool:
        return True  # Pilot runs headless, where the guard normally stands aside

    def compose(self) -> ComposeResult:
        yield Exploding("x")


async def test_crash_ends_with_one_line_and_a_masked_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(env={"MLOPS_CONSOLE_HOME": str(tmp_path)}).model_copy(
        update={"tracking_token": SecretStr("s3cret-token-value")}
    )
    app = GuardedApp(settings)
    with pytest.raises(RuntimeError):
        async with app.run_test():
            pass
    assert app.return_code == 1
    # Textual prints the exit renderables on stderr as the app closes
    printed = capfd.readouterr().err.replace("\n", "")
    line = printed[printed.index("mlops-console: internal error") :]
    assert line.startswith("mlops-console: internal error: RuntimeError: boom")
    assert "\x1b" not in line and "\\x1b" in line
    assert "Traceback" not in printed
    log = (tmp_path / CRASH_LOG).read_text()
    assert "Traceback" in log and "on_mount" in log
    assert "s3cret-token-value" not in log and "********" in log


def test_unwritable_home_still_gives_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("a file where the home should be")
    log = write_crash_log(blocker, ValueError("bad"), [])
    assert log is None
    assert "could not be written" in crash_line(ValueError("bad"), log)


class EarlyApp(GuardedApp):
    """Crashes on mount, before its settings worker could deliver: only the loader knows them."""

    def __init__(self, loader) -> None:
        super().__init__(None)
        self._settings_loader = loader


async def test_a_crash_before_the_settings_arrive_still_logs_in_the_home(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    app = EarlyApp(lambda: load_settings(env={"MLOPS_CONSOLE_HOME": str(tmp_path)}))
    with pytest.raises(RuntimeError):
        async with app.run_test():
            pass
    printed = capfd.readouterr().err.replace("\n", "")
    assert f"the traceback is in {tmp_path / CRASH_LOG}" in printed
    assert "on_mount" in (tmp_path / CRASH_LOG).read_text()


async def test_a_crash_with_unreadable_settings_still_gives_one_line(
    capfd: pytest.CaptureFixture[str],
) -> None:
    def broken():
        raise ValueError("MLOPS_CONSOLE_REQUEST_TIMEOUT: not a number")

    app = EarlyApp(broken)
    with pytest.raises(RuntimeError):
        async with app.run_test():
            pass
    printed = capfd.readouterr().err.replace("\n", "")
    assert "internal error: RuntimeError: boom" in printed
    assert "could not be written" in printed and "Traceback" not in printed

"""Fixtures for the runbook tests: settings for a home and a scripted driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.settings import CliOverrides, Settings, load_settings


def settings_for(home: Path, tracking_uri: str | None = None, **env: str) -> Settings:
    return load_settings(CliOverrides(tracking_uri=tracking_uri, home=str(home)), env=env)


class ScriptedDriver:
    """Answers prompts from a script; ``"interrupt"`` raises KeyboardInterrupt like Ctrl-C."""

    def __init__(self, *answers: Any, default: bool = True) -> None:
        self.answers = list(answers)
        self.default = default
        self.prompts: list[tuple[str, str | None]] = []
        self.progress_lines: list[str] = []
        self.warnings: list[str] = []
        self.outputs: list[Any] = []

    def progress(self, message: str, *, fraction: float | None = None) -> None:
        self.progress_lines.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def output(self, item: Any) -> None:
        self.outputs.append(item)

    async def confirm(self, prompt: str, *, typed: str | None = None) -> bool:
        self.prompts.append((prompt, typed))
        answer = self.answers.pop(0) if self.answers else self.default
        if answer == "interrupt":
            raise KeyboardInterrupt
        if isinstance(answer, str):
            return typed is not None and answer == typed
        return bool(answer)

    def states(self) -> dict[str, str]:
        """The last state reported for each step."""
        out: dict[str, str] = {}
        for item in self.outputs:
            if isinstance(item, dict) and item.get("event") == "step":
                out[item["id"]] = item["state"]
        return out


@pytest.fixture
def driver() -> ScriptedDriver:
    return ScriptedDriver()

"""Fixtures for the review regression tests: run the real CLI in-process and capture its output."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from console.cli import main


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``mlops-console ARGS`` via ``console.cli.main``; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as exc:  # a usage error: argparse exits 2 after its one line
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run

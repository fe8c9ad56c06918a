"""Issue 16 item 10: undecodable argument bytes, a deeply nested config file and a version with
blanks are one-line errors with exit 2 — through the real CLI process, never "internal error".
"""

from __future__ import annotations

import pytest

from tests.safety.conftest import console_cli

# a port nothing listens on: the checks must fire before any request
DEAD = ["--tracking-uri", "http://127.0.0.1:9"]
BAD = b"bad\xff"


def _one_line_usage_error(done) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    err = done.stderr
    assert err.startswith("mlops-console: error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "args",
    [
        ["versions", BAD],
        ["provenance", BAD, "1"],
        ["runs", BAD],
        ["diagnose", BAD, "1", "2"],
        ["lineage", BAD, "1"],
        ["promote", BAD, "1", "--alias", "a", "--yes"],
    ],
    ids=lambda a: a[0],
)
def test_undecodable_argument(tmp_path, args):
    err = _one_line_usage_error(console_cli(tmp_path / "home", *DEAD, *args))
    assert "not valid UTF-8" in err and "bad\\xff" not in err  # shown escaped, not raw
    assert "bad\\udcff" in err


@pytest.mark.parametrize(
    "args",
    [
        ["provenance", "m", " 1"],
        ["provenance", "m", "1 "],
        ["diagnose", "m", "1", "２"],
        ["lineage", "m", " 1"],
    ],
)
def test_version_with_blanks_or_not_a_number(tmp_path, args):
    err = _one_line_usage_error(console_cli(tmp_path / "home", *DEAD, *args))
    assert "is not a version number" in err


@pytest.mark.parametrize(
    "nested",
    ["[" * 5000 + "]" * 5000, "{a=" * 5000 + "1" + "}" * 5000],
    ids=["arrays", "inline-tables"],
)
def test_deeply_nested_config_file(tmp_path, nested):
    config = tmp_path / "config.toml"
    config.write_text(f"x = {nested}\n")
    done = console_cli(
        tmp_path / "home", *DEAD, "models", env={"MLOPS_CONSOLE_CONFIG": str(config)}
    )
    err = _one_line_usage_error(done)
    assert "nested too deeply" in err

"""Regression: usage errors are one stderr line (no usage block); long arguments are cut short."""

from __future__ import annotations

import pytest

from console.cli import main


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "x", "--max", "-1"],
        ["config"],
        ["bogus"],
        ["promote", "m", "1"],
        ["lineage", "m", "1", "--depth", "abc"],
    ],
)
def test_usage_error_is_one_line(capsys, tmp_path, args):
    with pytest.raises(SystemExit) as stop:
        main(["--home", str(tmp_path), *args])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlops-console: error: ")
    assert "usage:" not in err


def test_long_argument_is_cut_in_the_error_line(cli, tmp_path):
    # a 10,000-character name against a refused port: the error quotes it, shortened
    code, _, err = cli(
        "--home", str(tmp_path), "--tracking-uri", "http://127.0.0.1:1", "versions", "a" * 10_000
    )
    assert code == 1 and err.count("\n") == 1
    assert len(err) < 1000 and "chars)" in err

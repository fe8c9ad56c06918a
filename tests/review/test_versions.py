"""Regression: a version that is not a positive 64-bit integer is refused before any request."""

from __future__ import annotations

import pytest

from console.model import version_number

# nothing listens on port 1: had a request been sent, the error would say "cannot reach"
REFUSED = "http://127.0.0.1:1"


@pytest.mark.parametrize("version", ["abc", "-1", "0", "²", "99999999999999999999999", "1.5", ""])
def test_bad_version_refused_locally(cli, tmp_path, version):
    code, _, err = cli(
        "--home", str(tmp_path), "--tracking-uri", REFUSED, "provenance", "m", version
    )
    # not a version number, or one too large for the server: a usage error before any request
    # (issue 16 item 10, issue 20 finding 8), exit 2
    assert code == 2 and err.count("\n") == 1
    assert "cannot reach" not in err and "version" in err


@pytest.mark.parametrize("version", ["²", "99999999999999999999999"])
def test_promote_refuses_bad_version(cli, tmp_path, version):
    code, _, err = cli(
        "--home", str(tmp_path), "--tracking-uri", REFUSED,
        "promote", "m", version, "--alias", "a", "--yes",
    )  # fmt: skip
    # a usage error (exit 2): nothing is read or written
    assert code == 2 and err.count("\n") == 1 and "promote:" in err
    assert "internal error" not in err and "cannot reach" not in err


def test_version_number_canonical():
    assert version_number("007") == "7"
    assert version_number(3) == "3"

"""Regression: malformed tracking URIs are one-line setting errors; URL passwords never shown."""

from __future__ import annotations

import json

import pytest

SECRET = "s3cretPW-review"


@pytest.mark.parametrize(
    "uri",
    [
        f"http://user:{SECRET}@127.0.0.1:99999",
        f"http://user:{SECRET}@127.0.0.1:abc",
        "http://[::1",
        "http://a b",
        f"http://user:{SECRET}@",
        "http://127.0.0.1:0",
    ],
)
def test_malformed_uri_is_a_setting_error(cli, tmp_path, uri):
    code, out, err = cli("--home", str(tmp_path), "--tracking-uri", uri, "models")
    assert code == 2
    assert err.count("\n") == 1 and "invalid setting tracking_uri" in err
    assert "internal error" not in err
    assert SECRET not in out + err


def test_config_show_masks_url_password(cli, tmp_path):
    uri = f"http://user:{SECRET}@127.0.0.1:1"
    code, out, err = cli("--home", str(tmp_path), "--tracking-uri", uri, "config", "show")
    assert code == 0 and SECRET not in out + err
    code, out, _ = cli("--home", str(tmp_path), "--tracking-uri", uri, "config", "show", "--json")
    assert json.loads(out)["tracking_uri"]["value"] == "http://********@127.0.0.1:1"


def test_embedded_status_masks_url_password(cli, tmp_path):
    uri = f"http://user:{SECRET}@127.0.0.1:1"
    code, out, err = cli("--home", str(tmp_path), "--tracking-uri", uri, "embedded", "status")
    assert code == 0 and "127.0.0.1:1" in out and SECRET not in out + err
    code, out, _ = cli(
        "--home", str(tmp_path), "--tracking-uri", uri, "embedded", "status", "--json"
    )
    assert SECRET not in out

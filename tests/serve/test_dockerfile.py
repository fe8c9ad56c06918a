"""The container image runs the same service ``deploy`` runs (docker cannot build here: this
checks what can be checked without it — the entry point and the options it is given)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from commands.serve import options

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> dict[str, list[str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.setdefault(word.upper(), []).append(rest.strip())
    return found


def test_entrypoint_is_the_command_deploy_runs():
    (entrypoint,) = _instructions()["ENTRYPOINT"]
    deploy_cmd = options.command(
        "python",
        model="m",
        version="1",
        alias="a",
        name="n",
        port=1,
        tracking_uri="http://x",
        home="/h",
    )
    assert json.loads(entrypoint) == deploy_cmd[:3]


def test_every_option_deploy_passes_is_set_in_the_image():
    env_lines = " ".join(_instructions()["ENV"])
    set_vars = set(re.findall(r"(MLOPS_SERVE_[A-Z_]+)=", env_lines))
    passed = [
        a[2:].replace("-", "_")
        for a in options.command(
            "python",
            model="m",
            version="1",
            alias="a",
            name="n",
            port=1,
            tracking_uri="u",
            home="h",
        )
        if a.startswith("--")
    ]
    # the tracking URI is a run-time setting (or a model directory copied into the image)
    assert {options.ENV[p] for p in passed if p != "tracking_uri"} <= set_vars
    args = options.parser(
        env={"MLOPS_SERVE_MODEL": "m", "MLOPS_SERVE_VERSION": "3", "MLOPS_SERVE_PORT": "8080"}
    ).parse_args([])
    assert (args.model, args.version, args.port) == ("m", "3", 8080)


def test_dockerignore_keeps_secrets_and_tests_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "tests"):
        assert entry in ignored

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


# --- issue 20, finding 8: hostile values are one usage line (exit 2), never "internal error" ---

LONG = "x" * 10_000
ESC = "x\x1b]2;PWNED\x07y"
NAME_WORDS = "must start with a letter or digit"
DSN = "backend_dsn=postgresql://u:p@127.0.0.1:9/db"

HOSTILE = [
    # ages reaching back past the year 1 (timedelta / datetime overflow), and non-times
    (["history", "m", "--since", "99999999999999d"], "reaches back before the year 1"),
    (["history", "m", "--at", "99999999999999d"], "reaches back before the year 1"),
    (["history", "m", "--since", "1000000000w"], "reaches back before the year 1"),
    (["history", "m", "--at", "9" * 5000 + "s"], "reaches back before the year 1"),
    (["history", "m", "--at", "1e400"], "is not a time"),
    (["history", "m", "--since", "-5d"], "expected one argument"),
    (["history", "m", "--since=-5d"], "is not a time"),
    (["history", "m", "--at", ""], "is not a time"),
    # deployment names: slashes, dot-dot, control characters, 10k characters, leading dash
    (["deploy", "m", "--alias", "a", "--name", "a/b"], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", ".."], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", "../../etc"], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", ESC], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", "ok\n"], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", LONG], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", ""], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", "-x"], "expected one argument"),
    (["deploy", "m", "--alias", "a", "--name=-x"], NAME_WORDS),
    (["deploy", "m", "--alias", "a", "--name", "\u202eevil"], NAME_WORDS),
    (["deploy", "stop", "a/b"], NAME_WORDS),
    (["deploy", "stop", ".."], NAME_WORDS),
    (["deploy", "stop", ESC], NAME_WORDS),
    (["deploy", "stop", LONG], NAME_WORDS),
    (["deploy", "stop", ""], NAME_WORDS),
    (["deploy", "stop", "--", "-x"], NAME_WORDS),
    (["deploy", "stop", "-x"], "unrecognized arguments"),
    (["deploy", "rollout", "../x"], NAME_WORDS),
    (["deploy", "rollback", "a\tb", "--yes"], NAME_WORDS),
    # versions that are not version numbers
    (["invariance", "m", " 1"], "is not a version number"),
    (["invariance", "m", "-1"], "is not a version number"),
    (["invariance", "m", "9" * 5000], "is not a version number"),
    (["reproduce", "m", "1.5"], "is not a version number"),
    # runbook parameters given on the command line
    (["runbook", "run", "model-registry-promotion-stuck", "--set", "=v"], "is not KEY=VALUE"),
    (["runbook", "run", "model-registry-promotion-stuck", "--set", "nope"], "is not KEY=VALUE"),
    (
        ["runbook", "run", "model-registry-promotion-stuck", "--set", f"{ESC}=1"],
        "has no parameter",
    ),
    (
        [
            "runbook",
            "run",
            "mlflow-postgres-bloat",
            "--dry-run",
            "--set",
            DSN,
            "--set",
            "older_than_days=1e400",
        ],
        "must be a finite number",
    ),
    (
        [
            "runbook",
            "run",
            "mlflow-postgres-bloat",
            "--dry-run",
            "--set",
            DSN,
            "--set",
            "older_than_days=nan",
        ],
        "must be a finite number",
    ),
    (
        ["runbook", "run", "mlflow-postgres-bloat", "--set", DSN, "--set", "vacuum_full=maybe"],
        "must be true or false",
    ),
    (["runbook", "run", "model-retrain", "--set", f"max_disagreement={LONG}"], "must be a number"),
    # aliases MLflow would refuse: checked before anything is read or written
    (["promote", "m", "1", "--alias", LONG, "--yes"], "at most 255 characters"),
    (["promote", "m", "1", "--alias", "ok\n", "--yes"], "may hold only letters"),
    (["promote", "m", "1", "--alias", "bad alias", "--yes"], "may hold only letters"),
    (["promote", "m", "1", "--alias", ESC, "--yes"], "may hold only letters"),
    (["promote", "m", "1", "--alias", "latest", "--yes"], "reserved by MLflow"),
    (["promote", "m", "1", "--alias", "V12", "--yes"], "reserved by MLflow"),
    # counts
    (["models", "--max", "0"], "must be at least 1"),
    (["models", "--max", "9" * 5000], "is not a whole number"),
    (["audit", "--limit", "-1"], "must be at least 1"),
    (["demo", "advance", "--weeks", "1e400"], "is not a whole number"),
]


@pytest.mark.parametrize(
    ("args", "words"), HOSTILE, ids=lambda v: repr(v)[:60] if isinstance(v, list) else None
)
def test_hostile_values_are_one_usage_line(tmp_path, args, words):
    err = _one_line_usage_error(console_cli(tmp_path / "home", *DEAD, *args))
    assert words in err, err
    assert "\x1b" not in err and "\u202e" not in err  # quoted input is shown escaped
    assert len(err) < 1000  # a 10,000-character argument does not become the line

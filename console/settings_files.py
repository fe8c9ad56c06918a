"""Where the settings come from, read without validating them (standard library only).

The environment variables each setting is read from, the console's default home, the profile file
and its profiles. ``console.settings`` validates what these return (with pydantic); the first-page
prefetch (``console.prefetch``) reads them before pydantic is imported, to know which server to ask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.errors import SettingsError

APP_NAME = "mlops-console"

# setting name -> environment variables that set it, first match wins
ENV_VARS: dict[str, tuple[str, ...]] = {
    "tracking_uri": ("MLFLOW_TRACKING_URI",),
    "tracking_token": ("MLFLOW_TRACKING_TOKEN",),
    "tracking_username": ("MLFLOW_TRACKING_USERNAME",),
    "tracking_password": ("MLFLOW_TRACKING_PASSWORD",),
    "tracking_insecure_tls": ("MLFLOW_TRACKING_INSECURE_TLS",),
    "tracking_server_cert_path": ("MLFLOW_TRACKING_SERVER_CERT_PATH",),
    "tracking_client_cert_path": ("MLFLOW_TRACKING_CLIENT_CERT_PATH",),
    "datahub_gms_url": ("DATAHUB_GMS_URL",),
    "datahub_gms_token": ("DATAHUB_GMS_TOKEN",),
    "openlineage_url": ("OPENLINEAGE_URL",),
    "openlineage_api_key": ("OPENLINEAGE_API_KEY",),
    "iceberg_catalog": ("MLOPS_CONSOLE_ICEBERG_CATALOG",),
    "home": ("MLOPS_CONSOLE_HOME",),
    "read_only": ("MLOPS_CONSOLE_READ_ONLY",),
    "request_timeout": ("MLOPS_CONSOLE_REQUEST_TIMEOUT",),
    "probe_tolerance": ("MLOPS_CONSOLE_PROBE_TOLERANCE",),
    "embedded_idle_minutes": ("MLOPS_CONSOLE_EMBEDDED_IDLE_MINUTES",),
    "promotion_settle_seconds": ("MLOPS_CONSOLE_PROMOTION_SETTLE_SECONDS",),
}


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, value: str) -> bool:
    """A boolean environment variable (true/false, 1/0, yes/no, on/off); SettingsError if not."""
    lowered = value.strip().lower()
    if lowered in _BOOL_TRUE:
        return True
    if lowered in _BOOL_FALSE:
        return False
    raise SettingsError(f"environment variable {name}={value!r} is not a boolean (use true/false)")


# what a profile may set: every setting but where-it-came-from bookkeeping (``Settings`` has the
# same fields plus ``sources`` and ``profile``; tests/test_settings.py keeps the two equal)
PROFILE_SETTINGS = frozenset(
    {
        *ENV_VARS,
        "git_repos",
        "deployments",
        "monitoring",
        "training_commands",
        "keys",
    }
)


def env_value(key: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The raw value of setting ``key`` from the environment and the variable it came from."""
    for name in ENV_VARS.get(key, ()):
        raw = env.get(name)
        if raw is not None and raw != "":
            return raw, name
    return None


def default_home(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/mlops-console``, falling back to ``~/.local/share/mlops-console``."""
    env = os.environ if env is None else env
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / APP_NAME


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The profile file: ``$XDG_CONFIG_HOME/mlops-console/config.toml``."""
    env = os.environ if env is None else env
    if env.get("MLOPS_CONSOLE_CONFIG"):
        return Path(env["MLOPS_CONSOLE_CONFIG"]).expanduser()
    config_home = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home).expanduser() / APP_NAME / "config.toml"


def parse_config(raw: bytes, path: Path) -> dict[str, Any]:
    """The config file's TOML document; any way it cannot be read is one SettingsError."""
    import tomllib  # only when there is a file: not on the way to the console's first frame

    try:
        return tomllib.loads(raw.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"config file {path} is not valid TOML: {exc}", hint="fix or remove the file"
        ) from None
    except RecursionError:
        # tomllib recurses once per nesting level: deeply nested arrays or inline tables
        raise SettingsError(
            f"config file {path} is nested too deeply to read", hint="fix or remove the file"
        ) from None


def read_profiles(path: Path) -> tuple[dict[str, Any], str | None]:
    """Return (profiles, default_profile) from the config file; empty when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    doc = parse_config(raw, path)
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise SettingsError(
            f"config file {path}: [profiles] must be tables like [profiles.prod]",
        )
    default = doc.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise SettingsError(f"config file {path}: default_profile must be a string")
    return profiles, default


def check_http_url(value: str) -> None:
    """Refuse an http(s) URL that httpx could not use (no host, bad port, spaces, broken IPv6).

    ``console.settings`` validates ``tracking_uri`` with it; the first-page helper asks only a URL
    it accepts."""
    from urllib.parse import urlsplit

    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port  # parsing the port raises on "abc" or 99999
    except ValueError as exc:
        raise ValueError(f"the URL cannot be parsed ({exc})") from None
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if port == 0:
        raise ValueError("the URL has port 0")

"""Console settings: one validated record built from CLI options, environment and profile file.

Precedence, highest first: global command-line options, environment variables, the selected
profile in ``$XDG_CONFIG_HOME/mlops-console/config.toml``, defaults. Every value remembers where it
came from, so a bad value is reported as one line naming the setting and its source. Environment
variable names are the ones MLflow, DataHub and OpenLineage already use, so a production shell
needs no new configuration. Secrets are ``SecretStr`` and never appear in ``describe()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from console.deployment_model import ProductionEndpoint
from console.errors import SettingsError
from console.overrides import CliOverrides
from console.settings_files import (  # noqa: F401  (re-exported: callers import them from here)
    APP_NAME,
    ENV_VARS,
    check_http_url,
    config_path,
    default_home,
    env_bool,
    parse_config,
    read_profiles,
)


def show_url(value: str | None) -> str | None:
    """``value`` with any ``user:password@`` removed, for display: URLs may carry credentials."""
    if not value or "@" not in value:
        return value
    scheme, sep, rest = value.partition("://")
    if not sep:
        return "********"
    netloc, slash, path = rest.partition("/")
    if "@" not in netloc:
        return value
    return f"{scheme}://********@{netloc.rpartition('@')[2]}{slash}{path}"


# settings that hold URLs, which may carry credentials in their user info
URL_FIELDS = frozenset({"tracking_uri", "datahub_gms_url", "openlineage_url"})


class MonitorThresholds(BaseModel):
    """When ``monitor`` says "retrain suggested" for a model (profile: ``monitoring.<model>``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # a feature drifted when its test's p-value is below this
    p_value: float = Field(default=0.01, gt=0, lt=1)
    # retrain suggested when at least this share of the features drifted
    drift_share: float = Field(default=0.3, gt=0, le=1)
    # retrain suggested when the realized metric is this much below the registered holdout metric
    performance_drop: float = Field(default=0.1, ge=0)
    # fewer rows than this on a side: no test (too little to tell)
    min_rows: int = Field(default=30, ge=2)
    # the metric to follow (default: the gates' primary metric, f1_macro or accuracy)
    metric: str | None = None
    # seconds the monitoring worker may take
    timeout: float = Field(default=300.0, gt=0, le=3600)


class Settings(BaseModel):
    """Everything the console needs to reach its services. Immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str | None = None
    home: Path
    read_only: bool = False

    tracking_uri: str | None = None
    tracking_token: SecretStr | None = None
    tracking_username: str | None = None
    tracking_password: SecretStr | None = None
    tracking_insecure_tls: bool = False
    tracking_server_cert_path: Path | None = None
    tracking_client_cert_path: Path | None = None

    datahub_gms_url: str | None = None
    datahub_gms_token: SecretStr | None = None
    openlineage_url: str | None = None
    openlineage_api_key: SecretStr | None = None
    iceberg_catalog: str = "lake"

    # remote repoURL (as logged in mlflow.source.git.repoURL) -> local clone to read commits from
    git_repos: dict[str, Path] = Field(default_factory=dict)

    # production endpoints to show in `deployments`: name -> url, protocol, model, alias
    deployments: dict[str, ProductionEndpoint] = Field(default_factory=dict)
    # model name (or "*" for every model) -> monitoring thresholds
    monitoring: dict[str, MonitorThresholds] = Field(default_factory=dict)
    # model name -> the command that trains it on a snapshot (the retrain runbook's entry point)
    training_commands: dict[str, list[str]] = Field(default_factory=dict)

    request_timeout: float = Field(default=10.0, gt=0, le=600)
    # verb id → keys (the profile's ``[keys]`` table: ``"promote.alias" = "A"``); see the help
    keys: dict[str, str] = Field(default_factory=dict)
    # the probe: numeric outputs (probabilities, scores) closer than this are the same answer
    probe_tolerance: float = Field(default=1e-6, ge=0)
    embedded_idle_minutes: float = Field(default=60.0, ge=0)
    # how long any write a promoter sent may take to reach the server (docs/guide/safety.md)
    promotion_settle_seconds: float = Field(default=2.0, ge=0.05, le=60)

    # where each value came from, for error messages and `describe()`
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("tracking_uri", "datahub_gms_url", "openlineage_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip()
        if value.startswith(("http://", "https://")):
            check_http_url(value)
            return value.rstrip("/")
        if value.startswith(("file:", "sqlite:", "postgresql:", "mysql:", "databricks")):
            raise ValueError(
                "the console talks to an MLflow tracking *server*; give its http(s) URL, "
                "not a backend store URI"
            )
        raise ValueError("expected an http:// or https:// URL")

    def monitor_thresholds(self, model: str) -> MonitorThresholds:
        """The model's thresholds over the ``"*"`` ones over the defaults, field by field."""
        merged: dict[str, Any] = {}
        for key in ("*", model):
            if key in self.monitoring:
                merged.update(self.monitoring[key].model_dump(exclude_unset=True))
        return MonitorThresholds(**merged)

    @property
    def embedded(self) -> bool:
        """True when no tracking URI is configured and the embedded lifecycle is used."""
        return self.tracking_uri is None

    def describe(self) -> dict[str, Any]:
        """The settings for display: secrets masked, each value with its source."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            if name == "sources":
                continue
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif name in URL_FIELDS:
                value = show_url(value)
            elif isinstance(value, Path):
                value = str(value)
            elif name == "deployments":
                value = {k: {**v.model_dump(), "url": show_url(v.url)} for k, v in value.items()}
            elif isinstance(value, dict):
                value = {
                    k: v.model_dump(exclude_unset=True) if isinstance(v, BaseModel) else str(v)
                    for k, v in value.items()
                }
            shown[name] = {"value": value, "source": self.sources.get(name, "default")}
        return shown


def load_settings(
    overrides: CliOverrides | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings from options, environment and profile; raise SettingsError if invalid."""
    overrides = overrides or CliOverrides()
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    cfg = config_path(env)
    profiles, default_profile = read_profiles(cfg)
    profile_name = overrides.profile or env.get("MLOPS_CONSOLE_PROFILE") or default_profile
    if profile_name:
        if profile_name not in profiles:
            known = ", ".join(sorted(profiles)) or "none defined"
            raise SettingsError(
                f"profile {profile_name!r} is not in {cfg} (profiles: {known})",
                hint="check --profile / MLOPS_CONSOLE_PROFILE",
            )
        for key, value in profiles[profile_name].items():
            if key not in Settings.model_fields or key in {"sources", "profile"}:
                raise SettingsError(
                    f"profile {profile_name!r} in {cfg}: unknown setting {key!r}",
                )
            values[key] = value
            sources[key] = f"profile {profile_name!r} in {cfg}"
        values["profile"] = profile_name

    for key, names in ENV_VARS.items():
        for name in names:
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            if key in {"read_only", "tracking_insecure_tls"}:
                values[key] = env_bool(name, raw)
            else:
                values[key] = raw
            sources[key] = f"environment variable {name}"
            break

    if overrides.tracking_uri is not None:
        values["tracking_uri"] = overrides.tracking_uri
        sources["tracking_uri"] = "option --tracking-uri"
    if overrides.home is not None:
        values["home"] = overrides.home
        sources["home"] = "option --home"
    if overrides.read_only:
        values["read_only"] = True
        sources["read_only"] = "option --read-only"

    if "home" not in values:
        values["home"] = default_home(env)
    values["home"] = Path(str(values["home"])).expanduser()
    if not values["home"].is_absolute():
        values["home"] = values["home"].resolve()

    try:
        return Settings(**values, sources=sources)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "settings"
        source = sources.get(field, "default")
        shown = values.get(field)
        if field in {
            "tracking_token",
            "tracking_password",
            "datahub_gms_token",
            "openlineage_api_key",
        }:
            shown = "********"
        elif field in URL_FIELDS and isinstance(shown, str):
            shown = show_url(shown)
        message = first.get("msg", "invalid value").removeprefix("Value error, ")
        if field == "deployments":  # a nested table: name the entry and key, not the whole table
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise SettingsError(f"invalid setting {where} from {source}: {message}") from None
        raise SettingsError(f"invalid setting {field}={shown!r} from {source}: {message}") from None

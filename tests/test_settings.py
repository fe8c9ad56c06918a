"""Settings: precedence of options, environment and profiles; one-line errors naming the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.errors import SettingsError
from console.settings import CliOverrides, config_path, load_settings


def _write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_use_the_embedded_lifecycle(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.embedded
    assert settings.home == isolated_env / "xdg-data" / "mlops-console"
    assert not settings.read_only


def test_home_from_environment_and_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLOPS_CONSOLE_HOME", str(tmp_path / "from-env"))
    assert load_settings().home == tmp_path / "from-env"
    settings = load_settings(CliOverrides(home=str(tmp_path / "from-opt")))
    assert settings.home == tmp_path / "from-opt"
    assert settings.sources["home"] == "option --home"


def test_mlflow_variables_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000/")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cr3t-token")
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    settings = load_settings()
    assert settings.tracking_uri == "http://127.0.0.1:5000"
    assert settings.tracking_token is not None
    assert settings.tracking_token.get_secret_value() == "s3cr3t-token"
    assert settings.tracking_insecure_tls
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in str(settings.describe())


def test_profile_then_env_then_option(monkeypatch: pytest.MonkeyPatch) -> None:
    _write_config(
        'default_profile = "prod"\n'
        "[profiles.prod]\n"
        'tracking_uri = "https://mlflow.prod.internal"\n'
        "read_only = true\n"
        "[profiles.stage]\n"
        'tracking_uri = "http://127.0.0.1:5001"\n'
    )
    settings = load_settings()
    assert settings.profile == "prod"
    assert settings.tracking_uri == "https://mlflow.prod.internal"
    assert settings.read_only
    assert "profile 'prod'" in settings.sources["tracking_uri"]

    assert load_settings(CliOverrides(profile="stage")).tracking_uri == "http://127.0.0.1:5001"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5002")
    assert load_settings().tracking_uri == "http://127.0.0.1:5002"
    opt = load_settings(CliOverrides(tracking_uri="http://127.0.0.1:5003"))
    assert opt.tracking_uri == "http://127.0.0.1:5003"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"MLFLOW_TRACKING_URI": "sqlite:///mlflow.db"}, "MLFLOW_TRACKING_URI"),
        ({"MLFLOW_TRACKING_URI": "ftp://x"}, "expected an http"),
        ({"MLOPS_CONSOLE_READ_ONLY": "maybe"}, "MLOPS_CONSOLE_READ_ONLY"),
        ({"MLOPS_CONSOLE_REQUEST_TIMEOUT": "-3"}, "request_timeout"),
        ({"DATAHUB_GMS_URL": "http://"}, "DATAHUB_GMS_URL"),
    ],
)
def test_bad_values_are_one_line_naming_setting_and_source(
    monkeypatch: pytest.MonkeyPatch, setup: dict[str, str], expected: str
) -> None:
    for key, value in setup.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_profile_and_bad_file() -> None:
    path = _write_config("[profiles.prod]\ntracking_uri = 'http://127.0.0.1:1'\n")
    with pytest.raises(SettingsError, match="profile 'nope'"):
        load_settings(CliOverrides(profile="nope"))
    path.write_text("[profiles.prod]\ncolour = 'red'\n")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings(CliOverrides(profile="prod"))
    path.write_text("this is = = not toml")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


def test_secret_in_bad_value_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    _write_config("[profiles.p]\ntracking_token = 123\n")
    with pytest.raises(SettingsError) as info:
        load_settings(CliOverrides(profile="p"))
    assert "123" not in str(info.value)


def test_a_profile_may_set_what_the_settings_hold() -> None:
    """The first-page helper refuses a profile the settings would refuse, from this list."""
    from console.settings import Settings
    from console.settings_files import PROFILE_SETTINGS

    assert set(Settings.model_fields) - {"sources", "profile"} == PROFILE_SETTINGS

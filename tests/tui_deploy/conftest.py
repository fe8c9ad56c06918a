"""Fixtures for the deployments view: a real deployment started through the CLI on the session's
MLflow server, serving the plain scikit-learn model of the serving tests (imported, not copied)."""

from __future__ import annotations

import json

import pytest

from tests.serve.conftest import run_cli, set_alias, sklearn_model  # noqa: F401 (a fixture)

ALIAS = "tui"
NAME = "iris-tui"


@pytest.fixture(scope="module")
def deployment(mlflow_server, sklearn_model, tmp_path_factory):  # noqa: F811
    """(home, info): ``iris-tui`` serving the model's v1 behind alias ``tui``."""
    set_alias(mlflow_server.url, sklearn_model, ALIAS, "1")
    home = tmp_path_factory.mktemp("tui-deploy-home")
    result = run_cli(
        home, mlflow_server.url, "deploy", sklearn_model, "--alias", ALIAS, "--name", NAME, "--json"
    )
    assert result.returncode == 0, result.stderr
    yield home, json.loads(result.stdout)
    run_cli(home, mlflow_server.url, "deploy", "stop", NAME)

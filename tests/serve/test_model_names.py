"""Issue 20, finding 9: registered models whose names MLflow's ``models:/NAME/V`` parser misreads
(``@`` makes an alias of it; ``?``, ``#`` and ``%`` are URL syntax) — and names with spaces and
unicode — load everywhere a version is loaded: the invariance checks (CLI and the promotion's
invariance gate) and the predict service. Real scikit-learn models on the session's server, the
real CLI as a subprocess. (A ``/`` is refused by MLflow itself when the model is created; asking
for one is a one-line error.)
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from commands.model_uri import loadable, plain, split
from tests.serve.conftest import run_cli
from tests.serve.models import register_sklearn_model

KINDS = {
    "at": "inv@{}",
    "url-syntax": "inv?q#f%41-{}",
    "space": "inv {} with spaces",
    "unicode": "invé☃-{}",
}


@pytest.fixture(scope="module")
def names(mlflow_server) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    return {
        kind: register_sklearn_model(mlflow_server.url, pattern.format(tag))
        for kind, pattern in KINDS.items()
    }


def test_models_uri_helpers():
    assert plain("churn") and plain("invé☃ x") and not plain("a@b") and not plain(" a")
    assert split("models:/a@b/12") == ("a@b", "12")
    assert split("models:/a/b/3") == ("a/b", "3")
    assert split("models:/m-0123abcd") is None and split("models:/a@champion") is None
    assert split("runs:/abc/model") is None
    assert loadable("models:/plain/1") == "models:/plain/1"


@pytest.mark.parametrize("kind", list(KINDS))
def test_invariance_runs_for_any_model_name(tmp_path, mlflow_server, names, kind):
    name = names[kind]
    done = run_cli(tmp_path / "home", mlflow_server.url, "invariance", name, "1", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["passed"] and len(doc["checks"]) == 5
    assert doc["model_uri"] == f"models:/{name}/1"


def test_a_slash_in_a_name_is_one_line(tmp_path, mlflow_server):
    done = run_cli(tmp_path / "home", mlflow_server.url, "invariance", "a/b", "1")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "internal error" not in done.stderr


def test_the_invariance_gate_of_a_promotion_runs_for_a_name_with_an_at(
    tmp_path, mlflow_server, names
):
    name = names["at"]
    config = tmp_path / "config.toml"
    config.write_text(f'[gates.models."{name}".alias.gated]\nrequire = ["ready", "invariance"]\n')
    done = run_cli(
        tmp_path / "home", mlflow_server.url, "promote", name, "1", "--alias", "gated",
        "--yes", "--json", env={"MLOPS_CONSOLE_CONFIG": str(config)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    gates = {g["name"]: g for g in result["plan"]["gates"]}
    assert gates["invariance"]["status"] == "passed", gates["invariance"]
    assert "load_twice" in gates["invariance"]["detail"]


def test_a_model_with_an_at_in_its_name_deploys_and_scores(tmp_path, mlflow_server, names):
    name = names["at"]
    httpx.post(
        f"{mlflow_server.url}/api/2.0/mlflow/registered-models/alias",
        json={"name": name, "alias": "live", "version": "2"},
    ).raise_for_status()
    home = tmp_path / "home"
    done = run_cli(home, mlflow_server.url, "deploy", name, "--alias", "live", "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    try:
        assert info["name"] == name.replace("@", "-") and info["version"] == "2"
        with httpx.Client(base_url=info["url"], timeout=30) as c:
            assert c.get("/version").json()["model"] == name
            rows = [{"petal length": 3.5, "count": 4}]
            scored = c.post("/invocations", json={"dataframe_records": rows})
            assert scored.status_code == 200 and scored.headers["x-model-version"] == "2"
    finally:
        run_cli(home, mlflow_server.url, "deploy", "stop", info["name"])

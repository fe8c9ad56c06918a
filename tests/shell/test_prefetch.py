"""The first-page helper (``console.prefetch``): where it asks, what it hands over, how it ends.

Where: resolved as ``console.settings.load_settings`` resolves the tracking URI and home, and the
credentials sent exactly as ``console.mlflow.auth`` builds them (compared with that code, not
with expectations written here); anything the helper could not do as the client does means no
helper. What: on runs logged the way other teams log them (MLflow's own client, no conventions of
ours), the rows drawn from the helper's answers are the rows the client's first page draws.
How it ends: unreachable, refusing, garbage-answering and silent servers give no page and leave
no process behind.
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path

import pytest

from console import prefetch
from console.mlflow.auth import AuthConfig
from console.overrides import CliOverrides
from console.settings import load_settings
from tests.support.html_server import answering_server
from tests.support.servers import MlflowServer

URL_CLI = "http://127.0.0.1:7001"
URL_ENV = "http://127.0.0.1:7002"
URL_PROFILE = "http://127.0.0.1:7003"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    env.update(extra)
    return env


def _profile(tmp_path: Path, body: str, default: str = "team") -> None:
    path = tmp_path / "config" / "mlops-console" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'default_profile = "{default}"\n[profiles.{default}]\n{body}\n')


# --- where it asks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cli", "env_uri", "expected"),
    [
        (URL_CLI, URL_ENV, URL_CLI),
        (None, URL_ENV, URL_ENV),
        (None, None, URL_PROFILE),
    ],
)
def test_the_uri_and_home_are_those_the_settings_resolve(
    tmp_path: Path, cli: str | None, env_uri: str | None, expected: str
) -> None:
    _profile(tmp_path, f'tracking_uri = "{URL_PROFILE}/"\nhome = "{tmp_path / "profile-home"}"')
    env = _env(tmp_path, **({"MLFLOW_TRACKING_URI": env_uri} if env_uri else {}))
    overrides = CliOverrides(tracking_uri=cli)
    target = prefetch.find_target(overrides, env)
    settings = load_settings(overrides, env)
    assert target is not None
    assert target.uri == settings.tracking_uri == expected
    assert target.home == settings.home == tmp_path / "profile-home"


@pytest.mark.parametrize(
    ("cli_home", "env_home"),
    [("cli-home", "env-home"), (None, "env-home"), (None, None), ("", None)],
)
def test_the_embedded_home_is_the_one_the_settings_resolve(
    tmp_path: Path, cli_home: str | None, env_home: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative homes resolve against the working directory
    env = _env(tmp_path, **({"MLOPS_CONSOLE_HOME": env_home} if env_home else {}))
    overrides = CliOverrides(home=cli_home)
    target = prefetch.find_target(overrides, env)
    assert target is not None and target.uri is None  # the embedded server of that home
    assert target.home == load_settings(overrides, env).home


@pytest.mark.parametrize(
    ("username", "password", "token"),
    [
        ("ann", "s3cret-pw", None),
        (None, None, "tok-123"),
        ("ann", "s3cret-pw", "tok-123"),  # Basic wins, as in MLflow's client
        ("ann", None, "tok-123"),  # a username alone is no Basic credential
        (None, None, None),
    ],
)
def test_credentials_go_as_the_client_sends_them(
    tmp_path: Path, username: str | None, password: str | None, token: str | None
) -> None:
    values = {
        "MLFLOW_TRACKING_USERNAME": username,
        "MLFLOW_TRACKING_PASSWORD": password,
        "MLFLOW_TRACKING_TOKEN": token,
    }
    env = _env(tmp_path, **{k: v for k, v in values.items() if v})
    target = prefetch.find_target(CliOverrides(tracking_uri=URL_CLI), env)
    assert target is not None
    expected = AuthConfig.create(username=username, password=password, token=token).headers()
    assert {k: v for k, v in target.headers.items() if k == "Authorization"} == expected
    for secret in (password, token):
        if secret:
            assert secret not in repr(target)


def test_credentials_from_the_profile_count_too(tmp_path: Path) -> None:
    _profile(tmp_path, f'tracking_uri = "{URL_PROFILE}"\ntracking_token = "from-profile"')
    target = prefetch.find_target(CliOverrides(), _env(tmp_path))
    assert target is not None
    assert target.headers["Authorization"] == "Bearer from-profile"


@pytest.mark.parametrize(
    ("why", "cli", "env_extra", "profile"),
    [
        ("insecure TLS", URL_CLI, {"MLFLOW_TRACKING_INSECURE_TLS": "true"}, None),
        ("a server CA", URL_CLI, {"MLFLOW_TRACKING_SERVER_CERT_PATH": "/x/ca.pem"}, None),
        ("a client certificate in the profile", URL_CLI, {}, 'tracking_client_cert_path = "/c"'),
        ("a proxy", URL_CLI, {"HTTPS_PROXY": "http://127.0.0.1:3128"}, None),
        ("a lowercase proxy", URL_CLI, {"http_proxy": "http://127.0.0.1:3128"}, None),
        ("a custom CA file for https", "https://127.0.0.1:7001", {"SSL_CERT_FILE": "/ca"}, None),
        ("credentials in the URL", "http://ann:pw@127.0.0.1:7001", {}, None),
        ("a backend store URI", "sqlite:///mlflow.db", {}, None),
        ("a URL with spaces", "http://127.0.0.1:7001/ x", {}, None),
        ("a URL without a host", "http://:7001", {}, None),
        ("a bad port", "http://127.0.0.1:99999", {}, None),
        ("a query string", "http://127.0.0.1:7001/?x=1", {}, None),
        ("a bad boolean", URL_CLI, {"MLFLOW_TRACKING_INSECURE_TLS": "maybe"}, None),
        ("a mixed-case proxy", URL_CLI, {"Https_Proxy": "http://127.0.0.1:3128"}, None),
        ("an empty CA path in the profile", URL_CLI, {}, 'tracking_server_cert_path = ""'),
        ("a setting the settings refuse", URL_CLI, {}, 'trackin_uri = "http://x"'),
        ("a number for a token", URL_CLI, {}, "tracking_token = 5"),
    ],
)
def test_no_helper_where_it_could_not_ask_as_the_client_does(
    tmp_path: Path, why: str, cli: str, env_extra: dict[str, str], profile: str | None
) -> None:
    if profile:
        _profile(tmp_path, profile)
    assert prefetch.find_target(CliOverrides(tracking_uri=cli), _env(tmp_path, **env_extra)) is None


def test_no_helper_with_an_unknown_or_unreadable_profile(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert prefetch.find_target(CliOverrides(tracking_uri=URL_CLI, profile="nope"), env) is None
    path = tmp_path / "config" / "mlops-console" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("this is [not toml")
    assert prefetch.find_target(CliOverrides(tracking_uri=URL_CLI), env) is None


def test_the_helper_can_be_turned_off(tmp_path: Path) -> None:
    env = _env(tmp_path, MLOPS_CONSOLE_NO_PREFETCH="1")
    assert prefetch.start(CliOverrides(tracking_uri=URL_CLI), env) is None


# --- what it hands over -------------------------------------------------------------------------


def _finish(first: prefetch.FirstPage, timeout: float = 30.0) -> None:
    """Read until the helper is done, then close, as the console does."""
    deadline = time.monotonic() + timeout
    while not first.read_available():
        assert time.monotonic() < deadline, "the helper did not finish"
        time.sleep(0.01)
    first.close()


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # reaped
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="module")
def foreign_runs(mlflow_server: MlflowServer) -> str:
    """An experiment logged as another team would: MLflow's client, no conventions of ours.

    It holds the newest runs on the server, so the console lands on it.
    """
    import uuid

    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=mlflow_server.url)
    experiment = client.create_experiment(f"fraud-team-{uuid.uuid4().hex[:6]}")
    now = int(time.time() * 1000)  # the newest runs on the server, as logged now
    for i in range(14):
        run = client.create_run(
            experiment,
            run_name=None if i == 3 else f"xgb-{i}",
            start_time=now + i * 1000,
            tags={"team": "fraud"} if i % 2 else None,
        )
        rid = run.info.run_id
        metrics = [Metric("auc", 0.7 + i / 100, now, 0), Metric("logloss", 1 / (i + 1), now, 0)]
        if i == 5:
            metrics += [Metric("weird", math.nan, now, 0), Metric("huge", math.inf, now, 0)]
        client.log_batch(
            rid,
            metrics=metrics,
            params=[Param("max_depth", str(3 + i % 4)), Param("eta", "0.1")],
            tags=[RunTag("note", "[bold]not markup[/] \x1b[31m\u200b")] if i == 7 else [],
        )
        if i % 3:
            client.set_terminated(rid, end_time=now + i * 1000 + 250 * i)
    return experiment


def test_the_rows_drawn_from_the_helper_are_the_rows_the_client_draws(
    mlflow_server: MlflowServer, foreign_runs: str, tmp_path: Path
) -> None:
    import asyncio

    from console.mlflow.client import MlflowRestClient
    from console.tui import data
    from widgets.run_columns import choose_columns
    from widgets.runs_pane import RunsPane

    first = prefetch.start(CliOverrides(tracking_uri=mlflow_server.url), _env(tmp_path))
    assert first is not None
    pid = first.pid
    _finish(first)
    answers = first.result()
    assert answers is not None and _gone(pid)

    async def client_view():
        async with MlflowRestClient(mlflow_server.url) as client:
            listed = await data.load_experiments(client)
            page = await data.load_runs(
                client, listed.latest or "", filter=None, order_by=None, page_size=100
            )
            return listed, page

    listed, page = asyncio.run(client_view())
    assert answers.landing is not None
    assert answers.landing.experiment_id == listed.latest == foreign_runs
    assert [(e.experiment_id, e.name) for e in answers.experiments] == [
        (e.experiment_id, e.name) for e in listed.page.items
    ]
    assert answers.more_experiments == listed.page.has_more
    wire = answers.runs.items
    real = page.items[: len(wire)]
    assert len(wire) == 14
    assert [r.run_id for r in wire] == [r.run_id for r in real]
    columns = choose_columns(wire)
    assert columns == choose_columns(real)
    assert {c.name for c in columns} >= {"auc", "max_depth", "weird"}
    now = time.time() * 1000
    for mine, theirs in zip(wire, real, strict=True):
        assert [str(RunsPane._cell(mine, c, now)) for c in columns] == [
            str(RunsPane._cell(theirs, c, now)) for c in columns
        ]
        assert (mine.name, mine.info.status, mine.info.duration_s, mine.info.user_id) == (
            theirs.name,
            theirs.info.status,
            theirs.info.duration_s,
            theirs.info.user_id,
        )
        assert (len(mine.params), len(mine.metrics)) == (len(theirs.params), len(theirs.metrics))


def test_a_server_with_credentials_answers_the_helper(tmp_path: Path) -> None:
    from tests.support.auth_server import ADMIN, ADMIN_ENV, basic_auth_mlflow_server

    with basic_auth_mlflow_server(tmp_path / "auth") as server:
        import httpx

        with httpx.Client(base_url=server.url, auth=ADMIN, timeout=30) as admin:
            created = admin.post("/api/2.0/mlflow/experiments/create", json={"name": "locked"})
            created.raise_for_status()
            admin.post(
                "/api/2.0/mlflow/runs/create",
                json={"experiment_id": created.json()["experiment_id"], "run_name": "only"},
            ).raise_for_status()
        cases = [
            (ADMIN_ENV, True),
            ({**ADMIN_ENV, "MLFLOW_TRACKING_PASSWORD": "wrong"}, False),
            ({}, False),
        ]
        for env_extra, answered in cases:
            first = prefetch.start(
                CliOverrides(tracking_uri=server.url), _env(tmp_path, **env_extra)
            )
            assert first is not None
            _finish(first)
            answers = first.result()
            assert (answers is not None) is answered, env_extra
            if answers is not None:
                assert [r.name for r in answers.runs.items] == ["only"]


# one experiment and one run whose metric is a 401-digit integer (float() overflows; the client's
# pydantic refuses it): the same body answers both of the helper's requests
HUGE_METRIC = (
    b'{"experiments": [{"experiment_id": "1", "name": "x"}], "runs": [{"info": {"run_id": "r", '
    b'"experiment_id": "1"}, "data": {"metrics": [{"key": "m", "value": 1' + b"0" * 400 + b"}]}}]}"
)


# --- how it ends --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (200, "text/html", b"<html>login</html>"),  # a proxy's login page
        (401, "application/json", b'{"error_code": "UNAUTHENTICATED"}'),
        (500, "application/json", b"{}"),
        (200, "application/json", b"not json"),
        (200, "application/json", b"[1, 2]"),
        (200, "application/json", b'{"experiments": "nope"}'),
        (200, "application/json", b'{"experiments": [{"experiment_id": 7, "name": "x"}]}'),
        (200, "application/json", b'{"experiments": [{"experiment_id": "1"}], "runs": [{}]}'),
        (200, "application/json", b'{"experiments": [], "runs": []}'),
        (200, "application/json", HUGE_METRIC),
    ],
    ids=[
        "html",
        "401",
        "500",
        "not-json",
        "a-list",
        "wrong-shape",
        "numeric-id",
        "run-without-id",
        "empty",
        "a-number-no-float-holds",
    ],
)
def test_answers_the_client_would_refuse_give_no_page(
    tmp_path: Path, status: int, content_type: str, body: bytes
) -> None:
    with answering_server(status, content_type, body) as url:
        first = prefetch.start(CliOverrides(tracking_uri=url), _env(tmp_path))
        assert first is not None
        pid = first.pid
        _finish(first)
        assert first.result() is None
        assert _gone(pid)


def test_nothing_listening_gives_no_page(tmp_path: Path) -> None:
    first = prefetch.start(CliOverrides(tracking_uri="http://127.0.0.1:1"), _env(tmp_path))
    assert first is not None
    pid = first.pid
    _finish(first)
    assert first.result() is None and _gone(pid)


def test_a_silent_server_does_not_keep_the_helper(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        first = prefetch.start(CliOverrides(tracking_uri=url), _env(tmp_path))
        assert first is not None
        pid = first.pid
        time.sleep(0.3)
        assert not first.read_available()  # still waiting for the server
        started = time.monotonic()
        first.close()  # the console quits
        assert time.monotonic() - started < 2
        assert _gone(pid)
    finally:
        silent.close()

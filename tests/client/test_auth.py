"""Auth paths against a real ``mlflow server --app-name basic-auth``: good and bad credentials,
who-am-I, permission lookups, and a reader denied a write.

Users and grants are made with MLflow's own admin REST endpoints, as an operator would.
"""

from __future__ import annotations

import pytest

from console.cli import main
from console.mlflow.errors import PermissionDenied, Unauthorized
from tests.support.auth_server import (
    ADMIN,
    ADMIN_ENV,
    EDITOR,
    READER,
    add_reader_and_editor,
    basic_auth_mlflow_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    with basic_auth_mlflow_server(tmp_path_factory.mktemp("mlflow-auth")) as server:
        from tests.client.conftest import seed

        seeded = seed(server.url, "registry", env=ADMIN_ENV)
        add_reader_and_editor(server.url, seeded["model"])
        yield {"url": server.url, **seeded}


def creds(pair):
    return {"username": pair[0], "password": pair[1]}


async def test_admin_is_known_and_may_edit(auth_server, make_client):
    async with make_client(auth_server["url"], **creds(ADMIN)) as client:
        user = await client.current_user()
        assert user.auth_enabled and user.is_admin and user.username == "admin"
        verdict = await client.can_edit_model(auth_server["model"])
        assert verdict.allowed is True and verdict.auth_enabled


async def test_missing_and_wrong_credentials(auth_server, make_client):
    async with make_client(auth_server["url"]) as client:
        with pytest.raises(Unauthorized, match="HTTP 401: You are not authenticated"):
            await client.get_registered_model(auth_server["model"])
        with pytest.raises(Unauthorized):
            await client.current_user()
    async with make_client(auth_server["url"], username="reader", password="wrong-pw") as client:
        with pytest.raises(Unauthorized) as info:
            await client.get_registered_model(auth_server["model"])
    assert "wrong-pw" not in str(info.value)
    assert "MLFLOW_TRACKING_USERNAME" in str(info.value)


async def test_token_alone_is_refused_and_basic_wins_over_token(auth_server, make_client):
    async with make_client(auth_server["url"], token="some-token") as client:
        with pytest.raises(Unauthorized):
            await client.get_registered_model(auth_server["model"])
    async with make_client(auth_server["url"], token="some-token", **creds(READER)) as client:
        assert (await client.get_registered_model(auth_server["model"])).name


async def test_reader_may_read_but_not_write(auth_server, make_client):
    name = auth_server["model"]
    async with make_client(auth_server["url"], **creds(READER)) as client:
        user = await client.current_user()
        assert user.username == "reader" and not user.is_admin
        verdict = await client.can_edit_model(name)
        assert verdict.allowed is False and verdict.permission == "READ"
        assert "may not edit" in verdict.reason
        versions = [v async for v in client.iter_model_versions(name=name, page_size=2)]
        assert len(versions) == 3
        with pytest.raises(PermissionDenied, match="HTTP 403"):
            await client.set_model_alias(name, "champion", 3)
        assert (await client.get_registered_model(name)).aliases["champion"] == "1"


async def test_editor_may_move_an_alias(auth_server, make_client):
    name = auth_server["model"]
    async with make_client(auth_server["url"], **creds(EDITOR)) as client:
        verdict = await client.can_edit_model(name)
        assert verdict.allowed is True and verdict.permission == "EDIT"
        await client.set_model_alias(name, "champion", 2)
        assert (await client.get_model_version_by_alias(name, "champion")).version == "2"


def test_cli_with_bad_credentials_is_one_line(auth_server, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "reader")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-the-password")
    code = main(["models", "--tracking-uri", auth_server["url"]])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "HTTP 401" in err and "not-the-password" not in err

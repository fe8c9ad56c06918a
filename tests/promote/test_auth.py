"""Permissions on a real ``mlflow server --app-name basic-auth``: a reader is refused before any
write is tried, with the reason; an editor promotes and is named by the server in the audit.
"""

from __future__ import annotations

import httpx
import pytest

from commands.promote import promote
from console.promotion_model import PromotionRequest
from tests.promote.conftest import Flow, Seeder
from tests.promote.test_actions import Recorder
from tests.support.auth_server import (
    ADMIN,
    EDITOR,
    READER,
    add_reader_and_editor,
    basic_auth_mlflow_server,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def auth_model(tmp_path_factory):
    with basic_auth_mlflow_server(tmp_path_factory.mktemp("promote-auth")) as server:
        seeder = Seeder(server.url, auth=ADMIN)
        name = seeder.model([{}, {}])
        seeder.alias(name, "champion", "1")
        add_reader_and_editor(server.url, name)
        yield server.url, name, seeder


class Recording(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.methods: list[str] = []

    async def handle_async_request(self, request):
        self.methods.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


async def test_a_reader_is_refused_before_trying(auth_model, tmp_path):
    url, name, seeder = auth_model
    flow = Flow(url, tmp_path / "home")
    transport = Recording()
    driver = Recorder()
    async with flow.client(username=READER[0], password=READER[1], transport=transport) as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version="2", alias="champion"),
            driver,
        )
    assert result.outcome == "refused"
    assert "reader has READ on" in result.message and "may not edit" in result.message
    assert driver.typed == []  # never asked to confirm
    assert not [m for m in transport.methods if not m.startswith("GET")]
    assert seeder.aliases(name) == {"champion": "1"}
    [record] = flow.audit.read().records
    assert (record.actor.name, record.actor.source) == ("reader", "server")
    assert record.outcome == "refused"


async def test_an_editor_promotes_and_the_server_names_them(auth_model, tmp_path):
    url, name, seeder = auth_model
    flow = Flow(url, tmp_path / "home")
    async with flow.client(username=EDITOR[0], password=EDITOR[1]) as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version="2", alias="champion", expect="1"),
            Recorder(),
        )
    assert result.outcome == "succeeded", result.message
    assert result.plan.permission.startswith("editor has EDIT")
    assert seeder.aliases(name) == {"champion": "2"}
    assert seeder.version(name, "2")["tags"]["mlops.promoted_by"] == "editor"
    [record] = flow.audit.read().records
    assert (record.actor.name, record.actor.source) == ("editor", "server")

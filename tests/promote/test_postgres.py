"""Concurrent first-time alias creation on a PostgreSQL-backed server: the unique-violation 400
is retried once when the alias is still absent, and never overwrites a writer that got there first.

Skipped cleanly when PostgreSQL is not reachable on 127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from commands.promote import _unique_violation, promote
from console.mlflow.errors import InvalidRequest
from console.promotion_model import PromotionRequest
from tests.promote.conftest import Flow, Seeder
from tests.promote.test_actions import Recorder
from tests.support.servers import postgres_available, postgres_mlflow_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not on 127.0.0.1:5432"),
]


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("promote-pg")
    with postgres_mlflow_server(workdir, "mlc_promote") as (server, _):
        yield server.url, Seeder(server.url)


class CollideOnce(httpx.AsyncBaseTransport):
    """Fault injection: the first alias POST answers as PostgreSQL did under a concurrent
    first-time creation; ``rival`` (optional) writes the alias first, as the other writer."""

    def __init__(self, rival=None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rival = rival
        self.collided = 0
        self.alias_posts = 0

    async def handle_async_request(self, request):
        if request.method == "POST" and request.url.path.endswith("registered-models/alias"):
            self.alias_posts += 1
            if not self.collided:
                self.collided += 1
                if self.rival:
                    await self.rival()
                body = (
                    b'{"error_code": "BAD_REQUEST", "message": "(psycopg.errors.UniqueViolation) '
                    b"duplicate key value violates unique constraint "
                    b'\\"registered_model_alias_pk\\""}'
                )
                return httpx.Response(
                    400, content=body, headers={"content-type": "application/json"}
                )
        return await self.inner.handle_async_request(request)


async def test_real_concurrent_first_time_creations(pg_server, tmp_path):
    """Many clients create one fresh alias at once: whatever PostgreSQL answers is either success
    or a violation our retry rule recognises; the alias ends on one of the versions."""
    url, seeder = pg_server
    flow = Flow(url, tmp_path / "home")
    name = seeder.model([{}] * 6)
    async with flow.client() as client:
        outcomes = await asyncio.gather(
            *(client.set_model_alias(name, "champion", v) for v in "123456"),
            return_exceptions=True,
        )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(e, InvalidRequest) and _unique_violation(e) for e in errors), errors
    assert seeder.aliases(name)["champion"] in set("123456")


async def test_collision_is_retried_once_when_the_alias_is_still_absent(pg_server, tmp_path):
    url, seeder = pg_server
    flow = Flow(url, tmp_path / "home")
    name = seeder.model([{}, {}])
    transport = CollideOnce()
    driver = Recorder()
    async with flow.client(transport=transport) as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version="2", alias="champion", expect="none"),
            driver,
        )
    assert result.outcome == "succeeded", result.message
    assert transport.alias_posts == 2
    assert any("retrying once" in w for w in driver.warnings)
    assert seeder.aliases(name) == {"champion": "2"}


async def test_collision_with_a_winner_is_a_lost_race_not_an_overwrite(pg_server, tmp_path):
    url, seeder = pg_server
    flow = Flow(url, tmp_path / "home")
    name = seeder.model([{}, {}])

    async def rival() -> None:
        await asyncio.to_thread(seeder.alias, name, "champion", "1")

    transport = CollideOnce(rival)
    async with flow.client(transport=transport) as client:
        result = await promote(
            flow.context(client),
            PromotionRequest(model=name, version="2", alias="champion", expect="none"),
            Recorder(),
        )
    assert result.outcome == "lost_race"
    assert transport.alias_posts == 1  # no retry over the winner
    assert seeder.aliases(name) == {"champion": "1"}
    assert flow.audit.read().records[0].outcome == "lost_race"

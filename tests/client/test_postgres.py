"""A smoke pass of the client against an ``mlflow server`` backed by PostgreSQL.

Skipped cleanly when PostgreSQL is not reachable on 127.0.0.1:5432.
"""

from __future__ import annotations

import pytest

from tests.support.servers import postgres_available, postgres_mlflow_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not on 127.0.0.1:5432"),
]


@pytest.fixture(scope="module")
def pg_seeded(tmp_path_factory):
    with postgres_mlflow_server(tmp_path_factory.mktemp("mlflow-pg"), "mlc_client") as (server, _):
        from tests.client.conftest import seed

        yield {"url": server.url, **seed(server.url, "registry")}


async def test_reads_and_writes_on_postgres(pg_seeded, make_client):
    name = pg_seeded["model"]
    async with make_client(pg_seeded["url"]) as client:
        exp = pg_seeded["experiments"][0]
        runs = [r async for r in client.iter_runs(exp, page_size=2, order_by="metrics.rmse ASC")]
        assert len(runs) == 5 and runs[0].metric_value("rmse") == pytest.approx(0.6)
        versions = {v.version: v async for v in client.iter_model_versions(name=name, page_size=2)}
        assert versions["1"].aliases == ["champion"] and versions["3"].aliases == ["challenger"]
        await client.set_model_alias(name, "champion", 2)
        assert (await client.get_model_version_by_alias(name, "champion")).version == "2"
        await client.delete_model_alias(name, "champion")
        assert "champion" not in (await client.get_registered_model(name)).aliases
        found = [m async for m in client.iter_logged_models(exp, page_size=2)]
        assert len(found) == 3

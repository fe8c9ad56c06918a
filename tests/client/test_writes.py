"""Registry and run writes against a real ``mlflow server``: aliases, stages and tags.

Each write is checked by reading back through the same client.
"""

from __future__ import annotations

import pytest

from console.errors import ReadOnlyError
from console.mlflow.errors import InvalidRequest, NotFound


@pytest.fixture(scope="module")
def seeded(mlflow_server):
    from tests.client.conftest import seed

    return {"url": mlflow_server.url, **seed(mlflow_server.url, "registry")}


async def test_set_move_and_delete_alias(seeded, make_client):
    name = seeded["model"]
    async with make_client(seeded["url"]) as client:
        await client.set_model_alias(name, "staging-candidate", 2)
        assert (await client.get_registered_model(name)).aliases["staging-candidate"] == "2"
        await client.set_model_alias(name, "staging-candidate", "3")  # a move
        assert (await client.get_model_version_by_alias(name, "staging-candidate")).version == "3"
        versions = {v.version: v async for v in client.iter_model_versions(name=name)}
        assert versions["3"].aliases == ["challenger", "staging-candidate"]
        await client.delete_model_alias(name, "staging-candidate")
        assert "staging-candidate" not in (await client.get_registered_model(name)).aliases
        with pytest.raises(InvalidRequest):
            await client.set_model_alias(name, "bad alias!", 1)
        with pytest.raises(NotFound):
            await client.set_model_alias(f"{name}-missing", "x", 1)


async def test_transition_stage(seeded, make_client):
    name = seeded["model"]
    async with make_client(seeded["url"]) as client:
        moved = await client.transition_model_version_stage(name, 2, "staging")
        assert moved.current_stage == "Staging"
        assert (await client.get_model_version(name, 2)).current_stage == "Staging"
        with pytest.raises(InvalidRequest, match="unknown stage"):
            await client.transition_model_version_stage(name, 2, "prod")


async def test_tags_on_versions_models_and_runs(seeded, make_client):
    name, run_id = seeded["model"], seeded["runs"][1]
    async with make_client(seeded["url"]) as client:
        await client.set_model_version_tag(name, 1, "approved_by", "ops")
        assert (await client.get_model_version(name, 1)).tags["approved_by"] == "ops"
        await client.delete_model_version_tag(name, 1, "approved_by")
        assert "approved_by" not in (await client.get_model_version(name, 1)).tags

        await client.set_registered_model_tag(name, "owner", "ml-platform")
        assert (await client.get_registered_model(name)).tags["owner"] == "ml-platform"
        await client.delete_registered_model_tag(name, "owner")
        assert "owner" not in (await client.get_registered_model(name)).tags

        await client.set_run_tag(run_id, "reviewed", "true")
        assert (await client.get_run(run_id)).tags["reviewed"] == "true"
        await client.delete_run_tag(run_id, "reviewed")
        assert "reviewed" not in (await client.get_run(run_id)).tags


async def test_read_only_client_refuses_writes_before_sending(seeded, make_client):
    async with make_client(seeded["url"], read_only=True) as client:
        with pytest.raises(ReadOnlyError):
            await client.set_model_alias(seeded["model"], "champion", 3)
        assert (await client.get_registered_model(seeded["model"])).aliases["champion"] == "1"

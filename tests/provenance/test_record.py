"""The provenance record of a version from the real server: every part filled, timings within
budget in-process, and gaps named for a version that logged nothing."""

from __future__ import annotations

import asyncio

from console.mlflow.client import MlflowRestClient
from console.provenance.collect import ProvenanceSources, collect
from tests.provenance.conftest import settings_for
from tests.provenance.world import TABLE, World


def record_of(world: World, case: str, side: str = "right", **settings_extra):
    settings = settings_for(world.home, world.tracking_uri, **settings_extra)
    pair = world.cases[case]

    async def go():
        sources = ProvenanceSources.from_settings(settings)
        try:
            async with MlflowRestClient(world.tracking_uri) as client:
                return await collect(client, pair.model, getattr(pair, side), sources)
        finally:
            await sources.aclose()

    return asyncio.run(go())


def test_complete_record(world: World) -> None:
    record = record_of(world, "snapshot")
    _, b = world.snapshots
    assert record.run is not None and record.run.params["seed"] == "1"
    assert record.data.table == TABLE and record.data.snapshot_id == b
    assert record.data.dataset_digest == b
    assert record.data.snapshot is not None and record.data.snapshot.snapshot_id == b
    assert record.data.snapshot.total_records == 60
    assert record.code.commit == world.commits[1]
    assert record.code.details is not None and record.code.details.subject == "training code step 2"
    assert record.environment.mlmodel is not None
    assert "sklearn" in record.environment.mlmodel.flavors
    # MLflow adds its own pin to the requirements it was given
    assert {"scikit-learn==1.9.1", "numpy==2.4.6"} <= set(record.environment.requirements)
    assert record.environment.has_input_example
    # no DataHub store in this world: said, not hidden
    assert [g.area for g in record.gaps] == ["lineage"]
    assert record.seconds is not None and record.seconds < 1.0


def test_record_without_provenance_lists_every_gap(world: World) -> None:
    record = record_of(world, "missing", side="left")
    areas = {g.area for g in record.gaps}
    assert {"data", "code", "params"} <= areas
    assert any("data.iceberg.table" in g.message for g in record.gaps)
    assert any("mlflow.source.git.commit" in g.message for g in record.gaps)
    assert any("seed" in g.message for g in record.gaps)
    assert not record.complete


def test_clone_from_profile_mapping(world: World) -> None:
    # a remote URL in the tags would need the mapping; here the mapping points at the clone
    record = record_of(world, "commit", git_repos={world.repo.as_uri(): world.repo})
    assert record.code.clone == str(world.repo)

"""Every read of the client against a real ``mlflow server`` (sqlite), seeded by MLflow itself.

Each paginated call is exercised with a page size small enough to need several pages.
"""

from __future__ import annotations

import pytest

from console.mlflow.errors import InvalidRequest, NotFound
from console.model import ModelFiles


@pytest.fixture(scope="module")
def seeded(mlflow_server):
    from tests.client.conftest import seed

    return {"url": mlflow_server.url, **seed(mlflow_server.url, "full")}


async def test_server_version(seeded, make_client):
    async with make_client(seeded["url"]) as client:
        assert (await client.server_version())[0].isdigit()


async def test_experiments_page_by_page_and_iterated(seeded, make_client):
    flt = f"name LIKE '{seeded['prefix']}%'"
    async with make_client(seeded["url"]) as client:
        first = await client.search_experiments_page(filter=flt, page_size=2, order_by="name")
        assert [e.name for e in first.items] == [
            f"{seeded['prefix']}-exp-a",
            f"{seeded['prefix']}-exp-b",
        ]
        assert first.has_more
        second = await client.search_experiments_page(
            filter=flt, page_size=2, order_by="name", page_token=first.next_page_token
        )
        assert [e.name for e in second.items] == [f"{seeded['prefix']}-exp-c"]
        assert second.next_page_token is None
        names = [e.name async for e in client.iter_experiments(filter=flt, page_size=2)]
        assert len(names) == 3
        capped = [e async for e in client.iter_experiments(filter=flt, page_size=2, max_items=1)]
        assert len(capped) == 1
        exp = await client.get_experiment(seeded["experiments"][0])
        assert exp.name.endswith("-exp-a") and exp.creation_time
        assert (await client.find_experiment(exp.name)).experiment_id == exp.experiment_id
        assert (await client.find_experiment(exp.experiment_id)).name == exp.name
        with pytest.raises(NotFound):
            await client.get_experiment_by_name(f"{seeded['prefix']}-missing")


async def test_runs_pages_filter_order_and_fields(seeded, make_client):
    exp = seeded["experiments"][0]
    async with make_client(seeded["url"]) as client:
        page = await client.search_runs_page(exp, page_size=2, order_by="params.alpha ASC")
        assert len(page.items) == 2 and page.next_page_token
        runs = [r async for r in client.iter_runs(exp, page_size=2, order_by=["params.alpha"])]
        assert [r.params["alpha"] for r in runs] == ["0", "1", "2", "3", "4"]
        assert set(r.run_id for r in runs) == set(seeded["runs"])
        low = [r async for r in client.iter_runs(exp, filter="metrics.rmse < 0.75", page_size=1)]
        # run 0 logged rmse down to 0.6 at step 4; the latest value is what filters see
        assert {r.params["alpha"] for r in low} == {"0", "3", "4"}
        run = await client.get_run(seeded["runs"][0])
        assert run.name == "run-0" and run.info.status == "FINISHED"
        assert run.info.duration_s is not None and run.info.started_at is not None
        assert run.metrics["rmse"].step == 4 and run.metric_value("mae") == 0.5
        assert run.tags["mlflow.source.git.commit"] == f"{0:040x}"
        assert run.params["data.iceberg.snapshot_id"] == "1000"
        (dataset_input,) = run.inputs
        assert dataset_input.dataset.name == "lake.ns.events"
        assert dataset_input.dataset.digest == "1000"
        assert dataset_input.context == "training"
        odd = await client.get_run(seeded["runs"][4])
        assert odd.name == "\x1b[31mred\x1b[0m"  # kept verbatim; escaping is the display's job
        with pytest.raises(InvalidRequest):
            await client.search_runs_page(exp, filter="this is not a filter")


async def test_metric_history_across_pages(seeded, make_client):
    async with make_client(seeded["url"]) as client:
        history = await client.get_metric_history(seeded["runs"][0], "rmse", page_size=2)
        assert [p.step for p in history.points] == [0, 1, 2, 3, 4]
        page = await client.get_metric_history_page(seeded["runs"][0], "rmse", page_size=2)
        assert len(page.items) == 2 and page.next_page_token
        empty = await client.get_metric_history(seeded["runs"][0], "no-such-metric")
        assert empty.points == []


async def test_registered_models_and_aliases(seeded, make_client):
    prefix = seeded["prefix"]
    flt = f"name LIKE '{prefix}%'"
    async with make_client(seeded["url"]) as client:
        page = await client.search_registered_models_page(filter=flt, page_size=2)
        assert len(page.items) == 2 and page.has_more
        models = [m async for m in client.iter_registered_models(filter=flt, page_size=2)]
        assert sorted(m.name for m in models) == [
            f"{prefix}-model",
            f"{prefix}-model-b",
            f"{prefix}-model-c",
        ]
        model = await client.get_registered_model(f"{prefix}-model")
        assert model.aliases == {"champion": "1", "challenger": "3"}
        assert model.tags == {"team": "risk"} and model.description == "seeded model"
        assert model.latest_version == "3"
        assert model.aliases_of("1") == ["champion"]
        with pytest.raises(NotFound):
            await client.get_registered_model(f"{prefix}-nope")


async def test_model_versions_with_merged_aliases(seeded, make_client):
    name = seeded["model"]
    async with make_client(seeded["url"]) as client:
        page = await client.search_model_versions_page(name=name, page_size=2)
        assert len(page.items) == 2 and page.has_more
        versions = {v.version: v async for v in client.iter_model_versions(name=name, page_size=2)}
        assert sorted(versions) == ["1", "2", "3"]
        assert versions["1"].aliases == ["champion"]
        assert versions["3"].aliases == ["challenger"]
        assert versions["2"].aliases == [] and versions["2"].tags == {"validated": "yes"}
        assert versions["1"].run_id == seeded["model_run"]
        assert versions["1"].logged_model_id == seeded["logged_models"][-1]
        plain = await client.search_model_versions_page(name=name, with_aliases=False)
        assert all(v.aliases == [] for v in plain.items)
        one = await client.get_model_version(name, 3)
        assert one.aliases == ["challenger"]
        by_alias = await client.get_model_version_by_alias(name, "champion")
        assert by_alias.version == "1"
        with pytest.raises(NotFound):
            await client.get_model_version_by_alias(name, "nobody")
        with pytest.raises(NotFound):
            await client.get_model_version(name, 99)


async def test_logged_models(seeded, make_client):
    async with make_client(seeded["url"]) as client:
        page = await client.search_logged_models_page(seeded["experiments"][0], page_size=2)
        assert len(page.items) == 2 and page.has_more
        found = [m async for m in client.iter_logged_models(seeded["experiments"][0], page_size=2)]
        assert {m.model_id for m in found} == set(seeded["logged_models"][:3])
        logged = await client.get_logged_model(seeded["logged_models"][-1])
        assert logged.source_run_id == seeded["model_run"] and logged.name == "model"
        with pytest.raises(NotFound):
            await client.get_logged_model("m-0000000000000000")


async def test_model_files(seeded, make_client):
    async with make_client(seeded["url"]) as client:
        files = await client.get_model_files(seeded["model"], 1)
        assert isinstance(files, ModelFiles) and files.missing == []
        mlmodel = files.mlmodel
        assert mlmodel is not None
        assert [c.name for c in mlmodel.signature.inputs] == ["a", "b"]
        assert mlmodel.signature.outputs[0].type == "double"
        assert "sklearn" in mlmodel.flavors and mlmodel.python_version
        assert mlmodel.mlflow_version and mlmodel.model_id == seeded["logged_models"][-1]
        assert files.python_env and files.python_env.python == mlmodel.python_version
        assert "scikit-learn" in files.requirements.pins or any(
            "scikit-learn" in line for line in files.requirements.lines
        )
        assert files.input_example == {"columns": ["a", "b"], "data": [[1.0, 0.0], [2.0, 1.0]]}
        with pytest.raises(NotFound):
            await client.get_model_version_file(seeded["model"], 1, "no-such-file")
        from console.mlflow.errors import BadResponse

        with pytest.raises(BadResponse, match="larger than"):
            await client.get_model_version_file(seeded["model"], 1, "MLmodel", max_bytes=10)


async def test_concurrent_reads_share_the_bound(seeded, make_client):
    import asyncio

    async with make_client(seeded["url"], max_concurrency=2) as client:
        runs = await asyncio.gather(*(client.get_run(r) for r in seeded["runs"]))
        assert [r.run_id for r in runs] == seeded["runs"]

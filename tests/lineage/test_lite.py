"""The lineage reader against real DataHub Lite stores: healthy and broken, every problem kind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from console.errors import ConsoleError
from console.lineage import urns
from console.lineage.lite import LiteSource
from console.lineage.reader import LineageReader
from console.model import Run, RunInfo
from tests.lineage.conftest import RUN_A, RUN_B
from tests.lineage.stores import MODEL, TABLE, RunSpec


async def _version(path: Path, version: str, **kwargs):
    async with LineageReader(LiteSource(path)) as reader:
        return await reader.lineage_for_version(MODEL, version, **kwargs)


def _kinds(graph) -> set[str]:
    return {p.kind for p in graph.problems}


def test_urn_digest_matches_datahub() -> None:
    from datahub.api.entities.dataprocess.dataprocess_instance import DataProcessInstance

    assert urns.mlflow_run_dpi_urn(RUN_A) == str(
        DataProcessInstance(id=RUN_A, orchestrator="mlflow").urn
    )
    assert urns.openlineage_dpi_urn(RUN_A) == (
        "urn:li:dataProcessInstance:01234567-89ab-cdef-0123-456789abcdef"
    )
    assert urns.run_id_from_openlineage_urn(urns.openlineage_dpi_urn(RUN_A)) == RUN_A
    assert urns.model_version_parts(urns.model_version_urn("a_b", "3")) == ("a_b", "3")


async def test_healthy_version_graph(healthy_store: Path) -> None:
    graph = await _version(healthy_store, "1")
    assert graph.problems == []
    root = graph.node(graph.root)
    assert root is not None and root.type == "model_version" and root.name == f"{MODEL} v1"
    # one stitched run node carrying both DataHub names of the MLflow run
    runs = [n for n in graph.nodes if n.type == "run" and n.depth == 1]
    training = [n for n in runs if n.properties.get("run_id") == RUN_A]
    assert len(training) == 1
    run = training[0]
    assert run.id == f"mlflow-run:{RUN_A}"
    assert set(run.urns) == set(urns.run_urns(RUN_A))
    assert run.properties["seen_by"] == "mlflow+openlineage"
    # the data edge pins the snapshot; the MLflow dataset reference collapsed into the table
    data = [(e, f) for e, f in graph.children(run.id, "upstream") if f.startswith("urn:li:dataset")]
    assert [f for _, f in data] == [urns.iceberg_dataset_urn(TABLE)]
    assert data[0][0].snapshot_id == "5123456789012345678"
    # third hop: the table's own upstream; the job template; downstream consumer; the group
    table = graph.node(urns.iceberg_dataset_urn(TABLE))
    assert table is not None and table.depth == 2
    assert [graph.node(f).name for _, f in graph.children(table.id, "upstream")] == [
        "gh.public.commits"
    ]
    assert any(n.type == "data_job" for n in graph.nodes)
    downstream = [graph.node(f) for _, f in graph.children(root.id, "downstream")]
    assert [n.name for n in downstream] == ["score-weekly"]
    assert downstream[0].id.startswith("urn:li:dataProcessInstance:")  # not an MLflow run
    groups = [graph.node(f) for _, f in graph.children(root.id, "context")]
    assert [g.type for g in groups] == ["model_group"]
    # only version 1's run, not version 2's
    assert not any(n.properties.get("run_id") == RUN_B for n in graph.nodes)


async def test_direction_and_depth(healthy_store: Path) -> None:
    up = await _version(healthy_store, "1", direction="upstream", depth=1)
    assert {e.direction for e in up.edges} <= {"upstream", "context"}
    assert max(n.depth for n in up.nodes) == 1
    down = await _version(healthy_store, "1", direction="downstream")
    assert not any(e.direction == "upstream" for e in down.edges)
    with pytest.raises(ConsoleError):
        await _version(healthy_store, "1", depth=0)


async def test_three_hops_within_budget(healthy_store: Path) -> None:
    start = time.perf_counter()
    graph = await _version(healthy_store, "2")
    assert time.perf_counter() - start < 0.5
    assert max(n.depth for n in graph.nodes) == 3


async def test_run_and_dataset_roots(healthy_store: Path) -> None:
    async with LineageReader(LiteSource(healthy_store)) as reader:
        run_graph = await reader.lineage_for_run(RUN_B)
        data_graph = await reader.lineage_for_dataset(TABLE, depth=2)
        missing = await reader.lineage_for_run("0" * 32)
    assert run_graph.root == f"mlflow-run:{RUN_B}"
    assert any(n.name == f"{MODEL} v2" for n in run_graph.nodes)
    consumers = {
        data_graph.node(f).properties.get("run_id")
        for _, f in data_graph.children(data_graph.root, "downstream")
    }
    assert {RUN_A, RUN_B} <= consumers
    assert _kinds(missing) == {"not_found"}


async def test_version_not_in_datahub(healthy_store: Path) -> None:
    graph = await _version(healthy_store, "99")
    assert _kinds(graph) == {"version_not_in_datahub"}


async def test_version_without_run(make_store) -> None:
    store = make_store([RunSpec(run_id=RUN_A, version="1", mlflow_source=False, openlineage=False)])
    graph = await _version(store, "1")
    assert _kinds(graph) == {"version_without_run"}
    # with MLflow's word on the run, the missing OpenLineage events are named too
    run = Run(info=RunInfo(run_id=RUN_A), params={"data.iceberg.table": TABLE})
    graph = await _version(store, "1", mlflow_run=run)
    assert _kinds(graph) == {"version_without_run", "events_never_sent"}


async def test_events_never_sent(make_store) -> None:
    store = make_store([RunSpec(run_id=RUN_A, version="1", openlineage=False)])
    graph = await _version(store, "1")
    kinds = _kinds(graph)
    assert "events_never_sent" in kinds
    # the MLflow source's input survives (via the dataset reference) but carries no pin
    assert "snapshot_not_pinned" in kinds
    run = graph.node(f"mlflow-run:{RUN_A}")
    assert run is not None and run.properties["seen_by"] == "mlflow"


async def test_run_not_ingested(make_store) -> None:
    store = make_store([RunSpec(run_id=RUN_A, version="1", mlflow_source=False)])
    graph = await _version(store, "1")
    # the OpenLineage run produced the model: found by the incoming edge, not trainingJobs
    assert graph.node(f"mlflow-run:{RUN_A}") is not None
    assert "run_not_ingested" in _kinds(graph)
    assert "version_without_run" not in _kinds(graph)


async def test_dataset_name_mismatch(make_store) -> None:
    store = make_store(
        [RunSpec(run_id=RUN_A, version="1", mlflow_source=False, ol_table="lake.git.commits_v2")]
    )
    run = Run(
        info=RunInfo(run_id=RUN_A),
        params={"data.iceberg.table": TABLE, "data.iceberg.snapshot_id": "5123456789012345678"},
    )
    graph = await _version(store, "1", mlflow_run=run)
    problem = next(p for p in graph.problems if p.kind == "dataset_name_mismatch")
    assert problem.expected == TABLE and problem.actual == "lake.git.commits_v2"


async def test_snapshot_mismatch(make_store) -> None:
    store = make_store([RunSpec(run_id=RUN_A, version="1", param_snapshot="42")])
    graph = await _version(store, "1")
    problem = next(p for p in graph.problems if p.kind == "snapshot_mismatch")
    assert (problem.expected, problem.actual) == ("42", "5123456789012345678")


async def test_mlflow_client_cross_check(healthy_store: Path) -> None:
    class FakeMlflow:
        async def get_model_version(self, name, version):
            return type("V", (), {"run_id": RUN_B})()

        async def get_run(self, run_id):
            return Run(info=RunInfo(run_id=run_id), params={})

    graph = await _version(healthy_store, "1", mlflow=FakeMlflow())
    assert "run_mismatch" in _kinds(graph)


async def test_missing_and_corrupt_store(tmp_path: Path) -> None:
    with pytest.raises(ConsoleError, match="no DataHub Lite store"):
        await _version(tmp_path / "absent.db", "1")
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite")
    with pytest.raises(ConsoleError, match="cannot read"):
        await _version(bad, "1")


async def test_hostile_strings_stay_data(make_store) -> None:
    store = make_store([RunSpec(run_id=RUN_A, version="1", ol_table="lake.git.\x1b[31mred")])
    graph = await _version(store, "1")
    from console.lineage.render import tree_lines

    text = "\n".join(tree_lines(graph))
    assert "\x1b" not in text and "\\x1b" in text

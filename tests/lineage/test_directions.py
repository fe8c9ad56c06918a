"""Each check judges only evidence the traversal read (issue 21, finding 6).

A downstream view (``d`` in the pane, ``--direction down``) does not read a version's training run
or its data: the checks that need them are "not checked" (text and JSON), never problems, and the
exit code counts only problems found on what was traversed. Real DataHub Lite stores throughout;
the foreign case is a plain scikit-learn model logged with MLflow's own client against the real
MLflow server, ingested by DataHub's real MLflow source, with lineage emitted by the plain
openlineage-python client or not at all.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from console.cli import main
from console.lineage.checks import DATA_KINDS, VERSION_KINDS
from console.lineage.lite import LiteSource
from console.lineage.reader import LineageReader
from console.lineage.render import tree_lines
from console.model import Run, RunInfo
from tests.lineage.conftest import RUN_A
from tests.lineage.stores import MODEL, TABLE, RunSpec

PARAMS = {"data.iceberg.table": TABLE, "data.iceberg.snapshot_id": "5123456789012345678"}


async def _version(path: Path, version: str = "1", **kwargs):
    async with LineageReader(LiteSource(path)) as reader:
        return await reader.lineage_for_version(MODEL, version, **kwargs)


async def _run(path: Path, run_id: str = RUN_A, **kwargs):
    async with LineageReader(LiteSource(path)) as reader:
        return await reader.lineage_for_run(run_id, **kwargs)


def _kinds(graph) -> set[str]:
    return {p.kind for p in graph.problems}


def _skipped(graph) -> dict[str, str]:
    return {item.kind: item.reason for item in graph.not_checked}


def _home(tmp_path: Path, store: Path) -> Path:
    target = tmp_path / "home" / "datahub" / "lite.db"
    target.parent.mkdir(parents=True)
    shutil.copy(store, target)
    return tmp_path / "home"


@pytest.fixture(scope="module")
def runless_store(make_store) -> Path:
    """Version 1 has neither the MLflow-source run nor OpenLineage events: upstream is broken."""
    return make_store([RunSpec(run_id=RUN_A, version="1", mlflow_source=False, openlineage=False)])


@pytest.fixture(scope="module")
def unsent_store(make_store) -> Path:
    """Version 1's run reached DataHub through its MLflow source only (no OpenLineage)."""
    return make_store([RunSpec(run_id=RUN_A, version="1", openlineage=False)])


MLFLOW_RUN = Run(info=RunInfo(run_id=RUN_A), params=PARAMS)


async def test_downstream_of_a_healthy_version_judges_only_the_root(healthy_store: Path) -> None:
    down = await _version(healthy_store, direction="downstream", mlflow_run=MLFLOW_RUN)
    assert down.problems == []
    assert down.checked == ["version_not_in_datahub"]
    assert _skipped(down) == dict.fromkeys(VERSION_KINDS, "direction")
    assert all(i.hint and "--direction up or both" in i.hint for i in down.not_checked)
    # the consumer downstream is still shown
    assert [down.node(f).name for _, f in down.children(down.root, "downstream")] == [
        "score-weekly"
    ]
    for direction in ("upstream", "both"):
        graph = await _version(healthy_store, direction=direction, mlflow_run=MLFLOW_RUN)
        assert graph.problems == [] and graph.not_checked == [], direction
        assert set(VERSION_KINDS) <= set(graph.checked)


async def test_downstream_does_not_judge_a_broken_upstream(runless_store: Path) -> None:
    up = await _version(runless_store, direction="upstream", mlflow_run=MLFLOW_RUN)
    assert _kinds(up) == {"version_without_run", "events_never_sent"}
    both = await _version(runless_store, direction="both", mlflow_run=MLFLOW_RUN)
    assert _kinds(both) == _kinds(up)
    down = await _version(runless_store, direction="downstream", mlflow_run=MLFLOW_RUN)
    assert down.problems == []
    assert {"version_without_run", "events_never_sent"} <= set(_skipped(down))


async def test_a_missing_version_is_an_error_in_every_direction(healthy_store: Path) -> None:
    for direction in ("upstream", "downstream", "both"):
        graph = await _version(healthy_store, "99", direction=direction)
        assert _kinds(graph) == {"version_not_in_datahub"}, direction
        assert set(_skipped(graph).values()) == {"no_subject"}


async def test_depth_one_leaves_the_data_checks_unchecked(healthy_store: Path) -> None:
    """One hop up reaches the run but not its inputs: no 'read no input dataset'."""
    graph = await _version(healthy_store, direction="upstream", depth=1, mlflow_run=MLFLOW_RUN)
    assert graph.problems == []
    assert _skipped(graph) == dict.fromkeys(DATA_KINDS, "depth")
    assert {i.hint for i in graph.not_checked} == {"--depth 2 or more (+ in the lineage pane)"}
    assert "events_never_sent" in graph.checked and "version_without_run" in graph.checked
    deeper = await _version(healthy_store, direction="upstream", depth=2, mlflow_run=MLFLOW_RUN)
    assert deeper.not_checked == [] and deeper.problems == []


async def test_run_root_downstream(healthy_store: Path, unsent_store: Path) -> None:
    down = await _run(healthy_store, direction="downstream", mlflow_run=MLFLOW_RUN)
    assert down.problems == []
    assert _skipped(down) == dict.fromkeys(DATA_KINDS, "direction")
    up = await _run(healthy_store, direction="upstream", mlflow_run=MLFLOW_RUN)
    assert up.problems == [] and up.not_checked == []
    # how a run reached DataHub is read with the run itself: judged in every direction
    for direction in ("upstream", "downstream", "both"):
        graph = await _run(unsent_store, direction=direction, mlflow_run=MLFLOW_RUN)
        assert "events_never_sent" in _kinds(graph), direction
        assert "events_never_sent" in graph.checked


async def test_without_mlflow_the_cross_check_is_not_checked(healthy_store: Path) -> None:
    graph = await _version(healthy_store)
    assert graph.problems == []
    assert _skipped(graph) == {"run_mismatch": "mlflow"}


async def test_text_says_what_was_not_checked(healthy_store: Path) -> None:
    graph = await _version(healthy_store, direction="downstream")
    text = tree_lines(graph)
    assert "problems: none" in text
    start = text.index("not checked (7; not problems):")
    block = "\n".join(text[start:])
    assert "this view traversed downstream only" in block
    assert all(kind in block for kind in VERSION_KINDS)
    assert "to check: --direction up or both" in block


def test_cli_exit_code_counts_only_what_was_traversed(
    tmp_path: Path, runless_store: Path, capsys
) -> None:
    home = _home(tmp_path, runless_store)
    codes, docs = {}, {}
    for direction in ("down", "up", "both"):
        codes[direction] = main(
            ["--home", str(home), "lineage", MODEL, "1", "--direction", direction, "--json"]
        )
        docs[direction] = json.loads(capsys.readouterr().out)
    assert codes == {"down": 0, "up": 1, "both": 1}
    assert docs["down"]["problems"] == []
    assert docs["down"]["checked"] == ["version_not_in_datahub"]
    assert {i["kind"] for i in docs["down"]["not_checked"]} == set(VERSION_KINDS)
    assert {i["reason"] for i in docs["down"]["not_checked"]} == {"direction"}
    assert [p["kind"] for p in docs["up"]["problems"]] == ["version_without_run"]
    assert main(["--home", str(home), "lineage", MODEL, "1", "--direction", "down"]) == 0
    out = capsys.readouterr().out
    assert "problems: none" in out and "not checked (7; not problems):" in out


# --- the foreign case: a model logged the way other teams log theirs -------------------------


@pytest.fixture(scope="module")
def foreign(mlflow_server, tmp_path_factory: pytest.TempPathFactory):
    """Plain scikit-learn logged with MLflow's client (no provenance contract, no params the
    console knows); v1 emits no lineage, v2's run emits START/COMPLETE with the plain
    openlineage-python client (runId = the MLflow run id read as a UUID, no console facet)."""
    from mlflow import MlflowClient
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState

    from tests.serve.models import register_sklearn_model

    name = register_sklearn_model(mlflow_server.url, f"foreign-{uuid.uuid4().hex[:6]}")
    client = MlflowClient(tracking_uri=mlflow_server.url)
    runs = {v.version: v.run_id for v in client.search_model_versions(f"name='{name}'")}
    home = tmp_path_factory.mktemp("foreign") / "home"
    events = home / "openlineage" / "events.jsonl"
    events.parent.mkdir(parents=True)
    ol = OpenLineageClient(
        config={"transport": {"type": "file", "log_file_path": str(events), "append": True}}
    )
    for state in (RunState.START, RunState.COMPLETE):
        ol.emit(
            RunEvent(
                eventType=state,
                eventTime="2026-01-05T10:00:00Z",
                producer="https://example.invalid/other-team",
                run=Run(runId=str(uuid.UUID(runs["2"]))),
                job=Job(namespace="other-team", name="iris.train"),
                inputs=[InputDataset(namespace="file", name="/data/iris.csv")],
                outputs=[],
            )
        )
    assert len(events.read_text().splitlines()) >= 2
    assert main(["--home", str(home), "--tracking-uri", mlflow_server.url, "lineage", "sync"]) == 0
    return home, name, mlflow_server.url


def _foreign(foreign, capsys, version: str, direction: str) -> tuple[int, dict]:
    home, name, url = foreign
    args = ["--home", str(home), "--tracking-uri", url, "lineage", name, version]
    code = main([*args, "--direction", direction, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_foreign_model_downstream_invents_nothing(foreign, capsys) -> None:
    for version in ("1", "2"):
        code, doc = _foreign(foreign, capsys, version, "down")
        assert (code, doc["problems"]) == (0, []), version
        assert doc["checked"] == ["version_not_in_datahub"]
        assert "version_without_run" in {i["kind"] for i in doc["not_checked"]}


@pytest.mark.slow
def test_foreign_model_upstream_says_what_is_true(foreign, capsys) -> None:
    # v1 sent no OpenLineage at all: true upstream, and the same in both
    code, up = _foreign(foreign, capsys, "1", "up")
    errors = [p["kind"] for p in up["problems"] if p["severity"] == "error"]
    assert (code, errors) == (1, ["events_never_sent"])
    code_both, both = _foreign(foreign, capsys, "1", "both")
    assert code_both == 1 and both["problems"] == up["problems"]
    # v2's run came through both DataHub names; its params name no Iceberg table: nothing to pin
    code, up = _foreign(foreign, capsys, "2", "up")
    assert code == 0, up["problems"]
    assert [p["kind"] for p in up["problems"]] == ["params_unavailable"]
    run = next(n for n in up["nodes"] if n["type"] == "run")
    assert run["properties"]["seen_by"] == "mlflow+openlineage"
    assert {i["kind"]: i["reason"] for i in up["not_checked"]} == dict.fromkeys(
        DATA_KINDS, "no_params"
    )


async def test_pane_says_not_checked(healthy_store: Path) -> None:
    from textual.app import App, ComposeResult

    from widgets.lineage_pane import LineagePane

    graph = await _version(healthy_store, direction="downstream")

    class Host(App):
        def compose(self) -> ComposeResult:
            yield LineagePane(id="pane")

    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(LineagePane)
        pane.show_graph(graph, f"{MODEL} version 1")
        await pilot.pause()
        body = str(pane.query_one("#lineage-body").content)
        assert "no problems found" in body and "problem(s)" not in body
        assert "not checked (7): needs the training run and its data, upstream" in body
        assert "--direction up or both (d in the lineage pane)" in body

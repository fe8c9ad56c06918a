"""The lineage reader: one API over DataHub Lite or GMS, with the problem checks applied.

``open_reader(settings)`` picks GMS when ``datahub_gms_url`` is configured, else the embedded Lite
store. Every method is async and meant for a worker; an optional MLflow client (anything with
``get_model_version`` and ``get_run``) lets the checks compare DataHub with what MLflow says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from console.errors import ConsoleError
from console.lineage import checks, urns
from console.lineage.model import Direction, LineageGraph, LineageProblem
from console.lineage.traverse import LineageSource, walk

DEFAULT_DEPTH = 3
MAX_DEPTH = 10


class MlflowLookup(Protocol):
    async def get_model_version(self, name: str, version: str | int) -> Any: ...

    async def get_run(self, run_id: str) -> Any: ...


def _check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise ConsoleError(f"depth must be between 1 and {MAX_DEPTH}, not {depth}")
    return depth


def _not_found(graph: LineageGraph, what: str) -> None:
    root = graph.node(graph.root)
    if root is not None and not root.exists:
        graph.problems.append(
            LineageProblem(
                kind="not_found",
                severity="error",
                message=f"{what} is not in DataHub ({graph.location})",
                node=graph.root,
                hint=checks.SYNC_HINT,
            )
        )


class LineageReader:
    def __init__(self, source: LineageSource) -> None:
        self.source = source

    async def __aenter__(self) -> LineageReader:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        closer = getattr(self.source, "aclose", None)
        if closer is not None:
            await closer()

    async def lineage_for_version(
        self,
        model: str,
        version: str | int,
        *,
        depth: int = DEFAULT_DEPTH,
        direction: Direction = "both",
        mlflow: MlflowLookup | None = None,
        mlflow_run: Any = None,
    ) -> LineageGraph:
        """Group → version → training runs → input datasets (snapshot on the edge) → upstream;
        downstream: runs that consumed the version. ``mlflow_run`` (a ``console.model.Run``)
        or ``mlflow`` (a client) add the MLflow cross-checks. Checks judge only what was
        traversed (``checks``); the rest are listed in ``graph.not_checked``."""
        trav, graph = await walk(
            self.source,
            [urns.model_version_urn(model, version)],
            depth=_check_depth(depth),
            direction=direction,
        )
        graph.problems += self.source.take_problems()
        run_id, params = None, None
        if trav.was_expanded(graph.root, "upstream"):
            # only the upstream checks use MLflow's word: a downstream view does not ask it
            run_id, params, problems = await _mlflow_side(model, str(version), mlflow, mlflow_run)
            graph.problems += problems
        findings = checks.check_version(
            graph, mlflow_run_id=run_id, mlflow_params=params, expanded=trav.was_expanded
        )
        return findings.apply(graph)

    async def lineage_for_run(
        self,
        run_id: str,
        *,
        depth: int = DEFAULT_DEPTH,
        direction: Direction = "both",
        mlflow_run: Any = None,
    ) -> LineageGraph:
        trav, graph = await walk(
            self.source, urns.run_urns(run_id), depth=_check_depth(depth), direction=direction
        )
        graph.problems += self.source.take_problems()
        _not_found(graph, f"run {run_id}")
        params = dict(getattr(mlflow_run, "params", None) or {}) or None
        return checks.check_run_root(graph, params, expanded=trav.was_expanded).apply(graph)

    async def lineage_for_dataset(
        self, dataset: str, *, depth: int = DEFAULT_DEPTH, direction: Direction = "both"
    ) -> LineageGraph:
        """``dataset`` is a dataset URN or an Iceberg table name (``lake.git.commits``)."""
        urn = dataset if dataset.startswith("urn:li:") else urns.iceberg_dataset_urn(dataset)
        _, graph = await walk(self.source, [urn], depth=_check_depth(depth), direction=direction)
        graph.problems += self.source.take_problems()
        _not_found(graph, f"dataset {dataset}")
        graph.checked.append("not_found")  # a dataset root has no other check
        return graph


async def _mlflow_side(
    model: str, version: str, mlflow: MlflowLookup | None, mlflow_run: Any
) -> tuple[str | None, dict[str, str] | None, list[LineageProblem]]:
    """(run id, params) of the version according to MLflow, or what stopped us learning them."""
    if mlflow_run is not None:
        info = getattr(mlflow_run, "info", None)
        return getattr(info, "run_id", None), dict(getattr(mlflow_run, "params", {}) or {}), []
    if mlflow is None:
        return None, None, []
    try:
        found = await mlflow.get_model_version(model, version)
        run_id = getattr(found, "run_id", None)
        if not run_id:
            return None, None, []
        run = await mlflow.get_run(run_id)
        return run_id, dict(getattr(run, "params", {}) or {}), []
    except ConsoleError as exc:
        return (
            None,
            None,
            [
                LineageProblem(
                    kind="mlflow_unavailable",
                    severity="warning",
                    message=f"could not cross-check with MLflow: {exc}",
                )
            ],
        )


def open_reader(settings: Any) -> LineageReader:
    """GMS when ``datahub_gms_url`` (or ``~/.datahubenv``) says so, else the embedded Lite store."""
    from console.lineage.gms import GmsSource, gms_config

    config = gms_config(settings)
    if config is not None:
        return LineageReader(GmsSource(config))
    return LineageReader(lite_source_for(settings.home))


def lite_source_for(home: Path | str) -> LineageSource:
    from console.embedded.lifecycle import EmbeddedPaths
    from console.lineage.lite import LiteSource

    return LiteSource(EmbeddedPaths.for_home(home).datahub_lite_db)

"""Assemble the provenance record of a model version from MLflow, Iceberg, git and lineage.

Independent reads run concurrently (the version, its model files and the registered model; then
the run; then the snapshot, the commit and the lineage); blocking work runs in threads. Whatever
cannot be established becomes a ``Gap`` with the reason, so an incomplete record never passes for
a complete one. Only a version that does not exist (or an unreachable server) is an error. A
commit tag that is not a commit id (``gitinfo.is_revision``) is a gap and never reaches git.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console import gitinfo
from console.errors import ConsoleError
from console.iceberg import SnapshotReader
from console.model import ModelFiles, ModelVersion, Run
from console.provenance.model import (
    CodeProvenance,
    DataProvenance,
    EnvironmentProvenance,
    Gap,
    LineageSummary,
    ProvenanceRecord,
    RunFacts,
    VersionFacts,
)

PARAM_TABLE = "data.iceberg.table"
PARAM_SNAPSHOT = "data.iceberg.snapshot_id"
TAG_COMMIT = "mlflow.source.git.commit"
TAG_REPO = "mlflow.source.git.repoURL"
TAG_BRANCH = "mlflow.source.git.branch"
TAG_SOURCE = "mlflow.source.name"
LINEAGE_DEPTH = 2
# the start of the gap for model files the server would not give (its reason follows)
UNREADABLE_FILES = "model files unreadable"


_NAME_PARTS = re.compile(r"\.|__|/|:")


def is_seed_param(key: str) -> bool:
    """Params that hold a random seed, by the last component of their name, any case:
    ``seed``, ``random_seed``, ``rng_seed``, ``model.seed``, ``random_state`` and a scikit-learn
    pipeline's ``gbc__random_state`` (as ``Pipeline.get_params`` and autolog name it)."""
    last = _NAME_PARTS.split(key.lower())[-1]
    return "seed" in last or last == "random_state"


class ProvenanceSources:
    """What provenance reads besides MLflow: Iceberg metadata, git clones, a lineage reader."""

    def __init__(
        self,
        *,
        snapshots: SnapshotReader | None = None,
        git_repos: Mapping[str, Path] | None = None,
        lineage: Any = None,
    ) -> None:
        self.snapshots = snapshots
        self.git_repos = dict(git_repos or {})
        self.lineage = lineage

    @classmethod
    def from_settings(cls, settings: Any, *, lineage: bool = True) -> ProvenanceSources:
        reader = None
        if lineage:
            from console.lineage.reader import open_reader

            reader = open_reader(settings)
        return cls(
            snapshots=SnapshotReader.from_settings(settings),
            git_repos=settings.git_repos,
            lineage=reader,
        )

    async def aclose(self) -> None:
        if self.lineage is not None:
            await self.lineage.aclose()


async def collect(
    client: Any, model: str, version: str | int, sources: ProvenanceSources
) -> ProvenanceRecord:
    """The provenance record of ``model`` version ``version``; raises if the version is unknown."""
    from console.mlflow.errors import MlflowError

    started = time.monotonic()
    version = str(version)
    gaps: list[Gap] = []

    async def files() -> ModelFiles | None:
        try:
            return await client.get_model_files(model, version)
        except MlflowError as exc:
            # the files hold the environment and the signature too: an ``artifact`` gap leaves
            # all three unknown on this side (``diagnose_causes.COVERS``)
            gaps.append(Gap(area="artifact", message=f"{UNREADABLE_FILES}: {exc.message}"))
            return None

    async def aliases() -> list[str]:
        try:
            return (await client.get_registered_model(model)).aliases_of(version)
        except MlflowError:
            return []  # aliases are a courtesy; the version read below says what matters

    mv, model_files, alias_list = await asyncio.gather(
        client.get_model_version(model, version), files(), aliases()
    )
    facts = _version_facts(mv)
    facts.aliases = alias_list
    record = ProvenanceRecord(model=model, version=version, version_info=facts)
    record.environment = _environment(model_files, gaps)

    run: Run | None = None
    if not mv.run_id:
        gaps.append(Gap(area="run", message="the version names no source run"))
    else:
        try:
            run = await client.get_run(mv.run_id)
        except MlflowError as exc:
            gaps.append(Gap(area="run", message=f"run {mv.run_id} unreadable: {exc.message}"))
    if run is not None:
        record.run = _run_facts(run)
        _check_params(run, gaps)
    record.data = _data(run, gaps)
    record.code = _code(run, gaps)

    snapshot_gaps, code_gaps, lineage_gaps = [], [], []
    await asyncio.gather(
        _fill_snapshot(record.data, sources, snapshot_gaps),
        _fill_commit(record.code, sources, code_gaps),
        _fill_lineage(record, run, sources, lineage_gaps),
    )
    record.gaps = gaps + snapshot_gaps + code_gaps + lineage_gaps
    record.seconds = round(time.monotonic() - started, 4)
    return record


def _version_facts(mv: ModelVersion) -> VersionFacts:
    return VersionFacts(
        name=mv.name,
        version=mv.version,
        run_id=mv.run_id,
        source=mv.source,
        status=mv.status,
        stage=mv.current_stage,
        created=mv.creation_timestamp,
        logged_model_id=mv.logged_model_id,
        tags=dict(mv.tags),
    )


def _run_facts(run: Run) -> RunFacts:
    return RunFacts(
        run_id=run.run_id,
        name=run.name or None,
        experiment_id=run.info.experiment_id,
        status=run.info.status,
        user=run.info.user_id,
        start_time=run.info.start_time,
        end_time=run.info.end_time,
        params=dict(run.params),
        metrics={k: m.value for k, m in run.metrics.items()},
        tags=dict(run.tags),
        datasets=list(run.inputs),
    )


def _check_params(run: Run, gaps: list[Gap]) -> None:
    if not run.params:
        gaps.append(Gap(area="params", message="the run logged no params"))
    elif not any(is_seed_param(k) for k in run.params):
        gaps.append(
            Gap(area="params", message="no random seed among the params (seed, random_state)")
        )


def _environment(files: ModelFiles | None, gaps: list[Gap]) -> EnvironmentProvenance:
    if files is None:
        return EnvironmentProvenance()
    env = EnvironmentProvenance(
        mlmodel=files.mlmodel,
        requirements=list(files.requirements.lines) if files.requirements else [],
        python_env=files.python_env,
        has_input_example=files.input_example is not None,
        input_example=files.input_example,
        missing_files=list(files.missing),
    )
    if files.mlmodel is None:
        gaps.append(Gap(area="artifact", message="the model has no MLmodel file on the server"))
    elif files.mlmodel.signature is None:
        gaps.append(Gap(area="signature", message="MLmodel records no signature"))
    if files.requirements is None:
        gaps.append(Gap(area="environment", message="no requirements.txt with the model"))
    if files.python_env is None:
        gaps.append(Gap(area="environment", message="no python_env.yaml with the model"))
    if files.input_example is None:
        gaps.append(Gap(area="signature", message="no input example with the model"))
    return env


def _data(run: Run | None, gaps: list[Gap]) -> DataProvenance:
    if run is None:
        gaps.append(Gap(area="data", message="no run: the training data is unknown"))
        return DataProvenance()
    table = run.params.get(PARAM_TABLE)
    snapshot = run.params.get(PARAM_SNAPSHOT)
    data = DataProvenance(table=table.lower() if table else None, snapshot_id=snapshot)
    if table:
        data.catalog = table.split(".", 1)[0]
        for item in run.inputs:
            if item.dataset.name.lower() == table.lower():
                data.dataset_digest = item.dataset.digest
                break
    if not table and not snapshot and any(i.dataset.digest for i in run.inputs):
        pass  # MLflow's dataset inputs (name, digest, source) are the run's data record
    elif not table or not snapshot:
        missing = [p for p in (PARAM_TABLE, PARAM_SNAPSHOT) if not run.params.get(p)]
        names = [i.dataset.name for i in run.inputs if i.dataset.name]
        seen = f" (dataset inputs: {', '.join(names)})" if names else ""
        gaps.append(Gap(area="data", message=f"param {' and '.join(missing)} not logged{seen}"))
    elif data.dataset_digest is None:
        gaps.append(Gap(area="data", message=f"no dataset input named {table}"))
    elif data.dataset_digest != snapshot:
        gaps.append(
            Gap(
                area="data",
                message=(
                    f"dataset input digest {data.dataset_digest} is not the snapshot {snapshot} "
                    "named by the param"
                ),
            )
        )
    return data


def _code(run: Run | None, gaps: list[Gap]) -> CodeProvenance:
    if run is None:
        gaps.append(Gap(area="code", message="no run: the training code is unknown"))
        return CodeProvenance()
    code = CodeProvenance(
        commit=run.tags.get(TAG_COMMIT),
        repo_url=run.tags.get(TAG_REPO),
        branch=run.tags.get(TAG_BRANCH),
        source_name=run.tags.get(TAG_SOURCE),
    )
    if not code.commit:
        gaps.append(Gap(area="code", message=f"tag {TAG_COMMIT} not logged"))
    elif not gitinfo.is_revision(code.commit):  # never passed to git (an option, a ref name)
        gaps.append(Gap(area="code", message=gitinfo.not_a_revision(code.commit)))
    elif not code.repo_url:
        gaps.append(Gap(area="code", message=f"tag {TAG_REPO} not logged"))
    return code


async def _fill_snapshot(data: DataProvenance, sources: ProvenanceSources, gaps: list) -> None:
    if not data.table or not data.snapshot_id:
        return
    if sources.snapshots is None:
        gaps.append(Gap(area="data", message="no Iceberg catalog configured"))
        return
    try:
        data.snapshot = await sources.snapshots.snapshot(data.table, data.snapshot_id)
    except ConsoleError as exc:
        gaps.append(Gap(area="data", message=f"snapshot facts unavailable: {exc}"))


async def _fill_commit(code: CodeProvenance, sources: ProvenanceSources, gaps: list) -> None:
    if not code.commit or not code.repo_url or not gitinfo.is_revision(code.commit):
        return
    clone = gitinfo.find_clone(code.repo_url, sources.git_repos)
    if clone is None:
        gaps.append(
            Gap(
                area="code",
                message=(
                    f"no local clone of {code.repo_url}: commit details unavailable "
                    "(map it in the profile's git_repos)"
                ),
            )
        )
        return
    code.clone = str(clone)
    try:
        code.details = await gitinfo.commit(clone, code.commit)
    except ConsoleError as exc:
        gaps.append(Gap(area="code", message=f"commit details unavailable: {exc}"))


async def _fill_lineage(
    record: ProvenanceRecord, run: Run | None, sources: ProvenanceSources, gaps: list
) -> None:
    if sources.lineage is None:
        return
    try:
        graph = await sources.lineage.lineage_for_version(
            record.model,
            record.version,
            depth=LINEAGE_DEPTH,
            direction="upstream",
            mlflow_run=run,
        )
    except ConsoleError as exc:
        gaps.append(Gap(area="lineage", message=f"lineage unavailable: {exc}"))
        return
    summary = LineageSummary(
        backend=graph.backend,
        location=graph.location,
        nodes=len(graph.nodes),
        edges=len(graph.edges),
        runs=[n.properties.get("run_id") or n.name for n in graph.nodes if n.type == "run"],
        datasets=[n.name for n in graph.nodes if n.type == "dataset"],
        problems=[p.message for p in graph.problems],
    )
    for edge in graph.edges:
        if edge.snapshot_id:
            ends = [graph.node(x) for x in (edge.source, edge.target)]
            dataset = next((n for n in ends if n is not None and n.type == "dataset"), None)
            summary.pinned_snapshots[dataset.name if dataset else edge.target] = edge.snapshot_id
    record.lineage = summary
    for problem in graph.problems:
        if problem.severity == "error":
            gaps.append(Gap(area="lineage", message=problem.message))

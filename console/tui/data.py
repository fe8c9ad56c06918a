"""What the console's panes and screens ask of MLflow: one async function per request.

Core code (no Textual): the shell runs each of these in a worker and hands the result to widgets.
Pages stay small (the runs list asks for one page at a time) so the first rows paint quickly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.mlflow.errors import MlflowError, NotFound

# the landing's requests: the first-page helper (console.prefetch) makes the same ones
from console.prefetch import EXPERIMENT_ORDER, EXPERIMENT_PAGE
from console.prefetch import RUN_ORDER as DEFAULT_RUN_ORDER
from console.tui.commands import CommandError

if TYPE_CHECKING:  # only annotations here; the client imports the models when it runs
    from console.model import (
        Experiment,
        LoggedModel,
        MetricHistory,
        ModelFiles,
        ModelVersion,
        Page,
        RegisteredModel,
        Run,
    )

MODEL_PAGE = 200
VERSION_PAGE = 100
# a run detail fetches the history of at most this many metrics, and this many logged models
HISTORY_LIMIT = 24
LOGGED_MODEL_LIMIT = 8


@dataclass
class RunDetail:
    run: Run
    histories: dict[str, MetricHistory] = field(default_factory=dict)
    logged_models: list[LoggedModel] = field(default_factory=list)


@dataclass
class VersionDetail:
    version: ModelVersion
    files: ModelFiles | None
    files_error: str | None = None


def model_filter(text: str | None) -> str | None:
    """Plain text matches part of a model name; text with an operator is MLflow filter syntax."""
    text = (text or "").strip()
    if not text:
        return None
    if any(op in text for op in ("=", " LIKE ", " like ", " ILIKE ", " ilike ")):
        return text
    quote = '"' if "'" in text and '"' not in text else "'"
    return f"name ILIKE {quote}%{text.replace(quote, '_')}%{quote}"


@dataclass
class ExperimentList:
    """The first page of experiments, and the one holding the most recent run (None: no runs)."""

    page: Page[Experiment]
    latest: str | None = None


async def load_experiments(client: Any) -> ExperimentList:
    # most recently updated first: the experiment an operator is working on leads
    page = await client.search_experiments_page(
        order_by=list(EXPERIMENT_ORDER), page_size=EXPERIMENT_PAGE
    )
    latest = None
    if page.items:
        # an experiment's update time does not move when runs are logged: ask for the newest run
        runs = await client.search_runs_page(
            [e.experiment_id for e in page.items], order_by=[DEFAULT_RUN_ORDER], page_size=1
        )
        if runs.items:
            latest = runs.items[0].info.experiment_id
    return ExperimentList(page, latest)


async def find_experiment(client: Any, name: str) -> Experiment:
    """An experiment by name or id; a clear error when there is none."""
    try:
        return await client.find_experiment(name)
    except NotFound:
        raise CommandError(f"experiment {name!r} does not exist on this server") from None


async def find_model(client: Any, name: str) -> RegisteredModel:
    """A registered model by exact name; a clear error when there is none."""
    try:
        return await client.get_registered_model(name)
    except NotFound:
        raise CommandError(
            f"model {name!r} does not exist on this server", hint="/ filters models by name"
        ) from None


async def load_runs(
    client: Any,
    experiment_id: str,
    *,
    filter: str | None,
    order_by: str | None,
    page_size: int,
    page_token: str | None = None,
) -> Page[Run]:
    order = [order_by, DEFAULT_RUN_ORDER] if order_by else [DEFAULT_RUN_ORDER]
    return await client.search_runs_page(
        [experiment_id],
        filter=filter,
        order_by=order,
        page_size=page_size,
        page_token=page_token,
    )


async def load_models(client: Any, filter: str | None = None) -> Page[RegisteredModel]:
    return await client.search_registered_models_page(
        filter=model_filter(filter), order_by="name ASC", page_size=MODEL_PAGE
    )


async def load_versions(client: Any, name: str) -> Page[ModelVersion]:
    return await client.search_model_versions_page(
        name=name, order_by="version_number DESC", page_size=VERSION_PAGE
    )


async def load_run(client: Any, run_id: str) -> Run:
    return await client.get_run(run_id)


async def load_run_detail(client: Any, run_id: str) -> RunDetail:
    """The run, the history of its metrics (sparklines) and the models it logged."""
    run = await client.get_run(run_id)
    keys = sorted(run.metrics)[:HISTORY_LIMIT]
    model_ids = [o.model_id for o in run.outputs][:LOGGED_MODEL_LIMIT]

    async def history(key: str) -> MetricHistory | None:
        try:
            return await client.get_metric_history(run_id, key)
        except MlflowError:
            return None  # the latest value is still shown; history is a nicety

    async def logged(model_id: str) -> LoggedModel | None:
        try:
            return await client.get_logged_model(model_id)
        except MlflowError:
            return None

    histories, models = await asyncio.gather(
        asyncio.gather(*(history(k) for k in keys)),
        asyncio.gather(*(logged(m) for m in model_ids)),
    )
    return RunDetail(
        run=run,
        histories={h.key: h for h in histories if h is not None},
        logged_models=[m for m in models if m is not None],
    )


async def load_version_detail(client: Any, name: str, version: str) -> VersionDetail:
    """The version with its aliases merged in, and its small model files."""
    found, model = await asyncio.gather(
        client.get_model_version(name, version), client.get_registered_model(name)
    )
    found.aliases = model.aliases_of(found.version)
    try:
        files = await client.get_model_files(name, version)
    except NotFound:
        return VersionDetail(found, None, "the server has no files for this version")
    except MlflowError as exc:
        return VersionDetail(found, None, exc.message)
    return VersionDetail(found, files)

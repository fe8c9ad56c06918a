"""MLflow side of the demo: training runs that follow the provenance contract, and the registry.

Each run logs explicit git tags, the Iceberg table and snapshot as params and as a dataset input
whose digest is the snapshot id, every hyperparameter, holdout metrics, and a model with
signature, input example and pinned requirements.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd
from mlflow.data.dataset_source import DatasetSource

from commands.demo.coderepo import CodeRepo
from commands.demo.config import MODEL_NAME, TABLE_NAME, Hyperparams
from commands.demo.features import FEATURE_COLUMNS

# pinned to what is installed, so the model's environment is reproducible
_PINNED = ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "skops")
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


class IcebergDatasetSource(DatasetSource):
    """An Iceberg table at a snapshot; ``source_type`` ``iceberg`` maps to DataHub's platform."""

    def __init__(self, table: str, snapshot_id: str) -> None:
        self.table = table
        self.snapshot_id = snapshot_id

    @staticmethod
    def _get_source_type() -> str:
        return "iceberg"

    def load(self, **kwargs: Any) -> Any:
        raise NotImplementedError("load the snapshot with pyiceberg: scan(snapshot_id=...)")

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> IcebergDatasetSource:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "snapshot_id": self.snapshot_id}

    @classmethod
    def from_dict(cls, source_dict: dict[str, Any]) -> IcebergDatasetSource:
        return cls(source_dict["table"], str(source_dict["snapshot_id"]))


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    snapshot_id: str
    start_ms: int
    end_ms: int


def pinned_requirements() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in _PINNED]


def ensure_experiment(client, name: str) -> str:
    """The id of an active experiment ``name``, created when missing.

    A deleted experiment of that name is retired first: restoring it would bring its old runs
    back (MLflow restores an experiment's runs with it).
    """
    found = client.get_experiment_by_name(name)
    if found is not None and found.lifecycle_stage == "deleted":
        _retire_experiment(client, found)
        found = None
    if found is None:
        return client.create_experiment(name)
    return found.experiment_id


def _retire_experiment(client, experiment) -> int:
    """Delete an experiment's runs and logged models, free its name, delete it; count runs."""
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    for run in runs:
        client.delete_run(run.info.run_id)
    for logged in client.search_logged_models(experiment_ids=[experiment.experiment_id]):
        client.delete_logged_model(logged.model_id)
    # a deleted experiment keeps its name: rename it so a fresh one can be created
    client.rename_experiment(
        experiment.experiment_id, f"{experiment.name} (deleted {experiment.experiment_id})"
    )
    client.delete_experiment(experiment.experiment_id)
    return len(runs)


def log_training_run(
    *,
    experiment_id: str,
    run_name: str,
    hyperparams: Hyperparams,
    snapshot_id: str,
    snapshot_rows: pd.DataFrame,
    holdout: pd.DataFrame,
    model,
    metrics: dict[str, float],
    code: CodeRepo,
    extra_params: dict[str, Any],
    role: str,
) -> LoggedRun:
    """Log one finished training as an MLflow run following the provenance contract."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.models import infer_signature
    from mlflow.sklearn import log_model as log_sklearn_model

    tags = {
        "mlflow.source.git.commit": code.commit,
        "mlflow.source.git.repoURL": code.repo_url,
        "mlflow.source.git.branch": code.branch,
        "mlflow.source.name": "trainer.py",
        "mlflow.source.type": "LOCAL",
        "demo.role": role,
    }
    # rows spread over the holdout, so the example (and the invariance checks run on it) covers
    # several repositories and buckets
    examples = holdout[list(FEATURE_COLUMNS)].iloc[::8].head(24).reset_index(drop=True)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run:
        run_id = run.info.run_id
        params = {
            "data.iceberg.table": TABLE_NAME,
            "data.iceberg.snapshot_id": snapshot_id,
            **{k: "None" if v is None else v for k, v in hyperparams.model_dump().items()},
            **extra_params,
        }
        mlflow.log_params(params)
        dataset = from_pandas(
            snapshot_rows,
            source=IcebergDatasetSource(TABLE_NAME, snapshot_id),
            name=TABLE_NAME,
            digest=snapshot_id,
        )
        mlflow.log_input(dataset, context="training", tags={"iceberg.snapshot_id": snapshot_id})
        mlflow.log_metrics(metrics)
        signature = infer_signature(examples, model.predict(examples))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = log_sklearn_model(
                model,
                name="model",
                signature=signature,
                input_example=examples,
                pip_requirements=pinned_requirements(),
                skops_trusted_types=TRUSTED_TYPES,
            )
    # bound: ActiveRun.__exit__ returns a bool, but never swallows an exception
    finished = mlflow.get_run(run_id)  # pyright: ignore[reportPossiblyUnboundVariable]
    return LoggedRun(
        run_id=run_id,  # pyright: ignore[reportPossiblyUnboundVariable]
        model_uri=info.model_uri,  # pyright: ignore[reportPossiblyUnboundVariable]
        metrics=metrics,
        snapshot_id=snapshot_id,
        start_ms=finished.info.start_time,
        end_ms=finished.info.end_time or finished.info.start_time,
    )


def register_version(client, logged: LoggedRun, *, description: str, tags: dict[str, str]) -> str:
    """Register the run's model as a new version of MODEL_NAME; return the version number."""
    import mlflow

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        version = mlflow.register_model(logged.model_uri, MODEL_NAME, tags=tags)
    client.update_model_version(MODEL_NAME, version.version, description=description)
    return str(version.version)


def promote_champion(client, version: str) -> None:
    """Alias ``champion`` and stage ``Staging`` for the best grid version."""
    client.set_registered_model_alias(MODEL_NAME, "champion", version)
    with warnings.catch_warnings():
        # stages are deprecated in the client but still part of the registry the console shows
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(MODEL_NAME, version, "Staging")


def delete_demo_objects(client, experiment_name: str) -> list[str]:
    """Delete the demo's registered model, logged models, runs and experiment; say what went."""
    from mlflow.exceptions import MlflowException

    removed = []
    try:
        client.delete_registered_model(MODEL_NAME)
        removed.append(f"registered model {MODEL_NAME}")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    found = client.get_experiment_by_name(experiment_name)
    if found is None:
        return removed
    count = _retire_experiment(client, found)
    removed.append(f"experiment {experiment_name} ({count} runs)")
    return removed

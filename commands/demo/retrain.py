"""The demo model's training entry point for retraining: the champion's recipe on a new snapshot.

``python -m commands.demo.retrain --home H --tracking-uri U --from-version V [--snapshot S]``
trains the hyperparameters and settings of version V on snapshot S (default: the table's newest)
with the demo's feature builder and trainer, logs the run with the full provenance contract
(git tags, Iceberg table and snapshot params and dataset input, signature, pinned requirements,
the snapshot tagged ``mlflow-<run_id>``, OpenLineage events synced into DataHub Lite), registers
it as a new version and prints one JSON line: ``{"model", "version", "run_id", "snapshot_id",
"metrics"}``. The retrain runbook runs it as a subprocess (mlflow, pandas and sklearn stay there).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from commands.demo.config import EXPERIMENT_NAME, MODEL_NAME, TABLE_IDENT, DemoConfig, Hyperparams
from commands.demo.result import DemoPaths

_HYPER = tuple(Hyperparams.model_fields)
_DATA = ("data.iceberg.table", "data.iceberg.snapshot_id")


def _number(text: str | None):
    if text in (None, "None", ""):
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def recipe(params: dict[str, str]) -> tuple[Hyperparams, dict[str, Any]]:
    """(hyperparameters, the other recipe params) from a demo run's params."""
    hp = Hyperparams(**{k: _number(params.get(k)) for k in _HYPER if k in params})
    extra = {k: v for k, v in params.items() if k not in _HYPER and k not in _DATA}
    return hp, extra


def _code_repo(path: Path):
    from commands.demo.coderepo import BRANCH, CodeRepo, _git

    commits = tuple(_git(path, "rev-list", "--reverse", "HEAD").split())
    return CodeRepo(path=path, commit=commits[-1], branch=BRANCH, commits=commits)


def retrain(
    paths: DemoPaths, tracking_uri: str, from_version: str, snapshot_id: str | None = None
) -> dict[str, Any]:
    import mlflow
    from mlflow import MlflowClient

    from commands.demo import features, lake, lineage, tracking, trainer
    from commands.demo.pipeline import _quiet_mlflow
    from commands.lineage_sync import sync_events

    config = DemoConfig()
    with _quiet_mlflow():
        mlflow.set_tracking_uri(tracking_uri)
        client = MlflowClient(tracking_uri)
        source = client.get_model_version(MODEL_NAME, from_version)
        params = dict(client.get_run(source.run_id).data.params)
        hp, extra = recipe(params)
        catalog = lake.open_catalog(paths.catalog_db, paths.warehouse)
        if snapshot_id is None:
            snapshot_id = str(catalog.load_table(TABLE_IDENT).current_snapshot().snapshot_id)
        raw = lake.read_snapshot(catalog, snapshot_id)
        weekly = features.weekly_commits(raw, config.start)
        low = int(extra.get("bucket.low_max", config.low_max))
        medium = int(extra.get("bucket.medium_max", config.medium_max))
        rows = features.feature_rows(weekly, low, medium)
        holdout_weeks = int(extra.get("holdout_weeks", config.holdout_weeks))
        # the holdout is the last weeks of *this* snapshot, as the pipeline does for its own
        train, holdout = features.split_holdout(rows, int(weekly["week"].max()) + 1, holdout_weeks)
        model = trainer.train(train, **hp.model_dump())
        metrics, _ = trainer.evaluate(model, holdout)
        code = _code_repo(paths.git_repo)
        experiment_id = tracking.ensure_experiment(client, EXPERIMENT_NAME)
        name = f"retrain-from-v{from_version}-snapshot-{snapshot_id[-6:]}"
        logged = tracking.log_training_run(
            experiment_id=experiment_id,
            run_name=name,
            hyperparams=hp,
            snapshot_id=snapshot_id,
            snapshot_rows=raw,
            holdout=holdout,
            model=model,
            metrics=metrics,
            code=code,
            extra_params={**extra, "retrained_from_version": from_version},
            role="retrain",
        )
        version = tracking.register_version(
            client,
            logged,
            description=f"v{from_version}'s recipe retrained on snapshot {snapshot_id}",
            tags={"demo.role": "retrain", "mlops.retrained_from": str(from_version)},
        )
        lake.tag_snapshot(catalog, snapshot_id, f"mlflow-{logged.run_id}")
        lineage.emit_events(
            paths.events,
            [
                lineage.RunLineage(
                    run_id=logged.run_id,
                    run_name=name,
                    experiment_id=experiment_id,
                    snapshot_id=snapshot_id,
                    start_ms=logged.start_ms,
                    end_ms=logged.end_ms,
                    model_version=version,
                )
            ],
            tracking_uri,
        )
        if paths.lite_db.exists():
            sync_events(paths.events, paths.lite_db)
    return {
        "model": MODEL_NAME,
        "version": version,
        "run_id": logged.run_id,
        "snapshot_id": snapshot_id,
        "metrics": metrics,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.demo.retrain", description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--from-version", required=True)
    parser.add_argument("--snapshot")
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        doc = retrain(
            DemoPaths.for_home(args.home.expanduser().absolute()),
            args.tracking_uri,
            args.from_version,
            args.snapshot,
        )
    except Exception as exc:  # noqa: BLE001 - one line to the runbook step
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 1
    out.write(json.dumps(doc) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

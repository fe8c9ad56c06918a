"""The demo model's training entry point for retraining: the champion's recipe on a new snapshot.

``python -m commands.demo.retrain --home H --tracking-uri U --from-version V [--snapshot S]``
trains the hyperparameters and settings of version V on snapshot S (default: the table's newest)
with the demo's feature builder and trainer, holding out the newest labelled weeks of S (the
recipe's ``holdout_weeks``). Version V and the new model are both scored on those held-out rows —
the same rows, which neither trained on — so their scores compare. The run is logged with the
full provenance contract (git tags, Iceberg table and snapshot params and dataset input,
signature, pinned requirements, the snapshot tagged ``mlflow-<run_id>``) and its lineage is
emitted as the demo build emits it for its training runs: OpenLineage START/COMPLETE events into
the event log and DataHub Lite, then DataHub's MLflow source (the registered version and the
run). On the run: the new model's metrics as ``holdout_*``, V's on the same rows as
``holdout_*.vV``, and params ``holdout.*`` naming the rows. It prints one JSON line:
``{"model", "version", "run_id", "snapshot_id", "metrics", "compared", "window", "lineage"}``.
``--plan`` prints only ``{"window"}``: which rows would be held out, without training.
The retrain runbook runs it as a subprocess (mlflow, pandas and sklearn stay there).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from commands.demo.config import (
    EXPERIMENT_NAME,
    MODEL_NAME,
    TABLE_IDENT,
    TABLE_NAME,
    DemoConfig,
    Hyperparams,
)
from commands.demo.result import DemoPaths

_HYPER = tuple(Hyperparams.model_fields)
_DATA = ("data.iceberg.table", "data.iceberg.snapshot_id")
# params of the held-out window, written anew by every retrain (not part of the recipe)
_WINDOW_PREFIX = "holdout."


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
    hp = Hyperparams.model_validate({k: _number(params.get(k)) for k in _HYPER if k in params})
    extra = {
        k: v
        for k, v in params.items()
        if k not in _HYPER and k not in _DATA and not k.startswith(_WINDOW_PREFIX)
    }
    return hp, extra


def compared_key(metric: str, version: str) -> str:
    """The metric of version ``version`` scored on this run's held-out rows."""
    return f"{metric}.v{version}"


def _rows(catalog, snapshot_id: str, extra: dict[str, Any], config: DemoConfig):
    """(raw rows, feature rows, weeks in the snapshot) of a snapshot under a recipe."""
    from commands.demo import features, lake

    raw = lake.read_snapshot(catalog, snapshot_id)
    weekly = features.weekly_commits(raw, config.start)
    low = int(extra.get("bucket.low_max", config.low_max))
    medium = int(extra.get("bucket.medium_max", config.medium_max))
    return raw, features.feature_rows(weekly, low, medium), int(weekly["week"].max()) + 1


def window_of(holdout, total_weeks: int, holdout_weeks: int, snapshot_id: str) -> dict[str, Any]:
    """Which rows are held out: the target weeks, their dates, how many rows and repositories."""
    from datetime import timedelta

    config = DemoConfig()
    first, last = total_weeks - holdout_weeks, total_weeks - 1
    first_day = config.start + timedelta(weeks=first)
    last_day = config.start + timedelta(weeks=last, days=6)
    rows, repos = len(holdout), int(holdout["repo"].nunique())
    text = (
        f"the newest {holdout_weeks} labelled weeks of {TABLE_NAME}@{snapshot_id}: target weeks "
        f"{first}..{last} ({first_day}..{last_day}), {rows} rows of {repos} repositories"
    )
    return {
        "table": TABLE_NAME,
        "snapshot_id": snapshot_id,
        "first_target_week": first,
        "last_target_week": last,
        "first_day": str(first_day),
        "last_day": str(last_day),
        "rows": rows,
        "repos": repos,
        "text": text,
    }


def _champion_training_keys(catalog, params: dict[str, str], config: DemoConfig) -> set:
    """(repo, week) of the rows the source version trained on (its snapshot minus its holdout)."""
    from commands.demo import features

    _, extra = recipe(params)
    snapshot = params.get("data.iceberg.snapshot_id")
    if not snapshot:
        return set()
    _raw, rows, total = _rows(catalog, str(snapshot), extra, config)
    weeks = int(extra.get("holdout_weeks", config.holdout_weeks))
    train, _ = features.split_holdout(rows, total, weeks)
    return set(zip(train["repo"], train["week"], strict=True))


def plan_window(paths: DemoPaths, tracking_uri: str, from_version: str, snapshot_id: str | None):
    """The held-out window a retrain would use, without training (for the runbook's plan)."""
    from mlflow import MlflowClient

    from commands.demo import features, lake
    from commands.demo.pipeline import _quiet_mlflow

    config = DemoConfig()
    with _quiet_mlflow():
        client = MlflowClient(tracking_uri)
        source = client.get_model_version(MODEL_NAME, from_version)
        assert source.run_id is not None  # every demo version is logged from a run
        params = dict(client.get_run(source.run_id).data.params)
        _, extra = recipe(params)
        catalog = lake.open_catalog(paths.catalog_db, paths.warehouse)
        if snapshot_id is None:
            current = catalog.load_table(TABLE_IDENT).current_snapshot()
            assert current is not None  # the demo table has its initial load at least
            snapshot_id = str(current.snapshot_id)
        _raw, rows, total = _rows(catalog, snapshot_id, extra, config)
        weeks = int(extra.get("holdout_weeks", config.holdout_weeks))
        _, holdout = features.split_holdout(rows, total, weeks)
        return {"window": window_of(holdout, total, weeks, snapshot_id)}


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
    from commands.lineage_sync import ingest_mlflow, sync_events
    from commands.model_uri import version_uri

    config = DemoConfig()
    with _quiet_mlflow():
        mlflow.set_tracking_uri(tracking_uri)
        client = MlflowClient(tracking_uri)
        source = client.get_model_version(MODEL_NAME, from_version)
        assert source.run_id is not None  # every demo version is logged from a run
        params = dict(client.get_run(source.run_id).data.params)
        hp, extra = recipe(params)
        catalog = lake.open_catalog(paths.catalog_db, paths.warehouse)
        if snapshot_id is None:
            current = catalog.load_table(TABLE_IDENT).current_snapshot()
            assert current is not None  # the demo table has its initial load at least
            snapshot_id = str(current.snapshot_id)
        raw, rows, total = _rows(catalog, snapshot_id, extra, config)
        holdout_weeks = int(extra.get("holdout_weeks", config.holdout_weeks))
        # the newest labelled weeks of *this* snapshot are held out from the new model's training;
        # the source version is scored on the same rows, so the two scores compare
        train, holdout = features.split_holdout(rows, total, holdout_weeks)
        window = window_of(holdout, total, holdout_weeks, snapshot_id)
        seen = _champion_training_keys(catalog, params, config)
        window["rows_in_champion_training"] = sum(
            (repo, week) in seen
            for repo, week in zip(holdout["repo"], holdout["week"], strict=True)
        )
        model = trainer.train(train, **hp.model_dump())
        metrics, _ = trainer.evaluate(model, holdout)
        champion = mlflow.pyfunc.load_model(version_uri(MODEL_NAME, from_version))
        champion_metrics, _ = trainer.evaluate(champion, holdout)
        compared = {compared_key(k, from_version): v for k, v in champion_metrics.items()}
        window_params = {
            "holdout.window": window["text"],
            "holdout.first_target_week": window["first_target_week"],
            "holdout.last_target_week": window["last_target_week"],
            "holdout.rows": window["rows"],
            "holdout.compared_with_version": from_version,
            "holdout.rows_in_champion_training": window["rows_in_champion_training"],
        }
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
            metrics={**metrics, **compared},
            code=code,
            extra_params={**extra, "retrained_from_version": from_version, **window_params},
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
        # as the demo build does for its runs: the events into Lite, then DataHub's MLflow
        # source for the registered version and the run (without it the version is not in
        # DataHub: `version_not_in_datahub`)
        _read, _runs, written = sync_events(paths.events, paths.lite_db)
        ingested, failures = ingest_mlflow(tracking_uri, paths.lite_db)
    return {
        "model": MODEL_NAME,
        "version": version,
        "run_id": logged.run_id,
        "snapshot_id": snapshot_id,
        "metrics": metrics,
        "compared": {"version": str(from_version), "metrics": champion_metrics},
        "window": window,
        "lineage": {
            "store": str(paths.lite_db),
            "event_aspects": written,
            "mlflow_aspects": ingested,
            "failures": failures,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.demo.retrain", description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--from-version", required=True)
    parser.add_argument("--snapshot")
    parser.add_argument("--plan", action="store_true", help="only say which rows it would hold out")
    args = parser.parse_args(argv)
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        doc = (plan_window if args.plan else retrain)(
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

"""The demo lifecycle pipeline: data, code, training runs, registry, lineage — built once per home.

``build_demo`` is idempotent: a marker holding the content hash of the pipeline's config and
code, checked against what the tracking server still holds, turns a second call into a quick
no-op; ``reset=True`` (or a changed config) deletes what the demo owns and rebuilds it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from commands.demo.config import (
    EXPERIMENT_NAME,
    MODEL_NAME,
    TABLE_NAME,
    DemoConfig,
    Hyperparams,
    config_hash,
)
from commands.demo.result import DemoPaths, DemoResult, RunSummary
from commands.driver import Driver
from console.errors import ConsoleError

MARKER_NAME = "demo-build.json"


class DemoError(ConsoleError):
    """The demo lifecycle could not be built."""


def _marker(paths: DemoPaths) -> Path:
    return paths.home / MARKER_NAME


def existing_build(paths: DemoPaths, tracking_uri: str, config: DemoConfig) -> DemoResult | None:
    """The recorded build if it is current and the server still holds it, else None.

    Reads only the marker, the home's files and two REST calls: no heavy imports.
    """
    try:
        recorded = DemoResult.model_validate_json(_marker(paths).read_text())
    except (OSError, ValueError):
        return None
    if recorded.config_hash != config_hash(config):
        return None
    needed = (paths.catalog_db, paths.git_repo / ".git", paths.lite_db, paths.events)
    if not all(p.exists() for p in needed):
        return None
    import httpx

    try:
        with httpx.Client(base_url=tracking_uri.rstrip("/"), timeout=10) as http:
            got = http.get("/api/2.0/mlflow/registered-models/get", params={"name": MODEL_NAME})
            if got.status_code != 200:
                return None
            aliases = {
                a["alias"]: a["version"]
                for a in got.json().get("registered_model", {}).get("aliases", [])
            }
            if aliases.get("champion") != recorded.champion_version:
                return None
            for version in [recorded.champion_version, *recorded.scenario_versions]:
                mv = http.get(
                    "/api/2.0/mlflow/model-versions/get",
                    params={"name": MODEL_NAME, "version": version},
                )
                if mv.status_code != 200:
                    return None
                run_id = mv.json().get("model_version", {}).get("run_id")
                if run_id not in {r.run_id for r in recorded.runs}:
                    return None
    except httpx.HTTPError:
        return None
    return recorded.model_copy(update={"status": "unchanged", "tracking_uri": tracking_uri})


def reset_demo(paths: DemoPaths, tracking_uri: str, driver: Driver) -> list[str]:
    """Delete everything the demo owns: files in the home, and its experiment and model."""
    from mlflow import MlflowClient

    from commands.demo.tracking import delete_demo_objects

    removed = []
    _marker(paths).unlink(missing_ok=True)
    for path in (paths.catalog_db.parent, paths.git_repo, paths.events):
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(str(path))
        elif path.exists():
            path.unlink()
            removed.append(str(path))
    for suffix in ("", "-wal", "-shm"):
        lite = paths.lite_db.with_name(paths.lite_db.name + suffix)
        if lite.exists():
            lite.unlink()
            removed.append(str(lite))
    removed += delete_demo_objects(MlflowClient(tracking_uri), EXPERIMENT_NAME)
    if removed:
        driver.progress(f"reset: removed {len(removed)} demo objects")
    return removed


def build_demo(
    paths: DemoPaths,
    tracking_uri: str,
    driver: Driver,
    *,
    reset: bool = False,
    config: DemoConfig | None = None,
) -> DemoResult:
    """Build the demo lifecycle into ``paths`` and the server at ``tracking_uri``."""
    config = config or DemoConfig()
    started = time.monotonic()
    if not reset:
        driver.progress("checking for an existing demo build", fraction=0.0)
        found = existing_build(paths, tracking_uri, config)
        if found is not None:
            driver.progress("demo lifecycle is already built and current", fraction=1.0)
            return found.model_copy(update={"seconds": round(time.monotonic() - started, 3)})
    driver.progress("loading mlflow, pandas, scikit-learn and pyiceberg", fraction=0.02)
    try:
        with _quiet_mlflow():
            return _build(paths, tracking_uri, driver, config, started)
    except ConsoleError:
        raise
    except Exception as exc:
        raise DemoError(
            f"building the demo failed: {type(exc).__name__}: {exc}",
            hint="run `mlops-console demo --reset` to rebuild from scratch",
        ) from exc


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow prints run URLs and info logs, and would copy the console's uv.lock into every
    model; the demo's models carry their own pinned requirements and progress goes via the driver.
    """
    settings = {
        "MLFLOW_LOG_UV_FILES": "false",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
        "DATAHUB_TELEMETRY_ENABLED": "false",
    }
    saved = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    loggers = [logging.getLogger(n) for n in ("mlflow", "datahub", "openlineage", "pyiceberg")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        # MLflow's registry prints "Created version ..." with print(); progress says it better
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _build(
    paths: DemoPaths, tracking_uri: str, driver: Driver, config: DemoConfig, started: float
) -> DemoResult:
    import mlflow
    from mlflow import MlflowClient

    from commands.demo import coderepo, data, features, lake, lineage, tracking, trainer
    from commands.lineage_sync import ingest_mlflow, sync_events

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    reset_demo(paths, tracking_uri, driver)
    paths.home.mkdir(parents=True, exist_ok=True)

    driver.progress(f"generating commit history of {config.repos} repositories", fraction=0.08)
    initial, appended, corrected = data.table_states(config)
    fix = data.correction_for(config)

    driver.progress(f"writing Iceberg table {TABLE_NAME}: load, append, correction", fraction=0.12)
    catalog = lake.open_catalog(paths.catalog_db, paths.warehouse)
    snaps = lake.write_table(catalog, initial, appended, corrected, fix)

    driver.progress("committing the training code to its git repository", fraction=0.18)
    code = coderepo.create_code_repo(paths.git_repo)

    def rows_at(snapshot_id: str):
        raw = lake.read_snapshot(catalog, snapshot_id)
        weekly = features.weekly_commits(raw, config.start)
        rows = features.feature_rows(weekly, config.low_max, config.medium_max)
        train, holdout = features.split_holdout(rows, config.total_weeks, config.holdout_weeks)
        return raw, train, holdout

    raw_now, train_now, holdout = rows_at(snaps.corrected)
    extra = {
        "model.class": "sklearn.ensemble.RandomForestClassifier",
        "features": ",".join(features.FEATURE_COLUMNS),
        "target": "next_week_bucket",
        "bucket.low_max": config.low_max,
        "bucket.medium_max": config.medium_max,
        "holdout_weeks": config.holdout_weeks,
        "data.seed": config.seed,
    }
    experiment_id = tracking.ensure_experiment(client, EXPERIMENT_NAME)
    logged: list[tuple[str, str, tracking.LoggedRun, Hyperparams]] = []  # (role, name, run, hp)
    for i, hp in enumerate(config.grid, start=1):
        name = f"grid-{i}-rf{hp.n_estimators}-depth{hp.max_depth}-leaf{hp.min_samples_leaf}"
        driver.progress(f"training run {i}/{len(config.grid)}: {name}", fraction=0.2 + 0.08 * i)
        model = trainer.train(train_now, **hp.model_dump())
        metrics, _ = trainer.evaluate(model, holdout)
        run = tracking.log_training_run(
            experiment_id=experiment_id,
            run_name=name,
            hyperparams=hp,
            snapshot_id=snaps.corrected,
            snapshot_rows=raw_now,
            holdout=holdout,
            model=model,
            metrics=metrics,
            code=code,
            extra_params=extra,
            role="grid",
        )
        logged.append(("grid", name, run, hp))

    best = max(
        (item for item in logged if item[0] == "grid"),
        key=lambda item: (item[2].metrics["holdout_f1_macro"], item[2].metrics["holdout_accuracy"]),
    )
    driver.progress(f"registering the best run {best[1]} as {MODEL_NAME}", fraction=0.62)
    champion = tracking.register_version(
        client,
        best[2],
        description="best of the five grid runs by holdout macro F1",
        tags={"demo.role": "champion"},
    )
    tracking.promote_champion(client, champion)

    driver.progress("searching for two models with identical metrics", fraction=0.66)
    _, train_before, holdout_before = rows_at(snaps.appended)
    if not holdout_before.equals(holdout):
        raise DemoError("the correction changed the holdout rows; the demo config is inconsistent")
    pair = _identical_metrics_pair(
        config,
        best[3],
        {
            "before-correction": (snaps.appended, train_before),
            "after-correction": (snaps.corrected, train_now),
        },
        holdout,
    )
    raw_before = lake.read_snapshot(catalog, snaps.appended)
    scenario_versions = []
    for label, snapshot_id, seed, model, metrics in pair:
        hp = best[3].model_copy(update={"seed": seed})
        name = f"scenario-{label}-seed{seed}"
        driver.progress(
            f"logging scenario run {name}", fraction=0.7 + 0.04 * len(scenario_versions)
        )
        run = tracking.log_training_run(
            experiment_id=experiment_id,
            run_name=name,
            hyperparams=hp,
            snapshot_id=snapshot_id,
            snapshot_rows=raw_before if snapshot_id == snaps.appended else raw_now,
            holdout=holdout,
            model=model,
            metrics=metrics,
            code=code,
            extra_params=extra,
            role="scenario",
        )
        logged.append(("scenario", name, run, hp))
    differs = _differing_params(logged[-2][3], logged[-1][3], pair)
    for role, _name, run, _hp in logged[-2:]:
        version = tracking.register_version(
            client,
            run,
            description=(
                "identical-metrics scenario: same holdout metrics as its twin, different "
                f"predictions; differs in {', '.join(differs)}"
            ),
            tags={
                "demo.role": role,
                "demo.scenario": "identical-metrics",
                "demo.scenario.differs": ",".join(differs),
            },
        )
        scenario_versions.append(version)
    for version, other in zip(scenario_versions, reversed(scenario_versions), strict=True):
        client.set_model_version_tag(MODEL_NAME, version, "demo.scenario.twin", other)

    driver.progress("tagging the trained snapshots mlflow-<run_id> in Iceberg", fraction=0.8)
    for _role, _name, run, _hp in logged:
        lake.tag_snapshot(catalog, run.snapshot_id, f"mlflow-{run.run_id}")

    driver.progress("verifying dataset digests on the server", fraction=0.83)
    summaries = _verify_runs(client, logged, code)

    driver.progress("emitting OpenLineage START/COMPLETE events", fraction=0.86)
    versions_by_run = {best[2].run_id: champion}
    for (_r, _n, run, _h), version in zip(logged[-2:], scenario_versions, strict=True):
        versions_by_run[run.run_id] = version
    events = lineage.emit_events(
        paths.events,
        [
            lineage.RunLineage(
                run_id=run.run_id,
                run_name=name,
                experiment_id=experiment_id,
                snapshot_id=run.snapshot_id,
                start_ms=run.start_ms,
                end_ms=run.end_ms,
                model_version=versions_by_run.get(run.run_id),
            )
            for _role, name, run, _hp in logged
        ],
        tracking_uri,
    )
    driver.progress("writing lineage into DataHub Lite", fraction=0.9)
    # the same code path as `mlops-console lineage sync`: latest event per run, changed aspects
    # only, and DataHub's MLflow source run offline (its stock Pipeline phones pypi.org/GitHub)
    _read, _runs, written = sync_events(paths.events, paths.lite_db)
    driver.progress(
        "ingesting MLflow into DataHub Lite with DataHub's MLflow source", fraction=0.94
    )
    ingested, failures = ingest_mlflow(tracking_uri, paths.lite_db)
    if failures:
        raise DemoError(f"DataHub's MLflow source reported failures: {failures[0]}")

    result = DemoResult(
        status="built",
        home=str(paths.home),
        tracking_uri=tracking_uri,
        config_hash=config_hash(config),
        seconds=round(time.monotonic() - started, 3),
        table=TABLE_NAME,
        snapshots={
            "initial": snaps.initial,
            "appended": snaps.appended,
            "corrected": snaps.corrected,
        },
        correction={
            "repo": fix.repo,
            "first_day": str(fix.first_day),
            "last_day": str(fix.last_day),
        },
        git_repo=str(code.path),
        git_repo_url=code.repo_url,
        git_commits=list(code.commits),
        experiment=EXPERIMENT_NAME,
        experiment_id=experiment_id,
        model=MODEL_NAME,
        champion_version=champion,
        scenario_versions=scenario_versions,
        scenario_differs=differs,
        runs=summaries,
        openlineage_events=len(events),
        lite_mcps=written,
        datahub_mlflow_aspects=ingested,
    )
    _marker(paths).write_text(result.model_dump_json(indent=2))
    driver.progress(f"demo lifecycle built in {result.seconds:.1f} s", fraction=1.0)
    return result


def _identical_metrics_pair(config, hp, trainings, holdout):
    """Two models with exactly equal holdout metrics and different holdout predictions.

    Tries seeds in order, training the champion's hyperparameters on the snapshot before and after
    the correction; prefers a pair that differs only in the snapshot, else any two candidates.
    """
    from commands.demo import trainer

    candidates = []
    for seed in range(config.scenario_seeds):
        pair_for_seed = []
        for label, (snapshot_id, rows) in trainings.items():
            model = trainer.train(rows, **hp.model_copy(update={"seed": seed}).model_dump())
            metrics, predicted = trainer.evaluate(model, holdout)
            pair_for_seed.append((label, snapshot_id, seed, model, metrics, predicted))
        a, b = pair_for_seed
        if a[4] == b[4] and (a[5] != b[5]).any():
            return [a[:5], b[:5]]
        candidates += pair_for_seed
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            if a[4] == b[4] and (a[5] != b[5]).any():
                return [a[:5], b[:5]]
    raise DemoError(
        f"no two of {len(candidates)} candidate models tie on every metric",
        hint="raise scenario_seeds in the demo config",
    )


def _differing_params(hp_a, hp_b, pair) -> list[str]:
    differs = []
    if pair[0][1] != pair[1][1]:
        differs.append("data.iceberg.snapshot_id")
    differs += [k for k, v in hp_a.model_dump().items() if hp_b.model_dump()[k] != v]
    return differs


def _verify_runs(client, logged, code) -> list[RunSummary]:
    """Read every run back and check the provenance contract held on the server."""
    summaries = []
    for role, name, run, _hp in logged:
        got = client.get_run(run.run_id)
        inputs = [d.dataset for d in got.inputs.dataset_inputs]
        digests = [d.digest for d in inputs if d.name == TABLE_NAME]
        if digests != [run.snapshot_id]:
            raise DemoError(
                f"run {run.run_id}: dataset digest {digests} != snapshot {run.snapshot_id}"
            )
        if got.data.tags.get("mlflow.source.git.commit") != code.commit:
            raise DemoError(f"run {run.run_id}: git commit tag missing")
        summaries.append(
            RunSummary(
                run_id=run.run_id,
                name=name,
                role=role,
                snapshot_id=run.snapshot_id,
                metrics=run.metrics,
                params={k: str(v) for k, v in got.data.params.items()},
            )
        )
    return summaries

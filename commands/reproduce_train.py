"""The training half of ``reproduce``, in its own process: retrain a version from its record.

``python -m commands.reproduce_train SPEC_JSON`` checks the recorded commit out into a temporary
git worktree (of a ``console.gitinfo`` sandbox: the clone's config and hooks do not run), then
trains by the version's entry point — the demo pipeline's code at that commit (its
``features.py`` and ``trainer.py``) on the pinned Iceberg snapshot with the logged params, an
``MLproject`` file at the commit, or the ``train`` command configured for the model — into a
new MLflow run tagged ``mlops-console.reproduce`` (never registered). Speaks the probe's protocol:
JSON ``progress`` lines, then one ``result`` (``run_id``, ``model_uri``, ``environment``) or
``error`` on stdout.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from commands.probe import emit, progress
from console.reproduce_model import REPRODUCE_TAG, TrainSpec

GIT_TIMEOUT_S = 120
TRAIN_TIMEOUT_S = 3600


@contextlib.contextmanager
def worktree(clone: str, commit: str) -> Iterator[Path]:
    """The commit checked out (detached) into a temporary work tree, removed afterwards.

    The work tree belongs to a ``console.gitinfo`` sandbox beside it, not to the clone: the
    clone's config, filters and hooks do not run at checkout, and nothing is written into it.
    """
    import shutil

    from console import gitinfo

    parent = Path(tempfile.mkdtemp(prefix="mlops-reproduce-"))
    path = parent / "code"
    try:
        with gitinfo.sandbox(Path(clone), parent) as box:
            box.run_sync(
                "worktree",
                "add",
                "--detach",
                "--quiet",
                operands=[str(path)],
                revisions=[gitinfo.revision(commit)],
                timeout=GIT_TIMEOUT_S,
            )
            yield path
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def warehouse_path(warehouse: str | None) -> Path:
    """The local directory of an Iceberg warehouse given as a ``file:`` URI or a plain path.

    ``Path("file:///tmp/w")`` is the relative path ``file:/tmp/w``: made into a directory, it left
    a ``file:`` tree in the working directory (the console's install root) on every reproduce.
    """
    if not warehouse:
        return Path(".")
    if warehouse.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        return Path(unquote(urlsplit(warehouse).path))
    if "://" in warehouse:
        raise ValueError(f"reproduce reads local Iceberg warehouses only, not {warehouse!r}")
    return Path(warehouse)


def _module_from(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _number(params: dict[str, str], key: str, default: Any) -> Any:
    value = params.get(key)
    if value is None or value == "None":
        return None if value == "None" else default
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def train_demo(spec: TrainSpec, code: Path) -> tuple[str, str]:
    """The demo's features and trainer *from the commit*, on the pinned snapshot."""
    import mlflow

    from commands.demo import lake
    from commands.demo.config import DemoConfig
    from commands.demo.tracking import pinned_requirements

    for name in ("features.py", "trainer.py"):
        if not (code / name).is_file():
            raise FileNotFoundError(f"{name} is not in commit {spec.commit[:12]}")
    features = _module_from(code / "features.py", "reproduce_features")
    saved = sys.modules.get("commands.demo.features")
    sys.modules["commands.demo.features"] = features  # trainer.py imports the features by name
    try:
        trainer = _module_from(code / "trainer.py", "reproduce_trainer")
    finally:
        if saved is not None:
            sys.modules["commands.demo.features"] = saved
    config = DemoConfig()
    p = spec.params
    progress(f"reading {spec.table}@{spec.snapshot_id}", 0.3)
    catalog = lake.open_catalog(Path(spec.catalog_db or ""), warehouse_path(spec.warehouse))
    assert spec.snapshot_id is not None  # a demo version records the snapshot it trained on
    raw = lake.read_snapshot(catalog, spec.snapshot_id)
    weekly = features.weekly_commits(raw, config.start)
    rows = features.feature_rows(
        weekly,
        _number(p, "bucket.low_max", config.low_max),
        _number(p, "bucket.medium_max", config.medium_max),
    )
    train_rows, holdout = features.split_holdout(
        rows, config.total_weeks, _number(p, "holdout_weeks", config.holdout_weeks)
    )
    hp = {
        "n_estimators": _number(p, "n_estimators", 100),
        "max_depth": _number(p, "max_depth", None),
        "min_samples_leaf": _number(p, "min_samples_leaf", 1),
        "max_features": _number(p, "max_features", "sqrt"),
        "seed": _number(p, "seed", 0),
    }
    progress(f"training on {len(train_rows):,} rows", 0.5)
    model = trainer.train(train_rows, **hp)
    metrics, _ = trainer.evaluate(model, holdout)
    columns = list(features.FEATURE_COLUMNS)
    examples = holdout[columns].iloc[::8].head(24).reset_index(drop=True)
    progress("logging the reproduced model (not registered)", 0.8)
    with _run(spec) as run:
        mlflow.log_params(p)
        mlflow.log_metrics(metrics)
        from mlflow.models import infer_signature
        from mlflow.sklearn import log_model as log_sklearn_model

        info = log_sklearn_model(
            model,
            name="model",
            signature=infer_signature(examples, model.predict(examples)),
            input_example=examples,
            pip_requirements=pinned_requirements(),
            skops_trusted_types=["sklearn.tree._tree.Tree"],
        )
        return run.info.run_id, info.model_uri


@contextlib.contextmanager
def _run(spec: TrainSpec):
    import mlflow

    tags = {
        REPRODUCE_TAG: f"{spec.model}/{spec.version}",
        f"{REPRODUCE_TAG}.source_run": spec.source_run_id,
        "mlflow.source.git.commit": spec.commit,
        "mlflow.runName": f"reproduce-{spec.model}-v{spec.version}",
    }
    with mlflow.start_run(experiment_id=spec.experiment_id, tags=tags) as run:
        yield run


def _command_for(spec: TrainSpec, code: Path) -> str:
    if spec.entry == "command":
        template = spec.command or ""
    else:
        import yaml

        project = yaml.safe_load((code / "MLproject").read_text()) or {}
        main = (project.get("entry_points") or {}).get("main") or {}
        template = main.get("command") or ""
        if not template:
            raise LookupError("the MLproject has no main entry point command")
    params = {k.replace(".", "_"): shlex.quote(v) for k, v in spec.params.items()}
    try:
        return template.format(**params)
    except KeyError as exc:
        raise LookupError(f"the training command needs param {exc.args[0]!r}") from None


def train_command(spec: TrainSpec, code: Path) -> tuple[str, str]:
    """An MLproject's main command or a configured one, run in the worktree inside our run."""
    import mlflow

    command = _command_for(spec, code)
    with _run(spec) as run:
        run_id = run.info.run_id
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": spec.tracking_uri,
            "MLFLOW_RUN_ID": run_id,
            "MLFLOW_EXPERIMENT_ID": spec.experiment_id,
            **{f"MLOPS_PARAM_{k.upper().replace('.', '_')}": v for k, v in spec.params.items()},
        }
        if spec.snapshot_id:
            env["MLOPS_SNAPSHOT_ID"] = spec.snapshot_id
        progress(f"running {command[:80]}", 0.3)
        done = subprocess.run(
            command,
            shell=True,  # the operator's own configured command, or the project's
            cwd=code,
            env=env,
            stdout=sys.stderr,
            stderr=sys.stderr,
            timeout=TRAIN_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the training command exited {done.returncode}")
    found = mlflow.search_logged_models(
        filter_string=f"source_run_id = '{run_id}'", output_format="list"
    )
    if found:
        return run_id, f"models:/{found[0].model_id}"
    if not mlflow.MlflowClient().list_artifacts(run_id, "model"):
        raise RuntimeError(
            "the training command logged no model in its run (log one with "
            "mlflow.<flavor>.log_model(..., name='model'))"
        )
    return run_id, f"runs:/{run_id}/model"


def environment(requirements: list[str]) -> dict[str, Any]:
    """Python and the installed version of every library the record names."""
    from commands.diagnose_compare import requirement_specs

    packages = {}
    for name in requirement_specs(requirements):
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "packages": packages,
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    import logging
    import warnings

    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ["MLFLOW_LOG_UV_FILES"] = "false"
    for name in ("mlflow", "pyiceberg", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    import commands.probe as protocol

    protocol._protocol, sys.stdout = sys.stdout, sys.stderr
    started = time.monotonic()
    try:
        spec = TrainSpec.model_validate_json(argv[0])
        progress("loading mlflow", 0.02)
        import mlflow

        mlflow.set_tracking_uri(spec.tracking_uri)
        progress(f"checking out {spec.commit[:12]} into a temporary worktree", 0.1)
        with worktree(spec.clone, spec.commit) as code:
            trained = train_demo(spec, code) if spec.entry == "demo" else train_command(spec, code)
        run_id, model_uri = trained
        emit(
            "result",
            run_id=run_id,
            model_uri=model_uri,
            environment=environment(spec.requirements),
            seconds=round(time.monotonic() - started, 3),
        )
    except Exception as exc:  # noqa: BLE001 - one JSON line for the parent, never a traceback
        emit("error", message=" ".join(f"{type(exc).__name__}: {exc}".split())[:500])
        return 2
    finally:
        sys.stdout = protocol._protocol
    return 0


if __name__ == "__main__":
    sys.exit(main())

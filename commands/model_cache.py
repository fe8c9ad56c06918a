"""Load a registered model version through an on-disk copy of its artifacts, kept per home.

``load_model(uri)`` is ``mlflow.pyfunc.load_model(loadable(uri))`` for every process that loads
a model to check or compare it (the probe, the invariance checks). For ``models:/NAME/VERSION``
with a console home in the environment (``MLOPS_CONSOLE_HOME``) it asks the registry for the
version first and downloads the artifacts once into ``HOME/model-worker/models/KEY/``, where
KEY hashes the tracking URI, the name, the version and what the registry says of it: its source,
run, model id, creation and last-update times. A version that changed (re-registered under the
same number on a rebuilt server, its record updated) has another key and is downloaded again;
nothing is served from a copy the registry's current record does not name. Any other URI (a
run, an alias, a path) is loaded as before. The copy is written to a temporary directory and
renamed into place, so a reader never sees half a model; the newest ``KEEP`` copies are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from commands.model_uri import loadable, split
from commands.model_worker_protocol import HOME_VAR, WorkerPaths, log_line

KEEP = 24
DISABLE_VAR = "MLOPS_CONSOLE_MODEL_CACHE"  # "0" or "off": always load from the server


def _enabled() -> bool:
    return os.environ.get(DISABLE_VAR, "").strip().lower() not in ("0", "off", "false", "no")


def cache_key(tracking_uri: str, name: str, version: str, record: Any) -> str:
    facts = [
        tracking_uri,
        name,
        str(version),
        getattr(record, "source", None),
        getattr(record, "run_id", None),
        getattr(record, "model_id", None),
        getattr(record, "creation_timestamp", None),
        getattr(record, "last_updated_timestamp", None),
    ]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()[:40]


def load_model(uri: str) -> Any:
    """The pyfunc model at ``uri`` (a registered version through the home's download cache)."""
    import mlflow

    parts = split(uri)
    home = os.environ.get(HOME_VAR)
    if parts is None or not home or not _enabled():
        return mlflow.pyfunc.load_model(loadable(uri))
    try:
        local = cached_copy(uri, parts[0], parts[1], Path(home))
    except Exception:  # noqa: BLE001 - MLflow's own load says what is wrong, as it did before
        return mlflow.pyfunc.load_model(loadable(uri))
    return mlflow.pyfunc.load_model(str(local))


def cached_copy(uri: str, name: str, version: str, home: Path) -> Path:
    """The local directory holding version ``version`` of ``name`` as the registry names it now."""
    import mlflow
    from mlflow.artifacts import download_artifacts

    client = mlflow.MlflowClient()
    record = client.get_model_version(name, version)
    paths = WorkerPaths.for_home(home)
    paths.prepare()
    paths.models.mkdir(mode=0o700, exist_ok=True)
    key = cache_key(mlflow.get_tracking_uri(), name, version, record)
    target = paths.models / key
    if (target / "MLmodel").is_file():
        os.utime(target)  # the newest are kept
        log_line(paths, f"model cache hit: {key}")
        return target
    log_line(paths, f"model cache miss: {key}")
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=paths.models))
    try:
        local = Path(download_artifacts(artifact_uri=loadable(uri, client), dst_path=str(staging)))
        if not (local / "MLmodel").is_file():  # not a model directory: leave it to MLflow
            raise FileNotFoundError(f'Could not find an "MLmodel" configuration file at {uri}')
        try:
            local.rename(target)
        except OSError:  # another process put the same copy in place first
            if not (target / "MLmodel").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune(paths.models)
    return target


def _prune(folder: Path) -> None:
    entries = []
    now = time.time()
    for entry in folder.iterdir():
        try:
            modified = entry.stat().st_mtime
        except OSError:
            continue
        if entry.name.startswith("."):  # a download a killed process left behind
            if now - modified > 3600:
                shutil.rmtree(entry, ignore_errors=True)
            continue
        entries.append((modified, entry))
    for _, entry in sorted(entries, reverse=True)[KEEP:]:
        shutil.rmtree(entry, ignore_errors=True)

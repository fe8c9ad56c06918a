"""Where the prediction probe's rows come from, besides a row builder: a file, logged datasets.

Runs inside the probe's own process (pandas, mlflow, pyiceberg). Each source returns a
``RowSet``: the rows, where they came from (said with their count) and whether they are
synthetic. The sources, best first: a file the operator gives (CSV, Parquet, JSON lines), the
model's row builder (``commands.probe_rows``), the evaluation datasets the versions' runs logged
and whose source can be read here (a run artifact, a local or HTTP file, an Iceberg table at the
pinned snapshot), then synthetic rows (``commands.probe_synthetic``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# most rows a source contributes (the first ones, in the source's order)
MAX_SOURCE_ROWS = 200_000
ROW_FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")
# dataset input contexts that hold rows to evaluate on, best first; training is the last resort
EVAL_CONTEXTS = ("eval", "evaluation", "test", "testing", "validation", "valid", "holdout")
CONTEXT_TAG = "mlflow.data.context"
HTTP_TIMEOUT_S = 30.0


@dataclass
class RowSet:
    """Rows to score and where they came from; ``keys`` name the identifying columns."""

    rows: Any  # a pandas DataFrame
    origin: str
    synthetic: bool = False
    keys: list[str] = field(default_factory=list)
    # per row, how a synthetic row was made (e.g. "example 2, lag_1 varied"); else empty
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{len(self.rows):,} {'synthetic ' if self.synthetic else ''}rows: {self.origin}"


def read_table_file(path: Path, limit: int = MAX_SOURCE_ROWS):
    """A CSV, Parquet or JSON-lines file as a DataFrame (the first ``limit`` rows)."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pd.read_csv(path, nrows=limit)
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        frame = pd.read_json(path, lines=True, nrows=limit)
    elif suffix == ".json":
        text = path.read_text()
        try:
            frame = pd.DataFrame(json.loads(text))
        except ValueError:
            frame = pd.read_json(path, lines=True, nrows=limit)
    else:
        raise ValueError(f"{path.name}: not a CSV, Parquet or JSON-lines file")
    return frame.head(limit).reset_index(drop=True)


def operator_rows(path: str) -> RowSet:
    frame = read_table_file(Path(path))
    if frame.empty:
        raise LookupError(f"{path} holds no rows")
    return RowSet(frame, f"file {Path(path).name} given with --rows")


def input_columns(model) -> list[str] | None:
    """The signature's named input columns, or None (no signature, or a tensor signature)."""
    signature = getattr(getattr(model, "metadata", None), "signature", None)
    inputs = getattr(signature, "inputs", None)
    if inputs is None:
        return None
    try:
        names = inputs.input_names()
    except Exception:  # noqa: BLE001 - tensor specs have no names
        return None
    if not names or any(not isinstance(n, str) for n in names):
        return None
    return list(names)


def key_columns(frame, inputs: Sequence[str] | None, preferred: Sequence[str] = ()) -> list[str]:
    """Identifying columns: the given ones, else columns that are not model inputs (ids first)."""
    present = [c for c in preferred if c in frame.columns]
    if present:
        return present
    if not inputs:
        return []
    extra = [str(c) for c in frame.columns if c not in set(inputs)]
    hints = ("id", "key", "name", "repo", "week", "date", "day", "time", "user", "customer")
    ranked = sorted(extra, key=lambda c: (not any(h in c.lower() for h in hints), extra.index(c)))
    return ranked[:3]


# --- logged datasets ------------------------------------------------------------------------


@dataclass
class LoggedDataset:
    run_id: str
    name: str
    context: str
    source_type: str
    source: dict[str, Any]


def logged_datasets(run_ids: Sequence[str]) -> list[LoggedDataset]:
    """The dataset inputs of the runs, evaluation contexts first, training inputs last."""
    import mlflow

    found: list[LoggedDataset] = []
    seen: set[tuple[str, str]] = set()
    for run_id in run_ids:
        run = mlflow.get_run(run_id)
        for item in run.inputs.dataset_inputs if run.inputs else []:
            ds = item.dataset
            context = next((t.value for t in item.tags if t.key == CONTEXT_TAG), "") or ""
            try:
                source = json.loads(ds.source) if ds.source else {}
            except ValueError:
                source = {}
            if not isinstance(source, dict):
                source = {}
            ident = (ds.source_type or "", json.dumps(source, sort_keys=True))
            if ident in seen:
                continue
            seen.add(ident)
            found.append(LoggedDataset(run_id, ds.name, context, ds.source_type or "", source))

    def rank(ds: LoggedDataset) -> int:
        ctx = ds.context.lower()
        return next((i for i, c in enumerate(EVAL_CONTEXTS) if c in ctx), len(EVAL_CONTEXTS))

    evaluation = [d for d in found if rank(d) < len(EVAL_CONTEXTS)]
    if evaluation:
        return sorted(evaluation, key=rank)
    return found  # the training input only when nothing else exists


def _download(uri: str, workdir: Path) -> Path:
    import mlflow.artifacts

    local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(workdir))
    return Path(local)


def _http_file(url: str, workdir: Path) -> Path:
    import httpx

    name = Path(url.split("?", 1)[0]).name or "rows.csv"
    target = workdir / name
    with httpx.stream("GET", url, timeout=HTTP_TIMEOUT_S, follow_redirects=True) as response:
        response.raise_for_status()
        with target.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
    return target


def read_logged(
    ds: LoggedDataset,
    workdir: Path,
    open_catalog: Callable[[], Any] | None,
    snapshot_of: Callable[[str], str | None],
) -> tuple[Any, str]:
    """The rows of one logged dataset and a description of where they were read."""
    source = ds.source
    kind = ds.source_type.lower()
    what = f"dataset {ds.name!r} ({ds.context or 'no context'}) of run {ds.run_id[:12]}"
    pinned = snapshot_of(ds.name.lower())  # a dataset named like the pinned table is its rows
    if kind == "iceberg" or ("table" in source and "snapshot_id" in source) or pinned:
        if open_catalog is None:
            raise LookupError("no Iceberg catalog configured")
        table = str(source.get("table") or ds.name)
        snapshot = str(source.get("snapshot_id") or snapshot_of(table) or "")
        if not snapshot:
            raise LookupError(f"no snapshot of {table} pinned")
        parts = table.split(".")
        ident = (".".join(parts[1:-1]) if len(parts) > 2 else parts[0], parts[-1])
        loaded = open_catalog().load_table(ident)
        if loaded.snapshot_by_id(int(snapshot)) is None:
            raise LookupError(f"snapshot {snapshot} of {table} no longer exists (expired?)")
        frame = loaded.scan(snapshot_id=int(snapshot), limit=MAX_SOURCE_ROWS).to_pandas()
        return frame, f"{what}: Iceberg {table}@{snapshot}"
    if "url" in source and str(source["url"]).startswith(("http://", "https://")):
        path = _http_file(str(source["url"]), workdir)
        return read_table_file(path), f"{what}: {source['url']}"
    uri = source.get("uri") or source.get("path")
    if not uri:
        found = _artifact_named(ds, workdir)
        if found is None:
            raise LookupError(
                f"source type {ds.source_type or '?'} cannot be read here, and the run has no "
                f"artifact named {ds.name!r}"
            )
        path, name = found
        return read_table_file(path), f"{what}: run artifact {name}"
    uri = str(uri)
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlparse

        path = Path(unquote(urlparse(uri).path))
    elif "://" not in uri and ":" not in uri.split("/", 1)[0]:
        path = Path(uri)
    else:
        path = _download(uri, workdir)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in ROW_FILE_SUFFIXES)
        if not files:
            raise LookupError(f"{uri} holds no CSV, Parquet or JSON-lines file")
        path = files[0]
    return read_table_file(path), f"{what}: {uri}"


def _artifact_named(ds: LoggedDataset, workdir: Path) -> tuple[Path, str] | None:
    """A table file the run logged as an artifact under the dataset's name (``eval.csv``,
    ``eval/…``): where the rows of a dataset whose own source cannot be read often are."""
    from mlflow import MlflowClient

    client = MlflowClient()
    wanted = ds.name.lower()

    def table_file(path: str) -> bool:
        return Path(path).suffix.lower() in ROW_FILE_SUFFIXES

    for item in client.list_artifacts(ds.run_id):
        name = Path(item.path).name
        if not item.is_dir and table_file(name) and Path(name).stem.lower() == wanted:
            chosen = item.path
        elif item.is_dir and name.lower() == wanted:
            inner = [i.path for i in client.list_artifacts(ds.run_id, item.path)]
            files = sorted(p for p in inner if table_file(p))
            if not files:
                continue
            chosen = files[0]
        else:
            continue
        local = client.download_artifacts(ds.run_id, chosen, str(workdir))
        return Path(local), chosen
    return None


def dataset_rows(
    run_ids: Sequence[str],
    inputs: Sequence[str] | None,
    workdir: Path,
    open_catalog: Callable[[], Any] | None,
    snapshot_of: Callable[[str], str | None],
    report: Callable[[str], None],
    *,
    first_only: bool = True,
) -> list[RowSet]:
    """Rows of the logged datasets that can be read here and hold the signature's columns."""
    out: list[RowSet] = []
    for ds in logged_datasets(run_ids):
        try:
            frame, origin = read_logged(ds, workdir, open_catalog, snapshot_of)
        except Exception as exc:  # noqa: BLE001 - try the next source, and say why
            report(f"cannot read dataset {ds.name!r} of run {ds.run_id[:12]}: {_one(exc)}")
            continue
        if inputs:
            missing = [c for c in inputs if c not in frame.columns]
            if missing:
                report(f"dataset {ds.name!r} lacks input column(s) {', '.join(missing[:5])}")
                continue
        if frame.empty:
            continue
        out.append(RowSet(frame, origin, keys=key_columns(frame, inputs)))
        if first_only:
            break
    return out


def _one(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"

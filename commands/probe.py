"""The prediction probe: load two model versions through MLflow and score the same rows.

Runs as its own process (``python -m commands.probe …``) because it imports mlflow, pandas and
pyiceberg; it prints one JSON object per line on stdout — ``progress`` lines, then one ``result``
(or ``error``) — and is cancelled by terminating it. Rows, from the first source that yields any
(every source with ``--all-sources``): a file given with ``--rows``, the row builder registered
for the model (the held-out rows of the pinned snapshot), an evaluation dataset the runs logged
(``commands.probe_sources``), synthetic rows from the signature and input examples
(``commands.probe_synthetic``), the input examples themselves. When the two versions pin
different snapshots of one table, the rows of the two snapshots are compared too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from commands import probe_result
from commands.probe_outputs import DEFAULT_TOLERANCE, OutputShapeError, compare, concat, summary
from commands.probe_rows import BUILDERS, RowContext, example_rows
from commands.probe_sources import RowSet, dataset_rows, input_columns, key_columns, operator_rows
from commands.probe_synthetic import DEFAULT_ROWS, SEED, synthetic_for


class LoadError(Exception):
    """A model that cannot be loaded: which side, its URI, the loader's own reason."""

    def __init__(self, side: str, uri: str, error: BaseException) -> None:
        self.side, self.uri = side, uri
        self.reason = (
            f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:500]}"
        )
        super().__init__(f"cannot load the {side} model {uri}: {self.reason}")


# compare the rows of two snapshots only when they are this small (it reads both fully)
MAX_DIFF_RECORDS = 2_000_000


# the protocol stream: stdout as it was when the probe started (libraries' prints go to stderr)
_protocol = sys.stdout


def emit(event: str, **fields: Any) -> None:
    _protocol.write(json.dumps({"event": event, **fields}, default=str) + "\n")
    _protocol.flush()


def progress(message: str, fraction: float | None = None) -> None:
    emit("progress", message=message, fraction=fraction)


def _catalog_opener(args: argparse.Namespace):
    cache: list[Any] = []

    def open_catalog():
        if cache:
            return cache[0]
        if args.catalog_db:
            from pyiceberg.catalog.sql import SqlCatalog

            options = {"uri": f"sqlite:///{args.catalog_db}"}
            if args.warehouse:
                options["warehouse"] = args.warehouse
            catalog = SqlCatalog(args.catalog, **options)
        else:
            from pyiceberg.catalog import load_catalog

            catalog = load_catalog(args.catalog)
        cache.append(catalog)
        return catalog

    return open_catalog


def _ident(table: str) -> tuple[str, str]:
    parts = table.split(".")
    return ".".join(parts[1:-1]) if len(parts) > 2 else parts[0], parts[-1]


def _newer_snapshot(open_catalog, table: str, a: str, b: str) -> str:
    loaded = open_catalog().load_table(_ident(table))
    sa, sb = loaded.snapshot_by_id(int(a)), loaded.snapshot_by_id(int(b))
    if sa is None or sb is None:
        return a if sb is None else b
    return a if sa.timestamp_ms >= sb.timestamp_ms else b


def _data_diff(open_catalog, table: str, a: str, b: str) -> dict[str, Any] | None:
    """Rows only in the older and only in the newer snapshot (a multiset difference)."""
    loaded = open_catalog().load_table(_ident(table))
    sa, sb = loaded.snapshot_by_id(int(a)), loaded.snapshot_by_id(int(b))
    if sa is None or sb is None:
        return None
    older, newer = (sa, sb) if sa.timestamp_ms <= sb.timestamp_ms else (sb, sa)
    totals = [int((s.summary or {}).get("total-records", 0) or 0) for s in (older, newer)]
    if max(totals) > MAX_DIFF_RECORDS:
        return None
    frames = [loaded.scan(snapshot_id=s.snapshot_id).to_pandas() for s in (older, newer)]
    columns = list(frames[0].columns)
    counted = [
        f.astype(str).groupby(columns, dropna=False).size().rename("n").reset_index()
        for f in frames
    ]
    merged = counted[0].merge(counted[1], on=columns, how="outer", suffixes=("_old", "_new"))
    merged = merged.fillna({"n_old": 0, "n_new": 0})
    delta = merged["n_new"] - merged["n_old"]
    return {
        "older": str(older.snapshot_id),
        "newer": str(newer.snapshot_id),
        "rows_only_older": int((-delta).clip(lower=0).sum()),
        "rows_only_newer": int(delta.clip(lower=0).sum()),
        **_which_rows(frames[1].astype(str), merged[delta < 0], merged[delta > 0], columns),
    }


CHANGED_ROWS_SHOWN = 5  # the changed rows named (by their key columns); the rest are counted
KEY_COLUMNS = 3


def _which_rows(newer, only_older, only_newer, columns: list[str]) -> dict[str, Any]:
    """Which rows changed, in words an operator can look up: the columns whose values changed
    and the changed rows named by the columns that did not (``repo=acme/api, week=40``).

    A column is a key when the changed rows hold the same values in it on both sides (an
    update); the fewest-valued of those (an id, a week, not a float feature) name the rows.
    """
    if only_older.empty and only_newer.empty:
        return {}
    both = not only_older.empty and not only_newer.empty
    changed = [c for c in columns if both and sorted(only_older[c]) != sorted(only_newer[c])]
    candidates = [c for c in columns if c not in changed and newer[c].nunique(dropna=False) > 1]
    candidates.sort(key=lambda c: (newer[c].nunique(dropna=False), columns.index(c)))
    # the fewest columns, fewest-valued first, that tell the table's rows apart (or three)
    distinct = len(newer.drop_duplicates())
    keys: list[str] = []
    for column in candidates[:KEY_COLUMNS]:
        keys.append(column)
        if len(newer[keys].drop_duplicates()) >= distinct:
            break
    keys.sort(key=columns.index)
    if not keys:
        return {"changed_columns": changed}
    rows = (
        only_older[keys]
        .merge(only_newer[keys], how="outer")
        .drop_duplicates()
        .sort_values(keys)
        .values.tolist()
    )
    named = [", ".join(f"{k}={v}" for k, v in zip(keys, row, strict=True)) for row in rows]
    return {
        "changed_columns": changed,
        "changed_rows": named[:CHANGED_ROWS_SHOWN],
        "changed_rows_more": max(0, len(named) - CHANGED_ROWS_SHOWN),
    }


def _predict(model, frame) -> dict[str, Any]:
    """The model's answer for ``frame`` as named output columns (``commands.probe_outputs``)."""
    from commands.probe_outputs import outputs

    return outputs(model.predict(frame), len(frame))


def data_work(args: argparse.Namespace, report=progress) -> tuple[Any, str, dict | None]:
    """(rows from the row builder or None, where they came from, the snapshots' row diff)."""
    params = json.loads(args.params) if args.params else {}
    open_catalog = _catalog_opener(args)
    snapshot = args.left_snapshot or args.right_snapshot
    diff = None
    both = args.table and args.left_snapshot and args.right_snapshot
    if both and args.left_snapshot != args.right_snapshot:
        report(f"comparing the rows of the two snapshots of {args.table}", None)
        try:
            snapshot = _newer_snapshot(
                open_catalog, args.table, args.left_snapshot, args.right_snapshot
            )
            diff = _data_diff(open_catalog, args.table, args.left_snapshot, args.right_snapshot)
        except Exception as exc:  # noqa: BLE001 - the probe still scores without it
            report(f"could not compare the snapshots: {type(exc).__name__}: {exc}", None)
    builder = BUILDERS.get(args.model)
    if builder is None:
        return None, "", diff
    report("building rows from the pinned snapshot", None)
    try:
        rows, source = builder(
            RowContext(args.model, args.table, snapshot, args.scope, open_catalog, params)
        )
    except Exception as exc:  # noqa: BLE001 - fall back to the input examples
        report(f"row builder failed ({type(exc).__name__}: {exc}); using input examples", None)
        return None, "", diff
    return rows, source, diff


def _data_worker(args: argparse.Namespace, conn) -> None:
    """In a forked child: the data work, its progress and result sent through ``conn``."""
    try:
        result = data_work(args, lambda message, _f: conn.send(("progress", message)))
        conn.send(("result", result))
    except Exception as exc:  # noqa: BLE001 - the parent falls back to the input examples
        conn.send(("progress", f"data work failed: {type(exc).__name__}: {exc}"))
        conn.send(("result", (None, "", None)))
    finally:
        conn.close()


def _start_data_work(args: argparse.Namespace):
    """Fork the data work so pyiceberg and pandas load while this process imports mlflow.

    Forked before any thread exists; the probe leads its own process group, so terminating the
    probe (the runner signals the group) stops this child too.
    """
    import multiprocessing

    if BUILDERS.get(args.model) is None and not args.table:
        return None
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_data_worker, args=(args, send), daemon=True)
    child.start()
    send.close()
    return child, receive


def _finish_data_work(background) -> tuple[Any, str, dict | None]:
    child, receive = background
    result: tuple[Any, str, dict | None] = (None, "", None)
    try:
        while True:
            kind, payload = receive.recv()
            if kind == "progress":
                progress(payload, 0.6)
            else:
                result = payload
                break
    except EOFError:
        progress("the data work ended without a result; using input examples", 0.6)
    child.join(timeout=5)
    return result


def _model_uri(args: argparse.Namespace, side: int) -> str:
    override = (args.left_uri, args.right_uri)[side]
    return override or f"models:/{args.model}/{(args.left, args.right)[side]}"


def _run_ids(args: argparse.Namespace) -> list[str]:
    """The source runs of the two models (for their logged datasets)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    ids = []
    for side in (0, 1):
        uri = _model_uri(args, side)
        try:
            if uri.startswith("runs:/"):
                ids.append(uri.removeprefix("runs:/").split("/", 1)[0])
            elif uri.startswith("models:/") and uri.count("/") >= 2:
                name, version = uri.removeprefix("models:/").rsplit("/", 1)
                run_id = client.get_model_version(name, version).run_id
                if run_id:
                    ids.append(run_id)
        except Exception as exc:  # noqa: BLE001 - the other sources still apply
            progress(f"cannot read the run of {uri}: {type(exc).__name__}", None)
    return list(dict.fromkeys(ids))


def _examples(models) -> Any:
    try:
        return example_rows(models)[0]
    except LookupError:
        return None


def gather_rows(args: argparse.Namespace, models, builder_rows, builder_source) -> list[RowSet]:
    """Rows from the best source that yields any (every source with ``--all-sources``)."""
    import tempfile

    inputs = input_columns(models[0]) or input_columns(models[1])
    every = bool(args.all_sources)
    sets: list[RowSet] = []
    if args.rows:
        progress(f"reading rows from {Path(args.rows).name}", 0.55)
        sets.append(operator_rows(args.rows))
        sets[-1].keys = key_columns(sets[-1].rows, inputs)
    if (every or not sets) and builder_rows is not None:
        keys = key_columns(builder_rows, inputs, ("repo", "week"))
        sets.append(RowSet(builder_rows, builder_source, keys=keys))
    if (every or not sets) and not args.no_datasets:
        progress("looking for evaluation datasets the runs logged", 0.58)
        snapshots = {args.table: args.left_snapshot or args.right_snapshot} if args.table else {}
        with tempfile.TemporaryDirectory(prefix="mlops-probe-") as workdir:
            sets += dataset_rows(
                _run_ids(args),
                inputs,
                Path(workdir),
                _catalog_opener(args),
                snapshots.get,
                lambda message: progress(message, None),
                first_only=not every,
            )
    if every or not sets:
        examples = _examples(models)
        try:
            sets.append(synthetic_for(models[0], examples, args.synthetic_rows, args.seed))
        except LookupError as exc:
            progress(f"no synthetic rows: {exc}", None)
            if examples is not None and not sets:
                sets.append(RowSet(examples, "the versions' input examples"))
    if not sets:
        raise LookupError(
            "no rows to score: no --rows file, row builder, readable logged dataset, "
            "signature or input example"
        )
    return sets


def _combine(sets: list[RowSet], inputs: list[str] | None):
    import pandas as pd

    frames = [s.rows for s in sets]
    rows = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    notes: list[str] = []
    for s in sets:
        notes += s.notes or [""] * len(s.rows)
    keys = list(dict.fromkeys(k for s in sets for k in s.keys if k in rows.columns))
    scored = inputs if inputs and all(c in rows.columns for c in inputs) else list(rows.columns)
    return rows.reset_index(drop=True), scored, keys, notes


def _what(sets: list[RowSet]) -> str:
    if all(s.synthetic for s in sets):
        return "synthetic"
    if len(sets) == 1 and sets[0].origin == "the versions' input examples":
        return "input-example"
    return ""


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    background = _start_data_work(args)
    progress("loading mlflow", 0.02)
    import mlflow

    from commands import model_cache

    mlflow.set_tracking_uri(args.tracking_uri)
    models = []
    for side in (0, 1):
        uri = _model_uri(args, side)
        progress(f"loading {uri}", 0.05 + 0.25 * side)
        try:
            models.append(model_cache.load_model(uri))  # any name ('@' in it...); cached per home
        except Exception as exc:  # the loader's own reason, for the side's gap
            raise LoadError(("left", "right")[side], uri, exc) from exc
    builder_rows, builder_source, diff = (None, "", None)
    if background is not None:
        builder_rows, builder_source, diff = _finish_data_work(background)
    sets = gather_rows(args, models, builder_rows, builder_source)
    inputs = input_columns(models[0]) or input_columns(models[1])
    rows, scored, keys, notes = _combine(sets, inputs)
    if args.max_rows and len(rows) > args.max_rows:
        rows, notes = rows.head(args.max_rows), notes[: args.max_rows]
    total = len(rows)
    if total == 0:
        raise LookupError(f"no rows to score ({'; '.join(s.origin for s in sets)})")
    chunk = max(1, -(-total // 10))
    answers: tuple[list, list] = ([], [])
    features = rows[scored]
    for start in range(0, total, chunk):
        part = features.iloc[start : start + chunk]
        for side in (0, 1):
            try:
                answers[side].append(_predict(models[side], part))
            except OutputShapeError as exc:
                raise OutputShapeError(f"the {('left', 'right')[side]} model: {exc}") from None
        done = min(total, start + chunk)
        progress(f"scored {done:,} of {total:,} rows", 0.65 + 0.35 * done / total)
    compared = compare(concat(answers[0]), concat(answers[1]), args.tolerance)
    differing = compared.differing_rows()
    text, conclusive = probe_result.verdict(total, len(differing), _what(sets))
    if differing and (how := summary(compared)):
        text += f": {how}"
    made = sum(len(s.rows) for s in sets if s.synthetic)
    if made and made < total:
        text += f" ({made:,} of them synthetic)"
    per_source, offset = [], 0
    for s in sets:
        end = min(total, offset + len(s.rows))
        per_source.append(
            {
                "origin": s.origin,
                "rows": end - offset,
                "disagreements": sum(1 for i in differing if offset <= i < end),
                "synthetic": s.synthetic,
            }
        )
        offset = end
    return {
        "rows": total,
        "disagreements": len(differing),
        "rate": round(len(differing) / total, 6),
        "source": "; ".join(s.label for s in sets),
        "synthetic": any(s.synthetic for s in sets),
        "sources": per_source,
        "outputs": [c.as_json() for c in compared.columns],
        "tolerance": args.tolerance,
        "confusion": compared.confusion(),
        "examples": probe_result.examples(rows, scored, keys, notes, compared, differing),
        "verdict": text,
        "conclusive": conclusive,
        "seconds": round(time.monotonic() - started, 3),
        "data_diff": diff,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m commands.probe",
        description="score the same rows with two model versions; JSON lines on stdout",
    )
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--left", required=True, help="first version")
    parser.add_argument("--right", required=True, help="second version")
    parser.add_argument("--table", help="Iceberg table the versions were trained on")
    parser.add_argument("--left-snapshot")
    parser.add_argument("--right-snapshot")
    parser.add_argument("--catalog", default="lake", help="Iceberg catalog name")
    parser.add_argument("--catalog-db", help="sqlite file of a SqlCatalog (else pyiceberg config)")
    parser.add_argument("--warehouse", help="warehouse URI of that SqlCatalog")
    parser.add_argument("--params", help="the left run's params as JSON (for row builders)")
    parser.add_argument("--scope", choices=("holdout", "all"), default="holdout")
    parser.add_argument("--max-rows", type=int, default=0, help="score at most N rows (0: all)")
    parser.add_argument("--rows", help="score the rows of this CSV, Parquet or JSON-lines file")
    parser.add_argument(
        "--all-sources", action="store_true", help="score rows from every source, not the first"
    )
    parser.add_argument(
        "--no-datasets", action="store_true", help="do not read the runs' logged datasets"
    )
    parser.add_argument("--synthetic-rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the synthetic rows")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help="numeric outputs closer than this (absolute) are the same answer",
    )
    parser.add_argument("--left-uri", help="load the left model from this URI instead")
    parser.add_argument("--right-uri", help="load the right model from this URI instead")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    for name in ("mlflow", "pyiceberg", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    global _protocol
    # stdout carries the protocol: anything a library prints goes to stderr instead
    _protocol, sys.stdout = sys.stdout, sys.stderr
    try:
        emit("result", **run(args))
    except LoadError as exc:  # which side, and the loader's reason (not a server's text)
        emit("error", message=str(exc), side=exc.side, reason=exc.reason)
        return 2
    except Exception as exc:  # noqa: BLE001 - one JSON line for the parent, never a traceback
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 2
    finally:
        sys.stdout = _protocol
    return 0


if __name__ == "__main__":
    sys.exit(main())

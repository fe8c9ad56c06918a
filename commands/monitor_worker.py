"""The monitoring worker: drift tests and realized performance, in a process of its own.

``python -m commands.monitor_worker`` reads one JSON request on stdin and prints one JSON result
on stdout (the last line). It imports pandas, pyarrow and pyiceberg before reading the request (the
parent starts it first), scipy for the drift tests, and mlflow only to score rows when the
inference log holds none of the version's; never the console's UI. Drift statistics are scipy's:
``ks_2samp`` for numeric features, ``chi2_contingency`` for categorical ones. Realized performance
is computed with numpy from per-label counts (the figures scikit-learn's metrics give). The log
is read as two Arrow columns (``inputs``, ``outputs``) of the version's rows, and each distinct
``inputs`` text is parsed once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, Field

# what a model's monitoring data builder returns; see demo_monitor_data
MonitorDataBuilder = Callable[["WorkerRequest", Callable[[], Any]], "MonitorData"]


class WorkerRequest(BaseModel):
    model: str
    version: str
    tracking_uri: str | None = None
    table: str | None = None
    pinned_snapshot: str | None = None
    catalog: str = "lake"
    catalog_db: str | None = None
    warehouse: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    p_value: float = 0.01
    min_rows: int = 30
    metric: str | None = None
    score_offline: bool = True


@dataclass
class MonitorData:
    """Feature rows to compare, and labeled rows for realized performance."""

    reference: Any  # DataFrame of features at the pinned snapshot
    current: Any | None  # DataFrame of features that arrived after it (newest snapshot)
    labeled: Any | None  # DataFrame: features + "target" + "window" (+ "order")
    newest_snapshot: str | None
    note: str | None = None


def _snapshot_rows(open_catalog, table: str, snapshot_id: str):
    from commands.probe import _ident

    loaded = open_catalog().load_table(_ident(table))
    return loaded.scan(snapshot_id=int(snapshot_id)).to_pandas()


def _newest(open_catalog, table: str) -> str | None:
    from commands.probe import _ident

    current = open_catalog().load_table(_ident(table)).current_snapshot()
    return str(current.snapshot_id) if current is not None else None


def demo_monitor_data(request: WorkerRequest, open_catalog) -> MonitorData:
    """next-week-commits: weekly features at the pinned snapshot vs the weeks added since."""
    from datetime import timedelta

    from commands.demo import features, lake
    from commands.demo.config import DemoConfig

    config = DemoConfig()

    def number(key: str, default: int) -> int:
        try:
            return int(request.params.get(key, default))
        except ValueError:
            return default

    low, medium = number("bucket.low_max", config.low_max), number("bucket.medium_max", 110)
    catalog = open_catalog()
    pinned = features.weekly_commits(
        lake.read_snapshot(catalog, request.pinned_snapshot), config.start
    )
    reference = features.feature_rows(pinned, low, medium)
    newest = _newest(open_catalog, request.table)
    if newest is None or newest == request.pinned_snapshot:
        return MonitorData(reference, None, None, newest)
    weekly = features.weekly_commits(lake.read_snapshot(catalog, newest), config.start)
    rows = features.feature_rows(weekly, low, medium)
    # rows whose features hold weeks the pinned snapshot did not have
    current = rows[rows["week"] > int(pinned["week"].max())].copy()
    current["order"] = current["week"] + 1
    current["window"] = [str(config.start + timedelta(weeks=int(w) + 1)) for w in current["week"]]
    return MonitorData(reference, current, current, newest)


def generic_monitor_data(request: WorkerRequest, open_catalog) -> MonitorData:
    """Any model with a pinned snapshot: the table's rows then and now (no labels)."""
    reference = _snapshot_rows(open_catalog, request.table, request.pinned_snapshot)
    newest = _newest(open_catalog, request.table)
    current = None
    if newest is not None and newest != request.pinned_snapshot:
        current = _snapshot_rows(open_catalog, request.table, newest)
    note = (
        f"no monitoring data builder for {request.model}: the whole newest snapshot is compared "
        "and no labels are read"
    )
    return MonitorData(reference, current, None, newest, note)


BUILDERS: dict[str, MonitorDataBuilder] = {"next-week-commits": demo_monitor_data}


def register(model: str, builder: MonitorDataBuilder) -> None:
    """Teach monitoring how to build feature and label rows for another model."""
    BUILDERS[model] = builder


# --- statistics -----------------------------------------------------------------------------------


def drift_test(reference, current, p_value: float) -> dict[str, Any] | None:
    """scipy's two-sample test for one feature; None when a side has no usable value."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    ref, cur = reference.dropna(), current.dropna()
    if len(ref) == 0 or len(cur) == 0:
        return None
    numeric = pd.api.types.is_numeric_dtype(ref) and pd.api.types.is_numeric_dtype(cur)
    if numeric and not pd.api.types.is_bool_dtype(ref):
        result = stats.ks_2samp(ref.to_numpy(float), cur.to_numpy(float))
        test, statistic, p = "ks_2samp", float(result.statistic), float(result.pvalue)
    else:
        categories = sorted(set(ref.astype(str)) | set(cur.astype(str)))
        counts = np.array(
            [
                [int((ref.astype(str) == c).sum()) for c in categories],
                [int((cur.astype(str) == c).sum()) for c in categories],
            ]
        )
        if len(categories) < 2:
            test, statistic, p = "chi2", 0.0, 1.0
        else:
            chi2, p, _dof, _exp = stats.chi2_contingency(counts)
            test, statistic, p = "chi2", float(chi2), float(p)
    return {
        "test": test,
        "statistic": round(statistic, 6),
        "p_value": p,
        "drifted": bool(p < p_value),
        "rows": len(cur),
        "reference_rows": len(ref),
    }


def _confusion(target, predicted):
    """Per label of the sorted union of both sides: (true positives, predicted, true) counts."""
    import numpy as np

    labels, codes = np.unique(np.concatenate([target, predicted]), return_inverse=True)
    truth, guess = codes[: len(target)], codes[len(target) :]
    k = len(labels)
    hit = np.bincount(truth[truth == guess], minlength=k)
    return hit, np.bincount(guess, minlength=k), np.bincount(truth, minlength=k)


def _divide(numerator, denominator):
    """Element-wise, 0 where the denominator is 0 (scikit-learn's ``zero_division=0``)."""
    import numpy as np

    denominator = np.asarray(denominator, dtype=np.float64).copy()
    empty = denominator == 0
    denominator[empty] = 1
    out = np.asarray(numerator, dtype=np.float64) / denominator
    out[empty] = 0.0
    return out


def _f1(hit, guessed, true):
    return _divide(2.0 * hit, 1.0 * true + guessed)


def _f1_weighted(target, predicted) -> float:
    import numpy as np

    hit, guessed, true = _confusion(target, predicted)
    try:
        return float(np.average(_f1(hit, guessed, true), weights=true))
    except ZeroDivisionError:
        return float(np.nanmean(_f1(hit, guessed, true)))


def metric_function(name: str):
    """``holdout_f1_macro`` → macro F1, ``accuracy`` → accuracy, … (matched by suffix).

    Each takes two arrays of labels (strings) and computes what scikit-learn's ``f1_score``,
    ``precision_score``, ``recall_score`` (``zero_division=0``) and ``accuracy_score`` compute,
    from the confusion counts with numpy: importing scikit-learn and its input validation cost
    more than a year of weekly performance (``tests/monitor/test_monitor_statistics.py`` holds
    the two equal).
    """
    import numpy as np

    def macro(score):
        return lambda t, p: float(np.nanmean(score(*_confusion(t, p))))

    table = {
        "f1_macro": macro(_f1),
        "f1_weighted": _f1_weighted,
        "precision_macro": macro(lambda hit, guessed, true: _divide(hit, guessed)),
        "recall_macro": macro(lambda hit, guessed, true: _divide(hit, true)),
        "accuracy": lambda t, p: float(np.mean(np.asarray(t) == np.asarray(p))),
    }
    for suffix, function in table.items():
        if name == suffix or name.endswith("_" + suffix):
            return suffix, function
    return "accuracy", table["accuracy"]


@dataclass
class Served:
    """The inference log's ``inputs``, each distinct text parsed once (a log repeats its rows).

    ``distinct``: one row of features per distinct text, in the order the log first shows them;
    ``first``: the log row where each first appears; ``codes``: each log row's distinct row.
    """

    distinct: Any
    first: Any
    codes: Any

    def __len__(self) -> int:
        return len(self.codes)

    def rows(self):
        """Every log row's features (one row per log row, in the log's order)."""
        return self.distinct.take(self.codes).reset_index(drop=True)


def _parse(texts: list[str]) -> list[dict]:
    """JSON objects; one parse of all texts when they are clean, ``{}`` for a broken one."""
    try:
        parsed = json.loads("[" + ",".join(texts) + "]")
    except ValueError:  # a broken row: parse one by one and keep the good ones
        parsed = []
        for text in texts:
            try:
                parsed.append(json.loads(text))
            except ValueError:
                parsed.append({})
    return [value if isinstance(value, dict) else {} for value in parsed]


def served_rows(inputs) -> Served:
    """The log's ``inputs`` column (Arrow) as features: Arrow's hash kernels find the distinct
    texts, and only those are parsed."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = pc.fill_null(inputs, "")  # a missing text is a broken row
    uniques = pc.unique(texts)
    codes = np.asarray(pc.index_in(texts, value_set=uniques).to_numpy(), dtype=np.int64)
    _, first = np.unique(codes, return_index=True)  # first[u]: the first log row of text u
    order = np.argsort(first, kind="stable")  # the distinct texts in the log's order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    parsed = _parse(uniques.take(pa.array(order)).to_pylist())
    distinct = pd.DataFrame.from_records(parsed, index=pd.RangeIndex(len(parsed)))
    return Served(distinct, first[order], rank[codes])


def _key(frame, columns: list[str]) -> list[tuple]:
    """Rows as hashable keys (numbers rounded) to join served rows with labeled rows."""
    rounded = frame[columns].apply(
        lambda col: col.round(6) if col.dtype.kind in "fiu" else col.astype(str)
    )
    return list(rounded.itertuples(index=False, name=None))


def performance(labeled, predicted, metric: str, source: str) -> list[dict[str, Any]]:
    """Per window: the metric of the predictions against the targets."""
    label, function = metric_function(metric)
    frame = labeled.assign(predicted=list(predicted))
    frame = frame[frame["predicted"].notna()]
    out = []
    for window, group in sorted(frame.groupby("window"), key=lambda item: item[1]["order"].iloc[0]):
        value = function(group["target"].astype(str), group["predicted"].astype(str))
        out.append(
            {
                "window": str(window),
                "metric": label,
                "value": round(float(value), 6),
                "rows": len(group),
                "source": source,
            }
        )
    return out


def run(request: WorkerRequest) -> dict[str, Any]:
    from commands import inference_log
    from commands.probe import _catalog_opener

    open_catalog = _catalog_opener(
        SimpleNamespace(
            catalog=request.catalog, catalog_db=request.catalog_db, warehouse=request.warehouse
        )
    )
    notes: list[str] = []
    # the two columns monitoring uses, of this version's rows only
    log = inference_log.scan(
        open_catalog(), request.model, request.version, columns=("inputs", "outputs")
    )
    served = served_rows(log["inputs"]) if log.num_rows else None
    data = None
    if request.table and request.pinned_snapshot:
        builder = BUILDERS.get(request.model, generic_monitor_data)
        data = builder(request, open_catalog)
        if data.note:
            notes.append(data.note)
    else:
        notes.append("no pinned training snapshot (data.iceberg.table/snapshot_id): no reference")

    drift: dict[str, dict[str, Any]] = {}
    if data is not None:
        columns = [c for c in data.reference.columns if c not in {"target", "week", "repo"}]
        if served is not None:
            columns = [c for c in columns if c in served.distinct.columns] or columns
        sides = {
            "inference_log": served.rows() if served is not None else None,
            "newest_snapshot": data.current,
        }
        for feature in columns:
            tests: dict[str, Any] = {}
            for source, frame in sides.items():
                if frame is None or feature not in frame.columns:
                    continue
                if len(frame) < request.min_rows or len(data.reference) < request.min_rows:
                    continue
                found = drift_test(data.reference[feature], frame[feature], request.p_value)
                if found is not None:
                    tests[source] = found
            drift[feature] = tests
        for source, frame in sides.items():
            if frame is not None and len(frame) < request.min_rows:
                notes.append(
                    f"{source}: {len(frame)} rows, under min_rows={request.min_rows}: not tested"
                )

    windows: list[dict[str, Any]] = []
    if data is not None and data.labeled is not None and len(data.labeled) and request.metric:
        feature_cols = [c for c in data.reference.columns if c not in {"target", "week", "repo"}]
        if served is not None and all(c in served.distinct.columns for c in feature_cols):
            # one output per distinct served row, the first the log holds (a row served twice
            # got the same version); distinct texts are in the log's order, so this is the
            # first log row with those (rounded) features
            distinct = served.distinct[feature_cols]
            unique = ~distinct.round(6).duplicated().to_numpy()
            outputs = log["outputs"].take(served.first[unique]).to_pylist()
            wanted = {
                key: inference_log.prediction_value(output)
                for key, output in zip(_key(distinct[unique], feature_cols), outputs, strict=True)
            }
            predicted = [wanted.get(k) for k in _key(data.labeled, feature_cols)]
            windows = performance(data.labeled, predicted, request.metric, "inference_log")
        elif request.score_offline and request.tracking_uri:
            predicted = _score_offline(request, data.labeled[feature_cols])
            windows = performance(data.labeled, predicted, request.metric, "newest_snapshot")
            notes.append(
                f"no inference log rows of v{request.version}: its performance was computed by "
                "scoring the newest snapshot's rows offline"
            )
    return {
        "drift": drift,
        "performance": windows,
        "newest_snapshot": data.newest_snapshot if data is not None else None,
        "inference_rows": log.num_rows,
        "notes": notes,
    }


def _score_offline(request: WorkerRequest, rows) -> list[Any]:
    import logging
    import os
    import warnings

    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow

    mlflow.set_tracking_uri(request.tracking_uri)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from commands.model_uri import version_uri

        model = mlflow.pyfunc.load_model(version_uri(request.model, request.version))
        return [str(v) for v in model.predict(rows.reset_index(drop=True))]


def _preload() -> None:
    """What every request needs, imported before the request is read: the parent starts this
    process before it asks MLflow for the version, so the two overlap. scipy waits for a
    reference to test against (a model without a pinned snapshot needs none)."""
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyiceberg.catalog
    import pyiceberg.expressions  # noqa: F401


def main() -> int:
    out = sys.stdout
    sys.stdout = sys.stderr  # libraries' prints must not break the protocol
    try:
        _preload()
        request = WorkerRequest.model_validate_json(sys.stdin.read())
        result = {"event": "result", **run(request)}
    except Exception as exc:  # noqa: BLE001 - reported as one line to the parent
        result = {"event": "error", "message": f"{type(exc).__name__}: {exc}"}
    out.write(json.dumps(result, default=str) + "\n")
    out.flush()
    return 0 if result["event"] == "result" else 1


if __name__ == "__main__":
    sys.exit(main())

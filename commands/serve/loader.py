"""Loading a model version for the predict service, and scoring validated rows with it.

Imports mlflow and pandas inside the functions: this module runs only in the service process.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from commands.serve.schema import InputSchema, OutputSchema, input_schema, output_schema


class LoadError(Exception):
    """The model version could not be loaded; the message is one line."""


@dataclass
class ServedModel:
    """One loaded version: the pyfunc model and the schemas its requests are checked against."""

    model: str
    version: str
    uri: str
    pyfunc: Any
    inputs: InputSchema
    outputs: OutputSchema
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def load(model: str, version: str, *, tracking_uri: str | None, model_dir: str | None = None):
    """Load ``models:/model/version`` (or a local model directory) through MLflow's pyfunc."""
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    try:
        import mlflow
        import mlflow.pyfunc
    except ImportError as exc:  # pragma: no cover - mlflow is a dependency
        raise LoadError(f"mlflow is not installed: {exc}") from None
    from commands.model_uri import version_uri

    uri = model_dir or f"models:/{model}/{version}"
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # a name with '@' (or '?', '#'...) is misread in models:/NAME/V: load by location
            loaded = mlflow.pyfunc.load_model(model_dir or version_uri(model, version))
    except Exception as exc:  # noqa: BLE001 - mlflow raises many types; one line out
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadError(f"cannot load {uri}: {type(exc).__name__}: {message[:300]}") from None
    signature = getattr(loaded.metadata, "signature", None)
    return ServedModel(
        model=model,
        version=str(version),
        uri=uri,
        pyfunc=loaded,
        inputs=input_schema(model, signature),
        outputs=output_schema(model, signature),
    )


def frame(served: ServedModel, rows: list[dict[str, Any]]):
    """A DataFrame of validated rows, columns in the model's order and dtypes of its signature."""
    import pandas as pd
    from pandas.api.types import pandas_dtype

    columns = served.inputs.columns or list(rows[0])
    df = pd.DataFrame.from_records(rows, columns=columns)
    for column, dtype in served.inputs.dtypes.items():
        if column in df and df[column].notna().all():
            df[column] = df[column].astype(pandas_dtype(dtype))
    return df


def _plain(value: Any) -> Any:
    """numpy scalars to Python, NaN to None (JSON has no NaN)."""
    if hasattr(value, "item") and not isinstance(value, list | dict):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def predict(served: ServedModel, rows: list[dict[str, Any]]) -> list[Any]:
    """One prediction per row, as JSON-ready values checked against the output schema."""
    import numpy as np
    import pandas as pd

    raw = served.pyfunc.predict(frame(served, rows))
    if isinstance(raw, pd.DataFrame):
        values: list[Any] = (
            raw.iloc[:, 0].tolist() if raw.shape[1] == 1 else raw.to_dict(orient="records")
        )
    elif isinstance(raw, pd.Series | np.ndarray):
        values = raw.tolist()
    elif isinstance(raw, list | tuple):
        values = list(raw)
    elif isinstance(raw, dict):
        values = [dict(zip(raw, vals, strict=False)) for vals in zip(*raw.values(), strict=False)]
    else:
        values = [raw]
    values = [_plain(v) for v in values]
    if len(values) != len(rows):
        raise ValueError(f"the model returned {len(values)} predictions for {len(rows)} rows")
    return served.outputs.check(values)

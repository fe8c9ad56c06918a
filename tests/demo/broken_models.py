"""Deliberately broken pyfunc models for the invariance checks: each breaks one invariance."""

from __future__ import annotations

import zlib

import mlflow.pyfunc
import numpy as np
import pandas as pd

from commands.demo.features import BUCKETS, FEATURE_COLUMNS


class ReadsRepoName(mlflow.pyfunc.PythonModel):
    """Right on the features, but shifts the bucket by a hash of the repository's name."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        base = np.where(model_input["lag_1"] < 40, 0, np.where(model_input["lag_1"] < 110, 1, 2))
        if "repo" in model_input.columns:
            shift = [zlib.crc32(str(r).encode()) % 3 for r in model_input["repo"]]
            base = (base + np.array(shift)) % 3
        return [BUCKETS[i] for i in base]


class ReadsColumnsByPosition(mlflow.pyfunc.PythonModel):
    """Reads "the first column" instead of ``lag_1``: column order changes its answers."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        first = model_input.iloc[:, 0].to_numpy(dtype=float)
        return [BUCKETS[0] if v < 40 else BUCKETS[1] if v < 110 else BUCKETS[2] for v in first]


def save_and_load(model: mlflow.pyfunc.PythonModel, path) -> mlflow.pyfunc.PyFuncModel:
    """Save without a signature (so MLflow passes every column through) and load as a pyfunc."""
    mlflow.pyfunc.save_model(str(path), python_model=model)
    return mlflow.pyfunc.load_model(str(path))


__all__ = ["FEATURE_COLUMNS", "ReadsColumnsByPosition", "ReadsRepoName", "save_and_load"]

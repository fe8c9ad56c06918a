"""Custom pyfunc models that each break one signature-derived invariance (and one that is fine).

Saved without a signature, with an input example, so MLflow passes every column through as given
and the checks make their rows from the example.
"""

from __future__ import annotations

import hashlib
import os

import mlflow.pyfunc
import numpy as np
import pandas as pd


def _label(flags) -> list[str]:
    return ["yes" if f else "no" for f in flags]


class Fine(mlflow.pyfunc.PythonModel):
    """Reads its columns by name, row by row: passes every check."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return _label(model_input["x1"] + model_input["n"] * 0.1 > model_input["x2"])


class ReadsByPosition(mlflow.pyfunc.PythonModel):
    """Compares "the first column" with "the second": breaks column_order."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return _label(model_input.iloc[:, 0] > model_input.iloc[:, 1])


class SumsEveryColumn(mlflow.pyfunc.PythonModel):
    """Adds up whatever columns arrive: breaks extra_column."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return _label(model_input.select_dtypes("number").sum(axis=1) > 0)


class BatchRelative(mlflow.pyfunc.PythonModel):
    """Above the batch's own mean: breaks row_alone."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return _label(model_input["x1"] > model_input["x1"].mean())


class TypeSensitive(mlflow.pyfunc.PythonModel):
    """Reads the text of an integer column ("3" vs "3.0"): breaks int_as_float."""

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return _label(str(v).endswith(("1", "3", "5", "7", "9")) for v in model_input["n"])


class SaltedAtLoad(mlflow.pyfunc.PythonModel):
    """Draws a random salt when loaded: breaks load_twice."""

    def load_context(self, context) -> None:
        self.salt = os.urandom(8).hex()

    def predict(self, context, model_input: pd.DataFrame, params=None):
        # a cryptographic hash, not crc32: a CRC is affine, so a new salt flipped the parity of
        # every row of one length at once, or of none — two loads agreed on all rows about one
        # time in ten, and the check it exists to trip passed
        return [
            "yes"
            if hashlib.sha256(f"{self.salt}:{a:.6f}:{b:.6f}".encode()).digest()[0] % 2
            else "no"
            for a, b in zip(model_input["x1"], model_input["x2"], strict=True)
        ]


def example() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=8),
            "x2": rng.normal(size=8),
            "n": rng.integers(0, 10, size=8).astype("int64"),
        }
    )


def save(model: mlflow.pyfunc.PythonModel, path) -> str:
    """Save with the example; drop the signature MLflow infers from it (see the docstring)."""
    from mlflow.models import Model

    mlflow.pyfunc.save_model(
        str(path), python_model=model, input_example=example(), pip_requirements=["pandas"]
    )
    meta = Model.load(str(path))
    meta.signature = None
    meta.save(str(path / "MLmodel"))
    return str(path)

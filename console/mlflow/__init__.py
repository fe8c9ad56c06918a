"""The console's MLflow REST client package (no ``import mlflow`` here, ever).

Exports are lazy so ``import console.mlflow`` costs nothing until a name is used:
``MlflowRestClient`` (client), ``MlflowError`` and its subclasses (errors), ``AuthConfig`` (auth).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.mlflow.auth import AuthConfig, redact_url
    from console.mlflow.client import MlflowRestClient, RetryPolicy
    from console.mlflow.errors import (
        AlreadyExists,
        BadResponse,
        InvalidRequest,
        MlflowError,
        NotFound,
        PermissionDenied,
        ServerError,
        Timeout,
        Unauthorized,
        Unreachable,
    )

_EXPORTS = {
    "MlflowRestClient": "console.mlflow.client",
    "RetryPolicy": "console.mlflow.client",
    "AuthConfig": "console.mlflow.auth",
    "redact_url": "console.mlflow.auth",
    "MlflowError": "console.mlflow.errors",
    "NotFound": "console.mlflow.errors",
    "Unauthorized": "console.mlflow.errors",
    "PermissionDenied": "console.mlflow.errors",
    "InvalidRequest": "console.mlflow.errors",
    "AlreadyExists": "console.mlflow.errors",
    "ServerError": "console.mlflow.errors",
    "Unreachable": "console.mlflow.errors",
    "Timeout": "console.mlflow.errors",
    "BadResponse": "console.mlflow.errors",
}

__all__ = [
    "AlreadyExists",
    "AuthConfig",
    "BadResponse",
    "InvalidRequest",
    "MlflowError",
    "MlflowRestClient",
    "NotFound",
    "PermissionDenied",
    "RetryPolicy",
    "ServerError",
    "Timeout",
    "Unauthorized",
    "Unreachable",
    "redact_url",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'console.mlflow' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

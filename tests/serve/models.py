"""Someone else's models for the serving tests: plain scikit-learn logged with MLflow's client.

No provenance contract, no row builder: a logistic regression over two named columns (one with a
space in its name, one integer), registered as versions 1 and 2 that
predict differently, so a rollout is visible in the answers.
"""

from __future__ import annotations

import os
import uuid
import warnings


def register_sklearn_model(tracking_uri: str, name: str | None = None) -> str:
    """A registered model with two versions (v2 flips the labels of v1); returns its name."""
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    os.environ["MLFLOW_LOG_UV_FILES"] = "false"
    mlflow.set_tracking_uri(tracking_uri)
    name = name or f"iris-{uuid.uuid4().hex[:8]}"
    rng = np.random.default_rng(7)
    x = pd.DataFrame(
        {
            "petal length": rng.normal(3, 1, 200),
            "count": rng.integers(0, 50, 200).astype("int64"),
        }
    )
    y = (x["petal length"] + x["count"] / 25 > 4).astype("int64")
    signature = infer_signature(x, y)
    mlflow.set_experiment("serve-tests")
    for flip in (False, True):
        model = LogisticRegression().fit(x, 1 - y if flip else y)
        with mlflow.start_run(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=signature,
                input_example=x.head(3),
                pip_requirements=["scikit-learn", "numpy"],
            )
            mlflow.register_model(info.model_uri, name)
    return name

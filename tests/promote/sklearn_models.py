"""Someone else's model for the gate tests: a plain scikit-learn pipeline logged with MLflow's own
client (``mlflow.sklearn.log_model``, signature and input example, a registered version per
accuracy). Run in a process of its own so the test process never imports mlflow:
``python -m tests.promote.sklearn_models TRACKING_URI MODEL ACCURACY…``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def log_versions(tracking_uri: str, model: str, accuracies: list[float]) -> None:
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.ensemble import RandomForestClassifier

    os.environ["MLFLOW_LOG_UV_FILES"] = "false"
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(f"{model}-training")
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        {"x1": rng.normal(size=300), "n": rng.integers(0, 9, 300).astype("int64")}
    )
    labels = (features.x1 + features.n * 0.1 > 0.4).astype(int)
    for accuracy in accuracies:
        fitted = RandomForestClassifier(n_estimators=20, random_state=1).fit(features, labels)
        with mlflow.start_run():
            mlflow.log_metric("accuracy", accuracy)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = mlflow.sklearn.log_model(
                    fitted,
                    name="model",
                    signature=infer_signature(features.head(5), labels.head(5)),
                    input_example=features.head(5),
                    pip_requirements=["scikit-learn", "pandas"],
                    serialization_format="cloudpickle",  # skops refuses to save trees
                )
                mlflow.register_model(info.model_uri, model)


def seed(tracking_uri: str, model: str, accuracies: list[float]) -> None:
    """Log the versions from a child process (about 10-20 s: mlflow and sklearn imports)."""
    argv = [sys.executable, "-m", "tests.promote.sklearn_models", tracking_uri, model]
    argv += [str(a) for a in accuracies]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode:
        raise RuntimeError(f"logging the sklearn model failed: {out.stderr.strip()[-1500:]}")


if __name__ == "__main__":
    log_versions(sys.argv[1], sys.argv[2], [float(a) for a in sys.argv[3:]])

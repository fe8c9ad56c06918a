"""Someone else's models: plain scikit-learn pipelines logged with MLflow's own client.

No provenance contract (no Iceberg params), no row builder. Each pair has exactly equal metrics
(fully grown trees: training accuracy 1.0) and different predictions, and differs in exactly one
of: the training data, the code (two commits of a throw-away git repository), the seed. The
``identical`` pair differs in nothing. Runs log an evaluation dataset: a local CSV file (data), an
HTTP file (code), a CSV artifact of the run under the dataset's name (seed); ``bare`` logs none.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tests.provenance.world import Case, make_repo

FEATURES = ["x1", "x2", "n", "color"]
COLORS = ["red", "green", "blue"]
REQUIREMENTS = ["scikit-learn", "pandas", "numpy"]


@dataclass
class Foreign:
    home: Path
    tracking_uri: str
    eval_csv: Path
    commits: list[str]
    cases: dict[str, Case] = field(default_factory=dict)


def make_rows(seed: int, n: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": [f"row-{seed}-{i}" for i in range(n)],
            "x1": rng.normal(size=n),
            "x2": rng.uniform(-2, 2, size=n),
            "n": rng.integers(0, 20, size=n).astype("int64"),
            "color": rng.choice(COLORS, size=n),
        }
    )
    score = frame.x1 + frame.x2 * 0.5 + frame.n * 0.05 + (frame.color == "red") * 0.8
    score = score + rng.normal(scale=0.7, size=n)
    frame["label"] = np.select([score < -0.3, score < 0.9], ["low", "mid"], "high")
    return frame


def make_model(seed: int, code: int):
    """The pipeline as the training code at commit ``code`` (0 or 1) builds it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier

    prep = ColumnTransformer(
        [("color", OneHotEncoder(handle_unknown="ignore"), ["color"])], remainder="passthrough"
    )
    criterion = "gini" if code == 0 else "entropy"  # what the second commit changed
    tree = DecisionTreeClassifier(criterion=criterion, max_features=2, random_state=seed)
    return Pipeline([("prep", prep), ("tree", tree)])


def log_version(
    foreign: Foreign, model: str, *, data: int, commit: int, seed: int, dataset: str
) -> str:
    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    train = make_rows(100 + data, 400)
    fitted = make_model(seed, commit).fit(train[FEATURES], train["label"])
    accuracy = float((fitted.predict(train[FEATURES]) == train["label"]).mean())
    tags = {
        "mlflow.source.git.commit": foreign.commits[commit],
        "mlflow.source.git.repoURL": (foreign.home / "code").as_uri(),
        "mlflow.source.git.branch": "main",
    }
    mlflow.set_experiment("someone-elses-models")
    with mlflow.start_run(run_name=f"{model}-d{data}-c{commit}-s{seed}", tags=tags) as run:
        mlflow.log_params({"random_state": seed, "max_features": 2})
        mlflow.log_metric("train_accuracy", accuracy)
        train_csv = foreign.home / f"train-{data}.csv"
        if not train_csv.exists():
            train.to_csv(train_csv, index=False)
        if dataset != "none":
            mlflow.log_input(
                mlflow.data.from_pandas(train, source=str(train_csv), name="train"),
                context="training",
            )
            evaluation = pd.read_csv(foreign.eval_csv)
            source = str(foreign.eval_csv)
            if dataset == "artifact":
                mlflow.log_artifact(str(foreign.eval_csv))
            if dataset == "http":
                mlflow.log_artifact(str(foreign.eval_csv), "eval")
            if dataset == "http":  # the server's own artifact endpoint, as an HTTP file
                where = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
                source = f"{foreign.tracking_uri}/api/2.0/mlflow-artifacts/artifacts/{where}"
                source += f"/eval/{foreign.eval_csv.name}"
            # "artifact": no source given (MLflow records the code), the rows are an artifact
            # named like the dataset (MLflow shares a dataset of equal name and digest across an
            # experiment's runs, hence a name of its own)
            evaluation_ds = (
                mlflow.data.from_pandas(evaluation, name="holdout")
                if dataset == "artifact"
                else mlflow.data.from_pandas(evaluation, source=source, name="eval")
            )
            mlflow.log_input(evaluation_ds, context="eval")
        example = train[FEATURES].head(5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.sklearn.log_model(
                fitted,
                name="model",
                signature=infer_signature(example, fitted.predict(example)),
                input_example=example,
                pip_requirements=REQUIREMENTS,
                serialization_format="cloudpickle",
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        version = mlflow.register_model(info.model_uri, model)
    return str(version.version)


def build_foreign(home: Path, tracking_uri: str) -> Foreign:
    import mlflow

    os.environ["MLFLOW_LOG_UV_FILES"] = "false"
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    mlflow.set_tracking_uri(tracking_uri)
    commits = make_repo(home / "code")
    eval_csv = home / "holdout.csv"
    make_rows(7, 600).to_csv(eval_csv, index=False)
    foreign = Foreign(home, tracking_uri, eval_csv, commits)
    base = {"data": 0, "commit": 0, "seed": 1, "dataset": "file"}
    pairs = {
        "data": (base, {**base, "data": 1}),
        "code": ({**base, "dataset": "http"}, {**base, "commit": 1, "dataset": "http"}),
        "seed": ({**base, "dataset": "artifact"}, {**base, "seed": 2, "dataset": "artifact"}),
        "bare": ({**base, "dataset": "none"}, {**base, "seed": 2, "dataset": "none"}),
        "identical": (base, base),
    }
    for name, (left, right) in pairs.items():
        model = f"foreign-{name}"
        v1 = log_version(foreign, model, **left)
        v2 = log_version(foreign, model, **right)
        foreign.cases[name] = Case(model, v1, v2)
    return foreign

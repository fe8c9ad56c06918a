"""Someone else's models, second set: one pair per kind of output, built as other teams build them.

Plain scikit-learn and "models from code" pyfunc files logged with MLflow's own client; no
provenance contract (no Iceberg params), no row builder. Each pair differs in exactly one thing,
so in exactly one output column:

- ``proba``: a ``ColumnTransformer`` + gradient-boosting pipeline logged with
  ``pyfunc_predict_fn="predict_proba"`` (N×3 probabilities); the pipeline's seed differs
  (``gbc__random_state``, as ``Pipeline.get_params`` names it); both runs log the same dataset;
- ``frame``: a pyfunc answering a DataFrame ``label``/``score``; a temperature rescales every
  score and no label;
- ``dict``: a pyfunc answering ``{"kind": labels, "size": values}``; a threshold moves some
  labels, no value;
- ``regression``: a linear regression whose runs record their data only through MLflow's dataset
  API (``mlflow.log_input(mlflow.data.from_pandas(…, digest=…))``) with different digests: one
  training row differs, so every prediction moves a little;
- ``missing``: the right version's model files were deleted from the artifact store.
"""

from __future__ import annotations

import os
import shutil
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tests.provenance.world import Case

FEATURES = ["x1", "x2", "color"]
COLORS = ["red", "green", "blue"]
EVAL_ROWS = 500

PYFUNC_FRAME = '''\
"""A team's scorer: a label and a score, the score sharpened by a temperature."""
import mlflow
import numpy as np
import pandas as pd


class Scorer(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.temperature = float(context.model_config["temperature"])

    def predict(self, context, model_input, params=None):
        raw = model_input["x1"].to_numpy() + 0.5 * model_input["x2"].to_numpy()
        score = 1.0 / (1.0 + np.exp(-raw / self.temperature))
        return pd.DataFrame({"label": np.where(raw > 0, "up", "down"), "score": score})


mlflow.models.set_model(Scorer())
'''

PYFUNC_DICT = '''\
"""A team's sizer: a kind and a size, as a dict of columns."""
import mlflow
import numpy as np


class Sizer(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.threshold = float(context.model_config["threshold"])

    def predict(self, context, model_input, params=None):
        size = model_input["x1"].to_numpy() * 2.0 + model_input["x2"].to_numpy()
        return {"kind": np.where(size > self.threshold, "big", "small"), "size": size}


mlflow.models.set_model(Sizer())
'''


@dataclass
class Outputs:
    home: Path
    tracking_uri: str
    eval_csv: Path
    cases: dict[str, Case] = field(default_factory=dict)


def make_rows(seed: int, n: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(-2, 2, size=n),
            "color": rng.choice(COLORS, size=n),
        }
    )
    score = frame.x1 + frame.x2 * 0.5 + (frame.color == "red") * 0.8 + rng.normal(0, 0.6, n)
    frame["label"] = np.select([score < -0.3, score < 0.9], ["low", "mid"], "high")
    frame["target"] = frame.x1 * 3.0 - frame.x2 + rng.normal(0, 0.1, n)
    return frame


def _register(info, model: str) -> str:
    import mlflow

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(mlflow.register_model(info.model_uri, model).version)


def log_proba(outputs: Outputs, seed: int) -> str:
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = make_rows(11, 400)
    pipeline = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("color", OneHotEncoder(handle_unknown="ignore"), ["color"])],
                    remainder="passthrough",
                ),
            ),
            (
                "gbc",
                GradientBoostingClassifier(
                    n_estimators=20, subsample=0.7, max_depth=2, random_state=seed
                ),
            ),
        ]
    ).fit(train[FEATURES], train["label"])
    example = train[FEATURES].head(5)
    with mlflow.start_run(run_name=f"proba-{seed}"):
        params = pipeline.get_params()  # as autolog logs them: gbc__random_state, …
        mlflow.log_params({k: params[k] for k in ("gbc__random_state", "gbc__n_estimators")})
        mlflow.log_input(
            mlflow.data.from_pandas(train, source="s3://team-bucket/train.parquet", name="train"),
            context="training",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.sklearn.log_model(
                pipeline,
                name="model",
                signature=infer_signature(example, pipeline.predict_proba(example)),
                input_example=example,
                pyfunc_predict_fn="predict_proba",
                serialization_format="cloudpickle",
            )
    return _register(info, "out-proba")


def log_code_model(outputs: Outputs, model: str, source: str, config: dict) -> str:
    import mlflow

    path = outputs.home / f"{model}.py"
    path.write_text(textwrap.dedent(source))
    example = make_rows(3, 5)[FEATURES]
    with mlflow.start_run(run_name=f"{model}-{config}"):
        mlflow.log_params({"seed": 7, **config})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(path),
                model_config=config,
                input_example=example,
                pip_requirements=["pandas", "numpy"],
            )
    return _register(info, model)


def log_regression(outputs: Outputs, changed_row: bool) -> str:
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    train = make_rows(21, 300)
    if changed_row:
        train.loc[0, "target"] += 5.0  # one corrected row in the newer extract
    columns = ["x1", "x2"]
    fitted = LinearRegression().fit(train[columns], train["target"])
    example = train[columns].head(5)
    digest = "extract-b" if changed_row else "extract-a"
    with mlflow.start_run(run_name=f"regression-{digest}"):
        mlflow.log_params({"fit_intercept": True, "random_seed": 0})
        mlflow.log_input(
            mlflow.data.from_pandas(
                train, source="s3://team-bucket/extracts/sales.parquet", name="sales",
                digest=digest,
            ),
            context="training",
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.sklearn.log_model(
                fitted,
                name="model",
                signature=infer_signature(example, fitted.predict(example)),
                input_example=example,
            )
    return _register(info, "out-regression")


def delete_model_files(server_workdir: Path, tracking_uri: str, model: str, version: str) -> None:
    """Remove the version's files from the server's artifact store, as a lost bucket would."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    mv = client.get_model_version(model, version)
    run = client.get_run(mv.run_id)
    experiment = run.info.experiment_id
    roots = [p for p in server_workdir.rglob(experiment) if p.is_dir()]
    removed = False
    for root in roots:
        for models_dir in root.rglob("models"):
            for entry in models_dir.iterdir():
                if mv.source and entry.name in mv.source:
                    shutil.rmtree(entry)
                    removed = True
    if not removed:
        raise AssertionError(f"model files of {model} v{version} not found under {server_workdir}")


def build_outputs(home: Path, tracking_uri: str, server_workdir: Path) -> Outputs:
    import mlflow

    os.environ["MLFLOW_LOG_UV_FILES"] = "false"
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("other-teams-outputs")
    eval_csv = home / "rows.csv"
    make_rows(5, EVAL_ROWS)[FEATURES].to_csv(eval_csv, index=False)
    out = Outputs(home, tracking_uri, eval_csv)
    out.cases["proba"] = Case("out-proba", log_proba(out, 1), log_proba(out, 2))
    frame = [log_code_model(out, "out-frame", PYFUNC_FRAME, {"temperature": t}) for t in (1, 3)]
    out.cases["frame"] = Case("out-frame", *frame)
    sizes = [log_code_model(out, "out-dict", PYFUNC_DICT, {"threshold": t}) for t in (0.0, 1.0)]
    out.cases["dict"] = Case("out-dict", *sizes)
    out.cases["regression"] = Case(
        "out-regression", log_regression(out, False), log_regression(out, True)
    )
    kept, lost = log_regression(out, False), log_regression(out, False)
    # the same model registered again under its own name, then its files lost
    out.cases["missing"] = Case("out-regression", kept, lost)
    delete_model_files(server_workdir, tracking_uri, "out-regression", lost)
    return out

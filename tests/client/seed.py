"""Seed a real MLflow server through MLflow's own Python client; run as a subprocess.

``python -m tests.client.seed URL PREFIX KIND`` prints one JSON document of the ids it made.
KIND ``full`` logs a scikit-learn model with an input example (so the model files exist);
``registry`` makes only registered models and versions (fast, for write and backend tests).
Kept out of the pytest process so ``import mlflow`` (4 s, 200 MB) is paid only here.
"""

from __future__ import annotations

import json
import sys
import time


def seed_registry(client, prefix: str, run_id: str, model_id: str) -> dict:
    name = f"{prefix}-model"
    client.create_registered_model(name, tags={"team": "risk"}, description="seeded model")
    versions = [
        client.create_model_version(
            name, source=f"models:/{model_id}", run_id=run_id, model_id=model_id
        ).version
        for _ in range(3)
    ]
    client.set_registered_model_alias(name, "champion", versions[0])
    client.set_registered_model_alias(name, "challenger", versions[2])
    client.set_model_version_tag(name, versions[1], "validated", "yes")
    for suffix in ("b", "c"):
        client.create_registered_model(f"{prefix}-model-{suffix}")
    return {"model": name, "versions": versions}


def main(url: str, prefix: str, kind: str) -> dict:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    mlflow.set_tracking_uri(url)
    client = MlflowClient(url)
    exp_ids = [client.create_experiment(f"{prefix}-exp-{s}") for s in ("a", "b", "c")]
    now = int(time.time() * 1000)
    run_ids = []
    for i in range(5):
        run = client.create_run(
            exp_ids[0], run_name="\x1b[31mred\x1b[0m" if i == 4 else f"run-{i}", start_time=now + i
        )
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("rmse", 1.0 - i / 10, now, 0), Metric("mae", 0.5, now, 0)],
            params=[Param("alpha", str(i)), Param("data.iceberg.snapshot_id", str(1000 + i))],
            tags=[RunTag("mlflow.source.git.commit", f"{i:040x}")],
        )
        if i == 0:
            for step in (1, 2, 3, 4):
                client.log_metric(run.info.run_id, "rmse", 1.0 - step / 10, now, step)
            dataset = Dataset(
                name="lake.ns.events", digest="1000", source_type="iceberg", source="{}"
            )
            client.log_inputs(
                run.info.run_id,
                [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])],
            )
        client.set_terminated(run.info.run_id, end_time=now + 1000 + i)
        run_ids.append(run.info.run_id)
    logged = [
        client.create_logged_model(exp_ids[0], name=f"lm-{i}", source_run_id=run_ids[0]).model_id
        for i in range(3)
    ]
    out: dict = {"experiments": exp_ids, "runs": run_ids, "logged_models": logged}
    if kind == "full":
        import pandas as pd
        from sklearn.linear_model import LinearRegression

        frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
        with mlflow.start_run(experiment_id=exp_ids[1]) as run:
            info = mlflow.sklearn.log_model(
                LinearRegression().fit(frame, [1.0, 2.0, 3.0]),
                name="model",
                input_example=frame.head(2),
            )
        out["model_run"] = run.info.run_id
        out["logged_models"].append(info.model_id)
        out.update(seed_registry(client, prefix, run.info.run_id, info.model_id))
    else:
        out.update(seed_registry(client, prefix, run_ids[0], logged[0]))
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))

"""A deterministic stand-in for the MLflow REST client, for layout snapshots only.

Snapshots must not change from run to run, so they are fed fixed ``console.model`` objects (the
same types the real client returns) with fixed timestamps. Behaviour tests use a real server.
"""

from __future__ import annotations

from console.model import (
    Experiment,
    LoggedModel,
    Metric,
    MetricHistory,
    MLmodelFile,
    ModelFiles,
    ModelVersion,
    Page,
    PythonEnv,
    RegisteredModel,
    Requirements,
    Run,
)

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z, the snapshot clock
T0 = int(NOW * 1000) - 3 * 86_400_000

HOSTILE = "[bold]x[/] [@click=app.quit]boom[/] \x1b[31mred\x1b]0;title\x07 \u202eevil\u200b"


def _run(i: int, experiment_id: str = "1") -> Run:
    return Run.model_validate(
        {
            "info": {
                "run_id": f"{i:032x}",
                "run_name": HOSTILE if i == 3 else f"run-{i:03d}",
                "experiment_id": experiment_id,
                "status": "FINISHED",
                "start_time": T0 + i * 60_000,
                "end_time": T0 + i * 60_000 + 42_000,
                "user_id": "ops",
                "artifact_uri": f"mlflow-artifacts:/1/{i:032x}/artifacts",
            },
            "params": {"seed": str(i % 3), "max_depth": "8", "note": HOSTILE if i == 3 else "ok"},
            "metrics": {
                "rmse": {"key": "rmse", "value": 1.0 + i / 100, "step": 9},
                "mae": {"key": "mae", "value": 0.5, "step": 9},
            },
            "tags": {"mlflow.user": "ops", "hostile": HOSTILE, "long": "x" * 10_000},
            "inputs": [
                {
                    "dataset": {
                        "name": "lake.git.commits",
                        "digest": "1000",
                        "source_type": "iceberg",
                    },
                    "tags": {"mlflow.data.context": "training"},
                }
            ],
            "outputs": [{"model_id": "m-0001", "step": 0}],
        }
    )


RUNS = [_run(i) for i in range(1, 31)]
EXPERIMENTS = [
    Experiment(experiment_id="1", name="next-week-commits", creation_time=T0),
    Experiment(experiment_id="2", name=HOSTILE, creation_time=T0),
]
VERSIONS = [
    ModelVersion(
        name="next-week-commits",
        version=str(v),
        creation_timestamp=T0 + v * 3_600_000,
        current_stage="Production" if v == 2 else "None",
        status="READY",
        run_id=f"{v:032x}",
        source="models:/m-0001",
        description=HOSTILE if v == 2 else None,
        tags={"hostile": HOSTILE},
        aliases=["champion"] if v == 2 else (["challenger"] if v == 3 else []),
    )
    for v in (3, 2, 1)
]
MODELS = [
    RegisteredModel(
        name="next-week-commits",
        last_updated_timestamp=T0,
        latest_versions=[VERSIONS[0]],
        aliases={"champion": "2", "challenger": "3"},
    ),
    RegisteredModel(name=HOSTILE, last_updated_timestamp=T0),
]


class FakeClient:
    """Answers the calls the console makes with the fixed objects above."""

    def __init__(self, uri: str = "http://mlflow.test") -> None:
        self.tracking_uri = uri
        self.server = uri  # the registry history files what the pane reads under it

    async def aclose(self) -> None:
        return None

    async def search_experiments_page(self, **_: object) -> Page[Experiment]:
        return Page(items=EXPERIMENTS)

    async def search_runs_page(self, experiment_ids, *, page_size=100, page_token=None, **_):
        if experiment_ids != ["1"]:
            return Page(items=[])
        start = int(page_token or 0)
        items = RUNS[start : start + page_size]
        more = start + page_size < len(RUNS)
        return Page(items=items, next_page_token=str(start + page_size) if more else None)

    async def get_run(self, run_id: str) -> Run:
        return next(r for r in RUNS if r.run_id == run_id)

    async def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        points = [Metric(key=key, value=1.0 / (s + 1), step=s) for s in range(10)]
        return MetricHistory(run_id=run_id, key=key, points=points)

    async def get_logged_model(self, model_id: str) -> LoggedModel:
        return LoggedModel(model_id=model_id, name="model", model_type="sklearn", status="READY")

    async def search_registered_models_page(self, **_: object) -> Page[RegisteredModel]:
        return Page(items=MODELS)

    async def search_model_versions_page(self, *, name=None, **_):
        return Page(items=VERSIONS if name == "next-week-commits" else [])

    async def get_model_version(self, name: str, version: str) -> ModelVersion:
        found = next(v for v in VERSIONS if v.version == str(version))
        return found.model_copy(update={"aliases": []})

    async def get_registered_model(self, name: str) -> RegisteredModel:
        return next(m for m in MODELS if m.name == name)

    async def get_model_files(self, name: str, version: str) -> ModelFiles:
        return ModelFiles(
            name=name,
            version=str(version),
            mlmodel=MLmodelFile.model_validate(
                {
                    "flavors": {"python_function": {"python_version": "3.11.9"}, "sklearn": {}},
                    "mlflow_version": "3.17.2",
                    "signature": {
                        "inputs": [{"name": "commits_last_week", "type": "long"}],
                        "outputs": [{"type": "double"}],
                    },
                }
            ),
            requirements=Requirements(lines=["mlflow==3.17.2", "scikit-learn==1.7.2"]),
            python_env=PythonEnv(python="3.11.9", dependencies=["-r requirements.txt"]),
        )

    async def find_experiment(self, name: str) -> Experiment:
        return next(e for e in EXPERIMENTS if name in (e.name, e.experiment_id))

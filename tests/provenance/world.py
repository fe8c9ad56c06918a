"""The test world of the provenance tests: an Iceberg table in two snapshots, a git repository
with two commits, and pairs of tiny scikit-learn model versions that differ in one way each.

Built with MLflow's own client against a real server, pyiceberg's SqlCatalog and real git.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

TABLE = "lake.ml.points"
TRUSTED = ["sklearn.tree._tree.Tree"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Trainer",
    "GIT_AUTHOR_EMAIL": "trainer@test.invalid",
    "GIT_COMMITTER_NAME": "Test Trainer",
    "GIT_COMMITTER_EMAIL": "trainer@test.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Case:
    model: str
    left: str
    right: str


@dataclass
class World:
    home: Path
    tracking_uri: str
    snapshots: list[str]
    commits: list[str]
    repo: Path
    cases: dict[str, Case] = field(default_factory=dict)


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return out.stdout.strip()


def make_repo(path: Path) -> list[str]:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    shas = []
    for i, text in enumerate(
        ("def train():\n    return 1\n", "def train():\n    return 2\n# v2\n")
    ):
        (path / "train.py").write_text(text)
        _git(path, "add", "train.py")
        _git(path, "commit", "-q", "-m", f"training code step {i + 1}")
        shas.append(_git(path, "rev-parse", "HEAD"))
    return shas


def make_table(home: Path):
    """lake.ml.points: 60 rows, then an overwrite that changes 10 labels (two snapshots)."""
    import numpy as np
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.expressions import LessThan

    (home / "iceberg" / "warehouse").mkdir(parents=True)
    catalog = SqlCatalog(
        "lake",
        uri=f"sqlite:///{home / 'iceberg' / 'catalog.db'}",
        warehouse=(home / "iceberg" / "warehouse").as_uri(),
    )
    catalog.create_namespace("ml")
    rng = np.random.default_rng(3)
    x1 = rng.normal(size=60)
    x2 = rng.normal(size=60)
    y = (x1 + x2 > 0).astype("int64")
    schema = pa.schema([("id", pa.int64()), ("x1", pa.float64()), ("x2", pa.float64()),
                        ("y", pa.int64())])  # fmt: skip
    first = pa.table({"id": np.arange(60), "x1": x1, "x2": x2, "y": y}, schema=schema)
    table = catalog.create_table(("ml", "points"), schema=schema)
    table.append(first)
    a = str(table.current_snapshot().snapshot_id)
    flipped = first.slice(0, 10).set_column(3, "y", pa.array(1 - y[:10]))
    table.overwrite(flipped, overwrite_filter=LessThan("id", 10))
    b = str(table.current_snapshot().snapshot_id)
    return catalog, [a, b]


def read_rows(catalog, snapshot: str):
    table = catalog.load_table(("ml", "points"))
    return table.scan(snapshot_id=int(snapshot)).to_pandas().sort_values("id")


def log_version(
    world: World,
    catalog,
    model: str,
    *,
    snapshot: str | None,
    commit: str | None,
    seed: int | None = 1,
    requirements: list[str] | None = None,
    int_inputs: bool = False,
) -> str:
    """Train a tiny decision tree on the snapshot and register it; return the version."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.tree import DecisionTreeClassifier

    rows = read_rows(catalog, snapshot or world.snapshots[0])
    features = rows[["x1", "x2"]]
    tree = DecisionTreeClassifier(max_depth=4, max_features=1, random_state=seed or 0)
    tree.fit(features, rows["y"])
    example = features.head(6).reset_index(drop=True)
    if int_inputs:
        example = (example * 10).round().astype("int64")
    tags = {}
    if commit is not None:
        tags = {
            "mlflow.source.git.commit": commit,
            "mlflow.source.git.repoURL": world.repo.as_uri(),
            "mlflow.source.git.branch": "main",
        }
    mlflow.set_experiment("provenance-tests")
    with mlflow.start_run(run_name=f"{model}-{snapshot}-{seed}", tags=tags) as run:
        params = {"max_depth": 4}
        if seed is not None:
            params["seed"] = seed
        if snapshot is not None:
            params["data.iceberg.table"] = TABLE
            params["data.iceberg.snapshot_id"] = snapshot
            dataset = mlflow.data.from_pandas(rows, name=TABLE, digest=snapshot)
            mlflow.log_input(dataset, context="training")
        mlflow.log_params(params)
        mlflow.log_metric("train_accuracy", float((tree.predict(features) == rows["y"]).mean()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            info = mlflow.sklearn.log_model(
                tree,
                name="model",
                signature=infer_signature(example, tree.predict(features.head(6))),
                input_example=example,
                pip_requirements=requirements or ["scikit-learn==1.9.1", "numpy==2.4.6"],
                skops_trusted_types=TRUSTED,
            )
        run_id = run.info.run_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        version = mlflow.register_model(info.model_uri, model)
    assert version.run_id == run_id
    return str(version.version)


def build_world(home: Path, tracking_uri: str) -> World:
    import mlflow

    os.environ["MLFLOW_LOG_UV_FILES"] = "false"
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    mlflow.set_tracking_uri(tracking_uri)
    repo = home / "git" / "training-code"
    commits = make_repo(repo)
    catalog, snapshots = make_table(home)
    world = World(home, tracking_uri, snapshots, commits, repo)
    a, b = snapshots
    c1, c2 = commits
    pairs = {
        "snapshot": ({"snapshot": a, "commit": c2}, {"snapshot": b, "commit": c2}),
        "commit": ({"snapshot": b, "commit": c1}, {"snapshot": b, "commit": c2}),
        "seed": (
            {"snapshot": b, "commit": c2, "seed": 1},
            {"snapshot": b, "commit": c2, "seed": 2},
        ),
        "library": (
            {"snapshot": b, "commit": c2},
            {"snapshot": b, "commit": c2, "requirements": ["scikit-learn==1.5.2", "numpy==2.4.6"]},
        ),
        "schema": (
            {"snapshot": b, "commit": c2},
            {"snapshot": b, "commit": c2, "int_inputs": True},
        ),
        "identical": ({"snapshot": b, "commit": c2}, {"snapshot": b, "commit": c2}),
        "missing": (
            {"snapshot": None, "commit": None, "seed": None},
            {"snapshot": b, "commit": c2},
        ),
    }
    for name, (left, right) in pairs.items():
        model = f"prov-{name}"
        v1 = log_version(world, catalog, model, **left)
        v2 = log_version(world, catalog, model, **right)
        world.cases[name] = Case(model, v1, v2)
    return world

"""Fixtures for the promotion tests: tiny registered models made over REST, and flow contexts.

Models are created with plain REST calls (no ``import mlflow``): a run with metrics, a registered
model and its versions; each test uses its own model name on the session's shared server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from commands.gates import GateRule, GatesConfig, TargetRules
from commands.promote import PromoteContext
from console.audit import AuditLog
from console.mlflow.client import MlflowRestClient, RetryPolicy
from console.settings import Settings

API = "/api/2.0/mlflow/"
FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
NO_GATES = GatesConfig(
    default=GateRule(require=[]),
    alias={"champion": GateRule(require=[])},
    stage={"Production": GateRule(require=[])},
)


class Seeder:
    """Makes runs, models and versions on a real server over REST."""

    def __init__(self, url: str, auth: tuple[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=url, auth=auth, timeout=30)
        self._experiment: str | None = None

    def post(self, path: str, body: dict) -> dict:
        response = self.http.post(API + path, json=body)
        response.raise_for_status()
        return response.json() if response.content else {}

    def experiment(self) -> str:
        if self._experiment is None:
            name = f"promote-{uuid.uuid4().hex[:8]}"
            self._experiment = self.post("experiments/create", {"name": name})["experiment_id"]
        return self._experiment

    def run(
        self, metrics: dict[str, float] | None = None, tags: dict[str, str] | None = None
    ) -> str:
        run_id = self.post("runs/create", {"experiment_id": self.experiment()})["run"]["info"][
            "run_id"
        ]
        self.post(
            "runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [
                    {"key": k, "value": v, "timestamp": 0, "step": 0}
                    for k, v in (metrics or {}).items()
                ],
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
            },
        )
        return run_id

    def model(self, versions: list[dict[str, float]], prefix: str = "pm") -> str:
        """A model with one version per metrics dict (v1, v2, ...)."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.post("registered-models/create", {"name": name})
        for metrics in versions:
            run_id = self.run(metrics)
            self.post(
                "model-versions/create",
                {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id},
            )
        return name

    def alias(self, name: str, alias: str, version: str) -> None:
        self.post("registered-models/alias", {"name": name, "alias": alias, "version": version})

    def stage(self, name: str, version: str, stage: str) -> None:
        self.post(
            "model-versions/transition-stage",
            {"name": name, "version": version, "stage": stage, "archive_existing_versions": False},
        )

    def aliases(self, name: str) -> dict[str, str]:
        doc = self.http.get(API + "registered-models/get", params={"name": name}).json()
        return {a["alias"]: a["version"] for a in doc["registered_model"].get("aliases", [])}

    def version(self, name: str, version: str) -> dict[str, Any]:
        doc = self.http.get(
            API + "model-versions/get", params={"name": name, "version": version}
        ).json()["model_version"]
        doc["tags"] = {t["key"]: t["value"] for t in doc.get("tags", [])}
        return doc


@pytest.fixture(scope="session")
def seeder(mlflow_server) -> Seeder:
    return Seeder(mlflow_server.url)


@dataclass
class Flow:
    """A context factory bound to one server and one console home."""

    url: str
    home: Path

    def settings(self, **kwargs: Any) -> Settings:
        # a local server answers in milliseconds: a short settle time keeps these tests quick
        kwargs.setdefault("promotion_settle_seconds", 0.2)
        return Settings(home=self.home, tracking_uri=self.url, **kwargs)

    def context(
        self,
        client: MlflowRestClient,
        gates: GatesConfig | None = NO_GATES,
        *,
        settings: Settings | None = None,
    ) -> PromoteContext:
        settings = settings or self.settings()
        ctx = PromoteContext.from_settings(settings, client, self.url, gates=gates)
        return ctx

    def client(self, **kwargs: Any) -> MlflowRestClient:
        kwargs.setdefault("retry", FAST_RETRY)
        return MlflowRestClient(self.url, **kwargs)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.home / "audit")


@pytest.fixture
def flow(mlflow_server, tmp_path: Path) -> Flow:
    return Flow(mlflow_server.url, tmp_path / "home")


def only(**gates: list[str]) -> GatesConfig:
    """A gates config requiring ``gates['require']`` on every target (for focused tests)."""
    rule = GateRule(**gates)
    return GatesConfig(
        default=rule,
        alias={"champion": rule},
        stage={"Production": rule},
        models={},
    )


__all__ = ["NO_GATES", "Flow", "Seeder", "TargetRules", "only"]

"""Domain types of deployments: a profile's production endpoint, an embedded deployment's record,
the status row ``deployments`` shows, and the result of a rollout or rollback.

Pydantic only, so settings, commands, the CLI and the TUI's deployments view share them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Protocol = Literal["mlops", "mlflow", "v2"]
DeploymentKind = Literal["embedded", "production"]
DeploymentState = Literal[
    "starting", "running", "restarting", "failed", "stale", "orphaned", "unreachable", "stopped"
]
RolloutOutcome = Literal["succeeded", "noop", "cancelled", "refused", "failed"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def check_deployment_name(name: str) -> str:
    """A name usable as a file name and a URL label: letters, digits, ``_.-``, up to 63."""
    if not _NAME.fullmatch(name):  # (match would take a trailing newline)
        raise ValueError(
            f"deployment name {name[:80]!r} must start with a letter or digit and hold only "
            "letters, digits, '_', '.' and '-' (at most 63)"
        )
    return name


class ProductionEndpoint(BaseModel):
    """One entry of a profile's ``[profiles.P.deployments]`` table (name → this).

    ``protocol``: ``mlops`` (this console's predict service), ``mlflow`` (``mlflow models serve``
    / MLflow's scoring server: ``/ping`` only, no version, no metrics) or ``v2`` (the KServe /
    MLServer V2 inference protocol: ``/v2/health/ready`` and ``/v2/models/<served_name>``).
    ``version`` declares what is served where the protocol cannot say.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    protocol: Protocol = "mlops"
    model: str = Field(min_length=1)
    alias: str = "champion"
    version: str | None = None
    served_name: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value


class DeploymentRecord(BaseModel):
    """``<home>/deployments/<name>.json``: one embedded deployment, kept by its supervisor."""

    name: str
    url: str
    model: str
    version: str
    alias: str
    pid: int = 0
    port: int
    started: datetime
    supervisor_pid: int = 0
    tracking_uri: str
    embedded_tracking: bool = False
    home: str
    previous_version: str | None = None
    restarts: int = 0
    state: Literal["starting", "running", "restarting", "failed"] = "starting"
    detail: str | None = None


class DeploymentInfo(BaseModel):
    """What ``deploy --json`` prints."""

    name: str
    url: str
    model: str
    version: str
    alias: str


class DeploymentStatus(BaseModel):
    """One row of ``deployments`` (and of the TUI's deployments view)."""

    name: str
    kind: DeploymentKind
    url: str
    protocol: Protocol
    model: str
    alias: str
    served_version: str | None = None
    alias_version: str | None = None
    # None when either side is unknown
    in_sync: bool | None = None
    healthy: bool = False
    state: DeploymentState
    requests: int | None = None
    errors: int | None = None
    error_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    pid: int | None = None
    restarts: int | None = None
    detail: str = ""


class RolloutResult(BaseModel):
    """How a rollout (or a rollback) ended; the versions are what ``/version`` said."""

    name: str
    action: Literal["rollout", "rollback"]
    outcome: RolloutOutcome
    message: str
    model: str
    alias: str
    served_before: str | None = None
    served_after: str | None = None
    alias_version: str | None = None
    audit_id: str | None = None
    promotion: dict | None = None

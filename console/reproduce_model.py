"""Domain types of ``reproduce``: retrain a version from its record and compare (pydantic only).

``TrainSpec`` is what the training process gets; ``ReproduceResult`` is the ``reproduce --json``
document: ``verdict`` is MATCH (identical predictions on the rows), MISMATCH, or INCOMPLETE (the
record lacks something retraining needs: ``missing`` says exactly what).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from console.diagnosis_model import PredictionComparison

EntryKind = Literal["demo", "mlproject", "command"]
Verdict = Literal["MATCH", "MISMATCH", "INCOMPLETE"]
REPRODUCE_TAG = "mlops-console.reproduce"


class TrainSpec(BaseModel):
    """Everything the training process needs, from the record (and the profile's command)."""

    tracking_uri: str
    model: str
    version: str
    source_run_id: str
    experiment_id: str
    entry: EntryKind
    command: str | None = None
    clone: str
    commit: str
    table: str | None = None
    snapshot_id: str | None = None
    catalog: str = "lake"
    catalog_db: str | None = None
    warehouse: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    requirements: list[str] = Field(default_factory=list)
    python: str | None = None


class ReproduceResult(BaseModel):
    model: str
    version: str
    verdict: Verdict
    missing: list[str] = Field(default_factory=list)
    entry_point: str | None = None
    commit: str | None = None
    table: str | None = None
    snapshot_id: str | None = None
    run_id: str | None = None
    model_uri: str | None = None
    predictions: PredictionComparison | None = None
    # library and Python versions of the record vs those of the retraining
    environment: list[str] = Field(default_factory=list)
    # what the record does not pin, and so could not be held equal
    cannot_pin: list[str] = Field(default_factory=list)
    seconds: float | None = None

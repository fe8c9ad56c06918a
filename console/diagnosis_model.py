"""Domain types of a diagnosis: why two model versions differ (the ``diagnose --json`` document).

Pydantic only, so widgets may render them. The JSON keys are exactly DESIGN.md's: ``model``,
``left``, ``right``, ``metrics``, ``differences``, ``predictions``, ``causes``, ``gaps``; the two
full provenance records ride along for the TUI but are excluded from the document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from console.provenance_model import CommitRange, ProvenanceRecord, SnapshotChange

DifferenceKind = Literal["data", "code", "params", "environment", "signature", "artifact"]
CauseKind = Literal[
    "data",
    "code",
    "seed",
    "params",
    "environment",
    "signature",
    "artifact",
    "unrecorded",
    "incomplete",
]
DIFFERENCE_KINDS: tuple[str, ...] = (
    "data",
    "code",
    "params",
    "environment",
    "signature",
    "artifact",
)


class Difference(BaseModel):
    kind: DifferenceKind
    key: str
    left: str | None
    right: str | None


class MetricsComparison(BaseModel):
    """``equal`` only when both runs logged the same metric keys with exactly equal values."""

    equal: bool
    left: dict[str, float | None] = Field(default_factory=dict)
    right: dict[str, float | None] = Field(default_factory=dict)
    differing: list[str] = Field(default_factory=list)


class PredictionExample(BaseModel):
    row: int
    left: str
    right: str
    features: dict[str, Any] = Field(default_factory=dict)


class PredictionComparison(BaseModel):
    rows: int
    disagreements: int
    rate: float
    source: str = ""
    examples: list[PredictionExample] = Field(default_factory=list)
    seconds: float | None = None


class Cause(BaseModel):
    rank: int
    kind: CauseKind
    summary: str
    keys: list[str] = Field(default_factory=list)


class SideGap(BaseModel):
    side: Literal["left", "right"]
    area: str
    message: str


class SideSummary(BaseModel):
    version: str
    run_id: str | None = None
    run_name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    table: str | None = None
    snapshot_id: str | None = None
    commit: str | None = None
    created: int | None = None


class Diagnosis(BaseModel):
    model: str
    left: SideSummary
    right: SideSummary
    metrics: MetricsComparison
    differences: list[Difference] = Field(default_factory=list)
    predictions: PredictionComparison | None = None
    causes: list[Cause] = Field(default_factory=list)
    gaps: list[SideGap] = Field(default_factory=list)
    # context for screens and human output; not part of the JSON document
    left_record: ProvenanceRecord | None = Field(default=None, exclude=True)
    right_record: ProvenanceRecord | None = Field(default=None, exclude=True)
    snapshot_change: SnapshotChange | None = Field(default=None, exclude=True)
    commit_range: CommitRange | None = Field(default=None, exclude=True)
    probe_error: str | None = Field(default=None, exclude=True)
    # every compared key, equal or not (the compare screen's "show all")
    side_by_side: list[Difference] = Field(default_factory=list, exclude=True)

    def differences_of(self, kind: str) -> list[Difference]:
        return [d for d in self.differences if d.kind == kind]

"""Domain types of a diagnosis: why two model versions differ (the ``diagnose --json`` document).

Pydantic only, so widgets may render them. The JSON keys are exactly DESIGN.md's: ``model``,
``left``, ``right``, ``metrics``, ``differences``, ``predictions``, ``causes``, ``gaps``; the two
full provenance records ride along for the TUI but are excluded from the document.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from console.provenance.model import CommitRange, ProvenanceRecord, SnapshotChange

DifferenceKind = Literal["data", "code", "params", "environment", "signature", "artifact"]
# the difference kinds, plus ``outside`` (nothing recorded differs, predictions do) and
# ``incomplete`` (provenance is missing on a side); a seed is a ``params`` cause naming its key
CauseKind = Literal[
    "data",
    "code",
    "params",
    "environment",
    "signature",
    "artifact",
    "outside",
    "incomplete",
]
CAUSE_KINDS: tuple[str, ...] = (
    "data",
    "code",
    "params",
    "environment",
    "signature",
    "artifact",
    "outside",
    "incomplete",
)
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
    """A disagreeing row: its identifying columns (``key``), both answers (of the outputs that
    differ on it, ``name=value``, when the model returns several), those outputs, its inputs."""

    row: int
    key: dict[str, Any] = Field(default_factory=dict)
    left: str
    right: str
    outputs: list[str] = Field(default_factory=list)
    features: dict[str, Any] = Field(default_factory=dict)


class OutputColumn(BaseModel):
    """One output of the models compared over every row: a ``label`` (exactly), a ``numeric``
    value (within the tolerance; with the largest and mean absolute difference), or returned by
    one model only (``only left`` / ``only right``)."""

    name: str
    kind: Literal["label", "numeric", "only left", "only right"]
    rows_differing: int
    share: float
    max_abs_diff: float | None = None
    mean_abs_diff: float | None = None

    HEADERS: ClassVar[tuple[str, ...]] = ("output", "kind", "rows differing", "largest", "mean")

    def cells(self) -> list[str]:
        """The row of the per-output table (``HEADERS``); differences only for numbers."""

        def number(value: float | None) -> str:
            return "" if value is None else f"{value:.4g}"

        return [
            self.name,
            self.kind,
            f"{self.rows_differing:,} ({self.share:.1%})",
            number(self.max_abs_diff),
            number(self.mean_abs_diff),
        ]


class ConfusionCell(BaseModel):
    """How many rows the left version put in ``left`` and the right one in ``right``."""

    left: str
    right: str
    rows: int


class RowSource(BaseModel):
    """One source of the scored rows: where from, how many, how many of them disagree."""

    origin: str
    rows: int
    disagreements: int
    synthetic: bool = False


class PredictionComparison(BaseModel):
    """The probe's result. ``disagreements`` counts rows (any output differing), never cells;
    ``verdict`` says what the numbers show, and never calls a handful of agreeing rows
    agreement ("too few to tell"). ``confusion`` is over the label outputs."""

    rows: int
    disagreements: int
    rate: float
    source: str = ""
    synthetic: bool = False
    sources: list[RowSource] = Field(default_factory=list)
    # what the models return, output by output; a row disagrees when any output does
    outputs: list[OutputColumn] = Field(default_factory=list)
    tolerance: float | None = None
    confusion: list[ConfusionCell] = Field(default_factory=list)
    examples: list[PredictionExample] = Field(default_factory=list)
    verdict: str = ""
    conclusive: bool = True
    seconds: float | None = None

    @property
    def agree(self) -> bool:
        """Agreement shown: no disagreement on enough rows."""
        return self.disagreements == 0 and self.conclusive

    @property
    def measured(self) -> list[OutputColumn]:
        """The outputs worth a line: numeric ones, and any label output when there are several."""
        several = len(self.outputs) > 1
        return [c for c in self.outputs if c.kind != "label" or several]


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

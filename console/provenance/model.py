"""Domain types of a model version's provenance: MLflow, Iceberg, git and lineage facts, and gaps.

Pydantic only (no clients), so widgets may render them. ``console.provenance.collect`` assembles a
``ProvenanceRecord``; ``console.iceberg`` and ``console.gitinfo`` produce the snapshot and commit
facts. Snapshot ids stay strings (Iceberg's are signed 64-bit).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from console.model import DatasetInput, MLmodelFile, PythonEnv

GapArea = Literal[
    "version", "run", "data", "code", "params", "environment", "signature", "artifact", "lineage"
]


class Gap(BaseModel):
    """Something the record should hold and does not, and why (so absence is never silent)."""

    model_config = ConfigDict(frozen=True)

    area: GapArea
    message: str


# --- Iceberg -----------------------------------------------------------------------------------


class SnapshotFacts(BaseModel):
    """One Iceberg snapshot as its table metadata records it."""

    table: str
    snapshot_id: str
    parent_id: str | None = None
    sequence_number: int | None = None
    timestamp_ms: int | None = None
    operation: str | None = None
    added_records: int | None = None
    deleted_records: int | None = None
    total_records: int | None = None
    added_files: int | None = None
    deleted_files: int | None = None
    schema_id: int | None = None
    # refs (tags and branches) pointing at this snapshot, e.g. mlflow-<run_id>
    refs: list[str] = Field(default_factory=list)
    summary: dict[str, str] = Field(default_factory=dict)
    is_current: bool = False


class SnapshotChange(BaseModel):
    """What changed between two snapshots of one table: the commits in between and their sum.

    ``chain`` runs from the older snapshot (exclusive) to the newer one (inclusive) when one is an
    ancestor of the other; ``related`` is False when neither is (different branches, expiry).
    """

    table: str
    older: str
    newer: str
    related: bool
    chain: list[SnapshotFacts] = Field(default_factory=list)
    added_records: int | None = None
    deleted_records: int | None = None
    total_before: int | None = None
    total_after: int | None = None
    # set when rows were compared (the probe reads both snapshots): rows only on one side
    rows_only_older: int | None = None
    rows_only_newer: int | None = None
    # which rows: the columns whose values changed, the changed rows by their key columns
    changed_columns: list[str] = Field(default_factory=list)
    changed_rows: list[str] = Field(default_factory=list)
    changed_rows_more: int = 0

    @property
    def operations(self) -> list[str]:
        return [s.operation or "?" for s in self.chain]


# --- git ---------------------------------------------------------------------------------------


class CommitFacts(BaseModel):
    sha: str
    author: str | None = None
    email: str | None = None
    date: str | None = None
    subject: str | None = None
    body: str | None = None
    parents: list[str] = Field(default_factory=list)


class FileStat(BaseModel):
    path: str
    insertions: int | None = None  # None for binary files
    deletions: int | None = None


class CommitRange(BaseModel):
    """Between two commits of one repository: the log and the diffstat."""

    older: str
    newer: str
    related: bool
    commits: list[CommitFacts] = Field(default_factory=list)
    files: list[FileStat] = Field(default_factory=list)

    @property
    def insertions(self) -> int:
        return sum(f.insertions or 0 for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions or 0 for f in self.files)


# --- the record --------------------------------------------------------------------------------


class RunFacts(BaseModel):
    run_id: str
    name: str | None = None
    experiment_id: str | None = None
    status: str | None = None
    user: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    datasets: list[DatasetInput] = Field(default_factory=list)


class DataProvenance(BaseModel):
    table: str | None = None
    snapshot_id: str | None = None
    # what the dataset input says (its digest is the snapshot id by the contract)
    dataset_digest: str | None = None
    snapshot: SnapshotFacts | None = None
    catalog: str | None = None


class CodeProvenance(BaseModel):
    commit: str | None = None
    repo_url: str | None = None
    branch: str | None = None
    source_name: str | None = None
    clone: str | None = None
    details: CommitFacts | None = None


class EnvironmentProvenance(BaseModel):
    mlmodel: MLmodelFile | None = None
    requirements: list[str] = Field(default_factory=list)
    python_env: PythonEnv | None = None
    has_input_example: bool = False
    input_example: Any = None
    missing_files: list[str] = Field(default_factory=list)

    @property
    def pins(self) -> dict[str, str]:
        pinned: dict[str, str] = {}
        for line in self.requirements:
            spec = line.split(";", 1)[0].strip()
            if "==" in spec:
                name, version = spec.split("==", 1)
                pinned[name.strip().lower().replace("_", "-")] = version.strip()
        return pinned


class LineageSummary(BaseModel):
    backend: str | None = None
    location: str | None = None
    nodes: int = 0
    edges: int = 0
    runs: list[str] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    # snapshot pinned on the data edge, per dataset
    pinned_snapshots: dict[str, str] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)


class VersionFacts(BaseModel):
    name: str
    version: str
    run_id: str | None = None
    source: str | None = None
    status: str | None = None
    stage: str | None = None
    aliases: list[str] = Field(default_factory=list)
    created: int | None = None
    logged_model_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class ProvenanceRecord(BaseModel):
    """Where one model version came from; ``gaps`` lists what could not be established."""

    model: str
    version: str
    version_info: VersionFacts | None = None
    run: RunFacts | None = None
    data: DataProvenance = Field(default_factory=DataProvenance)
    code: CodeProvenance = Field(default_factory=CodeProvenance)
    environment: EnvironmentProvenance = Field(default_factory=EnvironmentProvenance)
    lineage: LineageSummary | None = None
    gaps: list[Gap] = Field(default_factory=list)
    seconds: float | None = None

    @property
    def complete(self) -> bool:
        return not self.gaps

    def gaps_in(self, *areas: str) -> list[Gap]:
        return [g for g in self.gaps if g.area in areas]

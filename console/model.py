"""Domain types for MLflow entities, shared by clients, commands and widgets (pydantic only).

Every field is optional because MLflow omits empty fields; key/value lists from the wire become
dicts. Timestamps stay integers in milliseconds since the epoch, with datetime helpers beside them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from console.run_reading import RunInfoReading, RunReading

T = TypeVar("T")

# `models:/m-<id>` is how MLflow 3 points a model version at its LoggedModel
_LOGGED_MODEL_SOURCE = re.compile(r"^models:/(m-[0-9a-f]+)")


# MLflow stores versions as 64-bit integers; larger numbers make its sqlite backend fail (HTTP 500)
MAX_VERSION = 2**63 - 1


def version_number(value: str | int) -> str:
    """``value`` as a canonical model version ("007" -> "7"); ValueError if it is not one.

    Only ASCII digits count: ``str.isdigit`` also accepts "²", which ``int`` then refuses.
    """
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ValueError(f"version {shown!r} is not a version number (1, 2, 3, …)")
    number = int(text)
    if not 1 <= number <= MAX_VERSION:
        raise ValueError(f"version {number} is out of range (versions start at 1)")
    return str(number)


def ms_to_datetime(ms: int | None) -> datetime | None:
    """A millisecond timestamp as an aware UTC datetime; ``None`` stays ``None``."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def format_ms(ms: int | None) -> str:
    """A millisecond timestamp as ``YYYY-MM-DD HH:MM:SS`` UTC, or ``-`` when absent."""
    moment = ms_to_datetime(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _pairs_to_dict(value: Any, key: str = "key", val: str = "value") -> Any:
    """``[{"key": k, "value": v}, ...]`` → ``{k: v}``; dicts pass through; last duplicate wins."""
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(item.get(key)): item.get(val, "") for item in value if isinstance(item, dict)}
    return value


class Entity(BaseModel):
    """Base for wire-derived types: unknown fields from newer servers are ignored."""

    # defer_build: schemas are built on first use, which keeps importing this module cheap
    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class Page(BaseModel, Generic[T]):
    """One page of a listing: ``next_page_token`` is ``None`` on the last page."""

    items: list[T] = Field(default_factory=list)
    next_page_token: str | None = None

    @property
    def has_more(self) -> bool:
        return bool(self.next_page_token)


# --- tracking ----------------------------------------------------------------------------------


class Experiment(Entity):
    experiment_id: str
    name: str = ""
    artifact_location: str | None = None
    lifecycle_stage: str | None = None
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    _tags = field_validator("tags", mode="before")(lambda v: _pairs_to_dict(v))


class Metric(Entity):
    key: str
    # NaN and ±inf arrive as strings ("NaN", "Infinity"); pydantic parses both
    value: float | None = None
    timestamp: int | None = None
    step: int = 0


class RunInfo(Entity, RunInfoReading):
    run_id: str
    run_name: str | None = None
    experiment_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    artifact_uri: str | None = None
    lifecycle_stage: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_uuid(cls, data: Any) -> Any:
        if isinstance(data, dict) and "run_id" not in data and "run_uuid" in data:
            data = {**data, "run_id": data["run_uuid"]}
        return data

    @property
    def started_at(self) -> datetime | None:
        return ms_to_datetime(self.start_time)


class Dataset(Entity):
    name: str = ""
    digest: str | None = None
    source_type: str | None = None
    source: str | None = None
    # `schema` would shadow a pydantic BaseModel attribute
    dataset_schema: str | None = Field(default=None, alias="schema")
    profile: str | None = None


class DatasetInput(Entity):
    dataset: Dataset = Field(default_factory=Dataset)
    tags: dict[str, str] = Field(default_factory=dict)

    _tags = field_validator("tags", mode="before")(lambda v: _pairs_to_dict(v))

    @property
    def context(self) -> str | None:
        """``training``/``validation``/… as MLflow records it in ``mlflow.data.context``."""
        return self.tags.get("mlflow.data.context")


class ModelOutput(Entity):
    model_id: str
    step: int = 0


class Run(Entity, RunReading):
    """A run, flattened: ``info`` plus params, latest metrics, tags, inputs and outputs."""

    info: RunInfo
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, Metric] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    inputs: list[DatasetInput] = Field(default_factory=list)
    outputs: list[ModelOutput] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_wire(cls, data: Any) -> Any:
        """Accept MLflow's nested ``data``/``inputs``/``outputs`` shape as well as our own."""
        wire_shaped = isinstance(data, dict) and (
            "data" in data or isinstance(data.get("inputs"), dict)
        )
        if not wire_shaped:
            return data
        wire = data.get("data") or {}
        inputs = data.get("inputs") or {}
        outputs = data.get("outputs") or {}
        return {
            "info": data.get("info") or {},
            "params": _pairs_to_dict(wire.get("params")),
            "metrics": {m.get("key"): m for m in wire.get("metrics") or [] if isinstance(m, dict)},
            "tags": _pairs_to_dict(wire.get("tags")),
            "inputs": inputs.get("dataset_inputs") or [] if isinstance(inputs, dict) else inputs,
            "outputs": outputs.get("model_outputs") or [] if isinstance(outputs, dict) else outputs,
        }


class MetricHistory(Entity):
    run_id: str
    key: str
    points: list[Metric] = Field(default_factory=list)


# --- registry ----------------------------------------------------------------------------------


class ModelVersion(Entity):
    name: str
    version: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    current_stage: str | None = None
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    status: str | None = None
    status_message: str | None = None
    user_id: str | None = None
    model_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # merged in from the registered model by the client when the endpoint omits them
    aliases: list[str] = Field(default_factory=list)

    _tags = field_validator("tags", mode="before")(lambda v: _pairs_to_dict(v))

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def logged_model_id(self) -> str | None:
        """The LoggedModel behind this version: ``model_id``, else parsed from ``source``."""
        if self.model_id:
            return self.model_id
        match = _LOGGED_MODEL_SOURCE.match(self.source or "")
        return match.group(1) if match else None

    @property
    def version_number(self) -> int:
        """The version as an int for sorting (0 if the server sent something odd)."""
        return int(self.version) if self.version.isdigit() else 0


class RegisteredModel(Entity):
    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    latest_versions: list[ModelVersion] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    # alias -> version
    aliases: dict[str, str] = Field(default_factory=dict)

    _tags = field_validator("tags", mode="before")(lambda v: _pairs_to_dict(v))
    _aliases = field_validator("aliases", mode="before")(
        lambda v: {k: str(x) for k, x in _pairs_to_dict(v, "alias", "version").items()}
    )

    def aliases_of(self, version: str) -> list[str]:
        """The aliases pointing at ``version``, sorted."""
        return sorted(a for a, v in self.aliases.items() if v == str(version))

    @property
    def latest_version(self) -> str | None:
        """The highest version number among ``latest_versions`` (one per stage)."""
        if not self.latest_versions:
            return None
        return max(self.latest_versions, key=lambda v: v.version_number).version


class LoggedModel(Entity):
    """An MLflow 3 LoggedModel: where a version's files live; flattened from ``info``/``data``."""

    model_id: str
    name: str | None = None
    experiment_id: str | None = None
    source_run_id: str | None = None
    artifact_uri: str | None = None
    status: str | None = None
    model_type: str | None = None
    creation_timestamp_ms: int | None = None
    last_updated_timestamp_ms: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)
    metrics: list[Metric] = Field(default_factory=list)

    _tags = field_validator("tags", "params", mode="before")(lambda v: _pairs_to_dict(v))

    @model_validator(mode="before")
    @classmethod
    def _from_wire(cls, data: Any) -> Any:
        if isinstance(data, dict) and "info" in data:
            info = data.get("info") or {}
            extra = data.get("data") or {}
            return {**info, "params": extra.get("params"), "metrics": extra.get("metrics") or []}
        return data


# --- model files -------------------------------------------------------------------------------


class ColumnSpec(Entity):
    """One column of a signature (``name`` is absent for unnamed tensors and outputs)."""

    name: str | None = None
    type: str | None = None
    required: bool = True
    # tensor specs carry dtype/shape instead of type
    tensor_spec: dict[str, Any] | None = None


class ModelSignature(Entity):
    inputs: list[ColumnSpec] = Field(default_factory=list)
    outputs: list[ColumnSpec] = Field(default_factory=list)
    params: list[dict[str, Any]] = Field(default_factory=list)


class MLmodelFile(Entity):
    """The parts of a model's ``MLmodel`` file that the console compares and shows."""

    artifact_path: str | None = None
    flavors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    mlflow_version: str | None = None
    model_uuid: str | None = None
    model_id: str | None = None
    run_id: str | None = None
    utc_time_created: str | None = None
    model_size_bytes: int | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None

    @property
    def python_version(self) -> str | None:
        return (self.flavors.get("python_function") or {}).get("python_version")

    @property
    def loader_module(self) -> str | None:
        return (self.flavors.get("python_function") or {}).get("loader_module")


class PythonEnv(Entity):
    """``python_env.yaml``: interpreter version and pip dependencies."""

    python: str | None = None
    build_dependencies: list[str] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)


class Requirements(Entity):
    """``requirements.txt``: requirement lines without comments; ``pins`` maps name → version."""

    lines: list[str] = Field(default_factory=list)

    @property
    def pins(self) -> dict[str, str]:
        pinned: dict[str, str] = {}
        for line in self.lines:
            spec = line.split(";", 1)[0].strip()
            if "==" in spec:
                name, version = spec.split("==", 1)
                pinned[name.strip().lower().replace("_", "-")] = version.strip()
        return pinned


class ModelFiles(Entity):
    """The small files of a model version; ``missing`` names the ones the server did not have."""

    name: str
    version: str
    mlmodel: MLmodelFile | None = None
    requirements: Requirements | None = None
    python_env: PythonEnv | None = None
    input_example: Any = None
    missing: list[str] = Field(default_factory=list)


# --- auth --------------------------------------------------------------------------------------


class CurrentUser(Entity):
    """Who the operator is on the server; ``auth_enabled`` is False when the server has no auth."""

    auth_enabled: bool
    username: str | None = None
    is_admin: bool = False
    user_id: int | None = None


class ModelEditPermission(Entity):
    """Whether the operator may change a registered model (aliases, stages, tags)."""

    model: str
    auth_enabled: bool
    # None: the server could not say (no permissions endpoint)
    allowed: bool | None
    username: str | None = None
    permission: str | None = None
    reason: str = ""

"""Which promotion gates apply to a model and target: built-in defaults, then the ``[gates]`` table.

The table lives in the profile file (``$XDG_CONFIG_HOME/mlops-console/config.toml``, top level,
beside ``[profiles]``), validated with pydantic; a bad value is one line naming the key. Rules
merge field by field from the least to the most specific: ``default`` → ``alias.<A>`` /
``stage.<S>`` → ``models.<M>.default`` → ``models.<M>.alias.<A>`` / ``.stage.<S>``; at
each level a configured rule overrides the built-in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.errors import SettingsError
from console.promotion_model import PromotionRequest, canonical_stage
from console.settings import config_path, parse_config

GateName = Literal["ready", "provenance", "invariance", "metric"]
# the order gates run in, cheapest first: the version's status (already read), the metric (a few
# registry reads), provenance (registry, Iceberg metadata, git, lineage reads), invariance (a
# process that imports mlflow, loads the model and predicts: seconds, not milliseconds)
ALL_GATES: tuple[GateName, ...] = ("ready", "metric", "provenance", "invariance")
GATE_COST = {name: rank for rank, name in enumerate(ALL_GATES)}
# the invariance checks every model with a signature gets (after its own module, if any)
SIGNATURE_CHECKS = "commands.invariance_signature"
# metric names tried in order when none is configured; `holdout_f1_macro` etc. match by suffix
DEFAULT_METRICS = ("f1_macro", "accuracy")
# provenance gaps in these areas fail the gate (lineage depends on a DataHub being synced)
DEFAULT_PROVENANCE_AREAS = (
    "version",
    "run",
    "data",
    "code",
    "params",
    "environment",
    "signature",
    "artifact",
)


class GateRule(BaseModel):
    """One layer of gate settings; ``None`` inherits from the less specific layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    require: list[GateName] | None = None
    metric: str | None = None
    higher_is_better: bool | None = None
    # how much worse than the holder the candidate may be (absolute, in the metric's units)
    tolerance: float | None = Field(default=None, ge=0)
    invariance_timeout: float | None = Field(default=None, gt=0, le=3600)
    # a module run as `python -m MODULE --model-uri ... --tracking-uri ... --json` (exit 0/1/2)
    invariance_module: str | None = None
    # the signature-derived checks (commands.invariance_signature), run after the model's own
    invariance_signature: bool | None = None
    provenance_areas: list[str] | None = None


class TargetRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: GateRule = Field(default_factory=GateRule)
    alias: dict[str, GateRule] = Field(default_factory=dict)
    stage: dict[str, GateRule] = Field(default_factory=dict)

    @field_validator("stage")
    @classmethod
    def _stages(cls, value: dict[str, GateRule]) -> dict[str, GateRule]:
        return {canonical_stage(k): v for k, v in value.items()}

    def layers(self, request: PromotionRequest) -> list[GateRule | None]:
        """(default, the target's rule); ``None`` where nothing is set."""
        specific = (
            self.alias.get(request.alias) if request.alias else self.stage.get(str(request.stage))
        )
        return [self.default, specific]


class GatesConfig(TargetRules):
    """The ``[gates]`` table: target rules for every model, and per-model overrides."""

    models: dict[str, TargetRules] = Field(default_factory=dict)

    def layers(self, request: PromotionRequest) -> list[GateRule | None]:
        """default, target, the model's default, the model's target: least specific first."""
        per_model = self.models.get(request.model)
        return super().layers(request) + (per_model.layers(request) if per_model else [None, None])


class EffectiveGates(BaseModel):
    """The merged settings for one request; ``require`` is in the order the gates run (cost)."""

    require: list[GateName]
    metric: str | None
    higher_is_better: bool
    tolerance: float
    invariance_timeout: float
    invariance_module: str | None
    invariance_signature: bool = True
    provenance_areas: list[str]

    @property
    def invariance_modules(self) -> list[str]:
        """The check modules the invariance gate runs, in order: the model's own, then the
        signature-derived ones (unless switched off)."""
        modules = [self.invariance_module] if self.invariance_module else []
        if self.invariance_signature and SIGNATURE_CHECKS not in modules:
            modules.append(SIGNATURE_CHECKS)
        return modules


_EVERYTHING = GateRule(require=list(ALL_GATES))
BUILTIN = GatesConfig(
    default=GateRule(
        require=["ready"],
        higher_is_better=True,
        tolerance=0.0,
        invariance_timeout=300.0,
        provenance_areas=list(DEFAULT_PROVENANCE_AREAS),
    ),
    alias={"champion": _EVERYTHING},
    stage={"Production": _EVERYTHING},
    # the demo model ships its invariance checks
    models={
        "next-week-commits": TargetRules(default=GateRule(invariance_module="commands.invariance"))
    },
)


def effective_gates(request: PromotionRequest, config: GatesConfig | None = None) -> EffectiveGates:
    """Merge the built-in and configured layers for ``request`` (later layers win per field)."""
    merged: dict[str, object] = {}
    builtin = BUILTIN.layers(request)
    configured = config.layers(request) if config else [None] * len(builtin)
    # at each level of specificity the configured rule overrides the built-in one
    for ours, theirs in zip(builtin, configured, strict=True):
        for layer in (ours, theirs):
            if layer is not None:
                merged.update(layer.model_dump(exclude_none=True))
    required = dict.fromkeys(merged.get("require", ["ready"]))  # type: ignore[arg-type]
    return EffectiveGates(
        # in cost order whatever order the configuration lists them in: cheap checks first
        require=sorted(required, key=GATE_COST.__getitem__),
        metric=merged.get("metric"),  # type: ignore[arg-type]
        higher_is_better=bool(merged.get("higher_is_better", True)),
        tolerance=float(merged.get("tolerance", 0.0)),  # type: ignore[arg-type]
        invariance_timeout=float(merged.get("invariance_timeout", 300.0)),  # type: ignore[arg-type]
        invariance_module=merged.get("invariance_module"),  # type: ignore[arg-type]
        invariance_signature=bool(merged.get("invariance_signature", True)),
        provenance_areas=list(merged.get("provenance_areas", DEFAULT_PROVENANCE_AREAS)),  # type: ignore[arg-type]
    )


def parse_gates(doc: object, where: str) -> GatesConfig:
    """Validate a ``[gates]`` table; SettingsError (one line naming the key) when invalid."""
    try:
        return GatesConfig.model_validate(doc or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in ("gates", *first.get("loc", ())))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise SettingsError(
            f"{where}: {key}: {message}",
            hint="fix the [gates] table (see docs/guide/promotions-and-audit.md)",
        ) from None


def load_gates(env: Mapping[str, str] | None = None) -> GatesConfig:
    """The ``[gates]`` table of the profile file, or an empty config when there is none."""
    path: Path = config_path(env)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return GatesConfig()
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    doc = parse_config(raw, path)
    return parse_gates(doc.get("gates"), f"config file {path}")

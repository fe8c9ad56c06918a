"""Compare two provenance records: the differences, by kind, and whether the metrics are equal.

Pure functions over ``ProvenanceRecord``s. Identity fields that always differ between two models
(run id, model uuid, creation time) are not differences; everything the provenance contract
records is: data, code, params (the seed among them), environment, signature and artifact.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from console.diagnosis_model import Difference, MetricsComparison
from console.provenance.collect import (
    PARAM_SNAPSHOT,
    PARAM_TABLE,
    TAG_BRANCH,
    TAG_COMMIT,
    TAG_REPO,
    TAG_SOURCE,
)
from console.provenance.model import ProvenanceRecord

DATA_PARAM_PREFIX = "data.iceberg."
CODE_TAGS = (TAG_COMMIT, TAG_REPO, TAG_BRANCH, TAG_SOURCE)
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)(\[[^\]]*\])?")


def _pairs(
    kind: str, left: Mapping[str, object], right: Mapping[str, object], equal: bool = False
) -> list[Difference]:
    """Keys whose values differ (``equal``: every key, for a side-by-side view of all)."""
    out = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if equal or a != b:
            out.append(
                Difference(
                    kind=kind,  # type: ignore[arg-type]
                    key=key,
                    left=None if a is None else str(a),
                    right=None if b is None else str(b),
                )
            )
    return out


def requirement_specs(lines: Iterable[str]) -> dict[str, str]:
    """``scikit-learn==1.5.0`` → ``{"scikit-learn": "==1.5.0"}``; names normalised."""
    specs: dict[str, str] = {}
    for line in lines:
        match = _REQUIREMENT_NAME.match(line)
        if not match:
            specs[line.strip()] = ""
            continue
        name = match.group(1).lower().replace("_", "-")
        specs[name] = line[match.end() :].strip() or "(any version)"
    return specs


def _data(left: ProvenanceRecord, right: ProvenanceRecord, equal: bool = False) -> list[Difference]:
    def view(record: ProvenanceRecord) -> dict[str, str]:
        params = record.run.params if record.run else {}
        out = {k: v for k, v in params.items() if k.startswith(DATA_PARAM_PREFIX)}
        for item in record.run.datasets if record.run else []:
            context = item.context or "input"
            out[f"dataset.{context}.{item.dataset.name}"] = item.dataset.digest or "(no digest)"
        return out

    diffs = _pairs("data", view(left), view(right), equal)
    # the snapshot param is the pin: list it first
    diffs.sort(key=lambda d: (d.key != PARAM_SNAPSHOT, d.key != PARAM_TABLE, d.key))
    return diffs


def _code(left: ProvenanceRecord, right: ProvenanceRecord, equal: bool = False) -> list[Difference]:
    def view(record: ProvenanceRecord) -> dict[str, str]:
        tags = record.run.tags if record.run else {}
        return {k: tags[k] for k in CODE_TAGS if k in tags}

    return _pairs("code", view(left), view(right), equal)


def _params(
    left: ProvenanceRecord, right: ProvenanceRecord, equal: bool = False
) -> list[Difference]:
    def view(record: ProvenanceRecord) -> dict[str, str]:
        params = record.run.params if record.run else {}
        return {k: v for k, v in params.items() if not k.startswith(DATA_PARAM_PREFIX)}

    return _pairs("params", view(left), view(right), equal)


def _environment(
    left: ProvenanceRecord, right: ProvenanceRecord, equal: bool = False
) -> list[Difference]:
    def view(record: ProvenanceRecord) -> dict[str, str]:
        env = record.environment
        out = {f"requirements:{k}": v for k, v in requirement_specs(env.requirements).items()}
        if env.python_env is not None:
            if env.python_env.python:
                out["python_env.python"] = env.python_env.python
            for dep in env.python_env.build_dependencies:
                out[f"python_env.build:{dep}"] = "present"
        mlmodel = env.mlmodel
        if mlmodel is not None:
            if mlmodel.mlflow_version:
                out["mlmodel.mlflow_version"] = mlmodel.mlflow_version
            for flavor, conf in mlmodel.flavors.items():
                for key, value in conf.items():
                    if key.endswith("_version") and isinstance(value, str | int | float):
                        out[f"flavor.{flavor}.{key}"] = str(value)
        return out

    return _pairs("environment", view(left), view(right), equal)


def _signature(
    left: ProvenanceRecord, right: ProvenanceRecord, equal: bool = False
) -> list[Difference]:
    def view(record: ProvenanceRecord) -> dict[str, str]:
        mlmodel = record.environment.mlmodel
        signature = mlmodel.signature if mlmodel else None
        out: dict[str, str] = {}
        if signature is None:
            return out
        for side, specs in (("input", signature.inputs), ("output", signature.outputs)):
            for i, spec in enumerate(specs):
                kind = spec.type or str((spec.tensor_spec or {}).get("dtype", "tensor"))
                name = spec.name or f"#{i}"
                out[f"signature.{side}.{name}"] = kind + ("" if spec.required else " (optional)")
            names = [s.name or f"#{i}" for i, s in enumerate(specs)]
            out[f"signature.{side}s.order"] = ", ".join(names)
        for param in signature.params:
            if isinstance(param, dict) and param.get("name"):
                out[f"signature.param.{param['name']}"] = str(param.get("default"))
        return out

    diffs = _pairs("signature", view(left), view(right), equal)
    # a changed column already explains a changed order
    columns_differ = {d.key.split(".")[1] for d in diffs if not d.key.endswith(".order")}
    return [
        d
        for d in diffs
        if not (d.key.endswith("s.order") and d.key.split(".")[1][:-1] in columns_differ)
    ]


def _artifact(
    left: ProvenanceRecord, right: ProvenanceRecord, equal: bool = False
) -> list[Difference]:
    def view(record: ProvenanceRecord) -> dict[str, str]:
        mlmodel = record.environment.mlmodel
        out: dict[str, str] = {}
        if mlmodel is None:
            return out
        out["flavors"] = ", ".join(sorted(mlmodel.flavors))
        if mlmodel.loader_module:
            out["loader_module"] = mlmodel.loader_module
        if mlmodel.model_size_bytes is not None:
            out["model_size_bytes"] = str(mlmodel.model_size_bytes)
        for flavor, conf in mlmodel.flavors.items():
            for key in ("serialization_format", "pickled_model", "code", "data"):
                if isinstance(conf.get(key), str):
                    out[f"flavor.{flavor}.{key}"] = conf[key]
        for name in record.environment.missing_files:
            out[f"missing:{name}"] = "missing"
        return out

    return _pairs("artifact", view(left), view(right), equal)


def differences(
    left: ProvenanceRecord, right: ProvenanceRecord, *, include_equal: bool = False
) -> list[Difference]:
    """Every recorded difference, grouped by kind in DESIGN.md's order (or every compared key)."""
    return [
        *_data(left, right, include_equal),
        *_code(left, right, include_equal),
        *_params(left, right, include_equal),
        *_environment(left, right, include_equal),
        *_signature(left, right, include_equal),
        *_artifact(left, right, include_equal),
    ]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare_metrics(left: ProvenanceRecord, right: ProvenanceRecord) -> MetricsComparison:
    """Exact comparison: a metric logged on one side only makes them unequal."""
    a = left.run.metrics if left.run else {}
    b = right.run.metrics if right.run else {}
    differing = sorted(
        k for k in set(a) | set(b) if k not in a or k not in b or not _same(a[k], b[k])
    )
    both_have = bool(a) and bool(b)
    return MetricsComparison(
        equal=both_have and not differing, left=dict(a), right=dict(b), differing=differing
    )

"""Parsers for the small files of a model: ``MLmodel``, ``requirements.txt``, ``python_env.yaml``
and the input example. Pure functions from bytes to ``console.model`` types; PyYAML is imported
only when a YAML file is parsed.
"""

from __future__ import annotations

import json
from typing import Any

from console.mlflow.errors import BadResponse
from console.model import ColumnSpec, MLmodelFile, ModelSignature, PythonEnv, Requirements


def _yaml(raw: bytes, name: str) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(raw.decode("utf-8", errors="replace"))
    except yaml.YAMLError as exc:
        raise BadResponse(f"{name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BadResponse(f"{name} is not a YAML mapping")
    return doc


def _columns(value: Any) -> list[ColumnSpec]:
    """A signature side: MLflow stores it as a JSON string inside the YAML."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    specs = []
    for item in value:
        if not isinstance(item, dict):
            continue
        if "tensor-spec" in item:
            item = {**item, "tensor_spec": item["tensor-spec"]}
        specs.append(ColumnSpec.model_validate(item))
    return specs


def parse_mlmodel(raw: bytes) -> MLmodelFile:
    doc = _yaml(raw, "MLmodel")
    signature = doc.get("signature")
    parsed_signature = None
    if isinstance(signature, dict):
        params = signature.get("params")
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError:
                params = None
        parsed_signature = ModelSignature(
            inputs=_columns(signature.get("inputs")),
            outputs=_columns(signature.get("outputs")),
            params=params if isinstance(params, list) else [],
        )
    flavors = doc.get("flavors")
    fields = {k: v for k, v in doc.items() if k in MLmodelFile.model_fields and k != "signature"}
    fields["flavors"] = {
        str(k): v if isinstance(v, dict) else {}
        for k, v in (flavors.items() if isinstance(flavors, dict) else [])
    }
    for key in ("mlflow_version", "model_uuid", "model_id", "run_id", "utc_time_created"):
        if fields.get(key) is not None:
            fields[key] = str(fields[key])
    return MLmodelFile.model_validate({**fields, "signature": parsed_signature})


def parse_requirements(raw: bytes) -> Requirements:
    lines = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return Requirements(lines=lines)


def parse_python_env(raw: bytes) -> PythonEnv:
    doc = _yaml(raw, "python_env.yaml")

    def strings(value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else []

    python = doc.get("python")
    return PythonEnv(
        python=str(python) if python is not None else None,
        build_dependencies=strings(doc.get("build_dependencies")),
        dependencies=strings(doc.get("dependencies")),
    )


def parse_input_example(raw: bytes) -> Any:
    """The input example as JSON data (MLflow writes ``input_example.json``)."""
    try:
        return json.loads(raw)
    except ValueError:
        raise BadResponse("input_example.json is not valid JSON") from None

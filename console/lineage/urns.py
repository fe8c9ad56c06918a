"""DataHub URN builders and parsers for the console's lineage, following notes/lineage.md.

Pure string functions (no datahub import): the two names of one MLflow run — DataHub's MLflow
source (md5 of a key) and OpenLineage (the run id read as a UUID) — both derive from the run id,
which is what lets the reader stitch them into one node.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid

ENV = "PROD"
MLFLOW_PLATFORM = "urn:li:dataPlatform:mlflow"
ICEBERG_PLATFORM = "urn:li:dataPlatform:iceberg"
DPI_PREFIX = "urn:li:dataProcessInstance:"

# entity type (the part after urn:li:) -> the node type the console shows
NODE_TYPES = {
    "mlModelGroup": "model_group",
    "mlModel": "model_version",
    "dataProcessInstance": "run",
    "dataJob": "data_job",
    "dataset": "dataset",
}

_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def entity_type(urn: str) -> str:
    """``dataset`` for ``urn:li:dataset:(...)``; empty string for something that is not a URN."""
    if not urn.startswith("urn:li:"):
        return ""
    return urn[len("urn:li:") :].split(":", 1)[0]


def node_type(urn: str) -> str:
    return NODE_TYPES.get(entity_type(urn), "other")


def split_tuple(urn: str) -> list[str]:
    """The comma-separated parts of ``urn:li:<type>:(a,b,c)``, respecting nested parentheses."""
    body = urn.split(":", 3)[-1] if urn.startswith("urn:li:") else urn
    if not (body.startswith("(") and body.endswith(")")):
        return [body]
    parts, depth, current = [], 0, []
    for ch in body[1:-1]:
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += ch == "("
        depth -= ch == ")"
        current.append(ch)
    parts.append("".join(current))
    return parts


def dataset_urn(platform: str, name: str, env: str = ENV) -> str:
    """Iceberg names are lower case by convention (``<catalog>.<namespace>.<table>``)."""
    if platform == "iceberg":
        name = name.lower()
    return f"urn:li:dataset:(urn:li:dataPlatform:{platform},{name},{env})"


def iceberg_dataset_urn(table: str) -> str:
    return dataset_urn("iceberg", table)


def dataset_parts(urn: str) -> tuple[str, str, str]:
    """(platform, name, env) of a dataset URN."""
    parts = split_tuple(urn)
    if len(parts) != 3:
        return ("", urn, "")
    return (parts[0].removeprefix("urn:li:dataPlatform:"), parts[1], parts[2])


def model_group_urn(model: str, env: str = ENV) -> str:
    return f"urn:li:mlModelGroup:({MLFLOW_PLATFORM},{model},{env})"


def model_version_urn(model: str, version: str | int, env: str = ENV) -> str:
    return f"urn:li:mlModel:({MLFLOW_PLATFORM},{model}_{version},{env})"


def model_version_parts(urn: str) -> tuple[str, str] | None:
    """(model, version) of an MLflow model-version URN, or None if it is not one."""
    parts = split_tuple(urn)
    if len(parts) != 3 or parts[0] != MLFLOW_PLATFORM or "_" not in parts[1]:
        return None
    model, _, version = parts[1].rpartition("_")
    return (model, version)


def training_job_urn(model: str) -> str:
    flow = f"urn:li:dataFlow:(mlflow,{model},ml-training)"
    return f"urn:li:dataJob:({flow},{model}.train)"


def datahub_guid(obj: dict) -> str:
    """The same digest as ``datahub.emitter.mce_builder.datahub_guid`` (checked by a test)."""
    key = json.dumps(obj, separators=(",", ":"), sort_keys=True)
    return hashlib.md5(key.encode("utf-8")).hexdigest()  # an identifier, not security


def mlflow_run_dpi_urn(run_id: str) -> str:
    """The run as DataHub's MLflow ingestion source names it."""
    return DPI_PREFIX + datahub_guid({"orchestrator": "mlflow", "id": run_id})


def openlineage_run_id(run_id: str) -> str | None:
    """The OpenLineage runId of an MLflow run (its id read as a UUID); None if not hex-32."""
    try:
        return str(uuid.UUID(run_id))
    except ValueError:
        return None


def openlineage_dpi_urn(run_id: str) -> str | None:
    ol = openlineage_run_id(run_id)
    return DPI_PREFIX + ol if ol else None


def run_urns(run_id: str) -> list[str]:
    """Both URNs one MLflow run can have in DataHub: MLflow source first, OpenLineage second."""
    urns = [mlflow_run_dpi_urn(run_id)]
    ol = openlineage_dpi_urn(run_id)
    if ol:
        urns.append(ol)
    return urns


def dpi_id(urn: str) -> str:
    return urn.removeprefix(DPI_PREFIX)


def run_id_from_openlineage_urn(urn: str) -> str | None:
    """The MLflow run id behind an OpenLineage DPI URN (a dashed UUID), else None."""
    ident = dpi_id(urn)
    if "-" not in ident:
        return None
    try:
        return uuid.UUID(ident).hex
    except ValueError:
        return None


def looks_like_run_id(value: str) -> bool:
    return bool(_HEX32.match(value))

"""Request schemas of the predict service: pydantic models for a model's input row and output.

A model with a hand-written contract (``KNOWN``: the demo's ``FeatureRow``/``Prediction``) uses it;
any other model gets a row model derived from its MLflow signature: one field per column, its
type from the column type, required unless the signature marks it optional. **Extra columns are
refused** (an unknown column is most often a misspelt one, and silently dropping it would hide
that). Strings are capped, floats must be finite. A model without a column signature accepts
rows of scalars whose columns agree across the request. Stdlib + pydantic; the signature object
comes from MLflow in the service process.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

MAX_STRING = 10_000
MAX_COLUMNS = 1_000
MAX_ERRORS = 10

# registered model -> (input row model, output value type), as "module:attribute"
KNOWN: dict[str, tuple[str, str]] = {
    "next-week-commits": ("commands.demo.schema:FeatureRow", "commands.demo.schema:Bucket"),
}


class RequestError(Exception):
    """A bad request: ``status`` (4xx) and a message naming the field and the problem."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _show(name: object, limit: int = 60) -> str:
    """A field name from a request, safe to echo: repr-escaped and cut."""
    text = repr(str(name))[1:-1]
    return text if len(text) <= limit else text[:limit] + "…"


_TYPES: dict[str, tuple[Any]] = {
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (float,),
    "double": (float,),
    "string": (str,),
    "datetime": (datetime,),
}
INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
# pandas dtype per MLflow column type, so the frame matches what the signature enforces
DTYPES = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "datetime": "datetime64[ns]",
}


@dataclass
class InputSchema:
    """How a request's rows are validated; ``columns`` in the model's order, when known."""

    source: str  # "contract", "signature" or "none"
    row_model: type[BaseModel] | None
    columns: list[str]
    dtypes: dict[str, str]
    # columns holding numbers: JSON true/false there is refused (pydantic's lax float takes
    # true as 1.0, and a boolean sent for a number is a caller's mistake, not a value)
    numeric: frozenset[str] = frozenset()

    def describe(self) -> dict[str, Any]:
        if self.row_model is None:
            return {"source": self.source, "columns": None}
        return {"source": self.source, "schema": self.row_model.model_json_schema()}

    def validate(self, rows: list[Any]) -> list[dict[str, Any]]:
        """Each row as a dict of validated values; RequestError(422) naming what is wrong."""
        problems: list[dict[str, Any]] = []
        out: list[dict[str, Any]] = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                problems.append({"row": i, "field": None, "problem": "a row must be an object"})
            elif booleans := [
                c for c, v in row.items() if c in self.numeric and isinstance(v, bool)
            ]:
                for column in booleans[: MAX_ERRORS - len(problems)]:
                    value = "true" if row[column] else "false"
                    problems.append(
                        {
                            "row": i,
                            "field": _show(column),
                            "problem": f"must be a number, not {value}",
                        }
                    )
            elif self.row_model is not None:
                try:
                    valid = self.row_model.model_validate(row)
                    out.append(valid.model_dump(mode="json", by_alias=True))
                except ValidationError as exc:
                    for err in exc.errors()[: MAX_ERRORS - len(problems)]:
                        loc = ".".join(str(p) for p in err.get("loc", ())) or None
                        problem = err.get("msg", "invalid")
                        if err.get("type") == "extra_forbidden":
                            problem = "unknown column (not in the model's input schema)"
                        problems.append(
                            {"row": i, "field": _show(loc) if loc else None, "problem": problem}
                        )
            else:
                out.append(_untyped_row(i, row, problems))
            if len(problems) >= MAX_ERRORS:
                break
        if not problems and self.row_model is None and out:
            first = list(out[0])
            for i, row in enumerate(out):
                if list(row) != first:
                    problems.append(
                        {"row": i, "field": None, "problem": "columns differ from row 0"}
                    )
                    break
        if problems:
            first = problems[0]
            field_part = f", field '{first['field']}'" if first["field"] else ""
            where = f"row {first['row']}{field_part}"
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RequestError(422, f"{where}: {first['problem']}{more}", problems)
        return out


def _untyped_row(i: int, row: dict[str, Any], problems: list[dict[str, Any]]) -> dict[str, Any]:
    if len(row) > MAX_COLUMNS:
        problems.append({"row": i, "field": None, "problem": f"more than {MAX_COLUMNS} columns"})
        return {}
    for key, value in row.items():
        if value is not None and not isinstance(value, bool | int | float | str):
            problems.append(
                {"row": i, "field": _show(key), "problem": "must be a number, string or null"}
            )
        elif isinstance(value, str) and len(value) > MAX_STRING:
            problems.append(
                {"row": i, "field": _show(key), "problem": f"longer than {MAX_STRING} characters"}
            )
    return dict(row)


@dataclass
class OutputSchema:
    """What one prediction may be; validated before answering (a mismatch is the server's fault)."""

    source: str
    adapter: TypeAdapter[Any]

    def check(self, predictions: list[Any]) -> list[Any]:
        return [self.adapter.validate_python(p) for p in predictions]


def input_schema(model_name: str, signature: Any) -> InputSchema:
    """The row schema for ``model_name``: its known contract, else its MLflow signature."""
    if model_name in KNOWN:
        row_model = _load(KNOWN[model_name][0])
        columns = list(row_model.model_fields)
        dtypes = {c: "float64" for c in columns}
        return InputSchema(
            "contract",
            row_model,
            columns,
            dtypes,
            frozenset(c for c, f in row_model.model_fields.items() if f.annotation in (int, float)),
        )
    inputs = getattr(signature, "inputs", None) if signature is not None else None
    if inputs is None or inputs.is_tensor_spec() or not inputs.has_input_names():
        return InputSchema("none", None, [], {})
    fields: dict[str, Any] = {}
    dtypes: dict[str, str] = {}
    columns: list[str] = []
    numeric: set[str] = set()
    for i, spec in enumerate(inputs.inputs):
        type_name = getattr(getattr(spec, "type", None), "name", None)
        py_type = _TYPES.get(type_name or "", (Any,))[0]
        limits: dict[str, Any] = {"alias": spec.name}
        if py_type is float:
            limits["allow_inf_nan"] = False
        if py_type is str:
            limits["max_length"] = MAX_STRING
        if type_name in INT_BOUNDS:
            limits["ge"], limits["le"] = INT_BOUNDS[type_name]
            limits["strict"] = True  # no "12" or 12.5 or true for an integer column
        if getattr(spec, "required", True):
            fields[f"c{i}"] = (py_type, Field(**limits))
        else:
            fields[f"c{i}"] = (py_type | None, Field(default=None, **limits))
        columns.append(spec.name)
        if py_type in (int, float):
            numeric.add(spec.name)
        if type_name in DTYPES:
            dtypes[spec.name] = DTYPES[type_name]
    # column names are arbitrary strings: fields get safe names, the column is the alias
    row_model = create_model("InputRow", __config__=ConfigDict(extra="forbid"), **fields)
    return InputSchema("signature", row_model, columns, dtypes, frozenset(numeric))


def output_schema(model_name: str, signature: Any) -> OutputSchema:
    """The type of one prediction: the known contract, else the signature's single output."""
    if model_name in KNOWN:
        return OutputSchema("contract", TypeAdapter(_load(KNOWN[model_name][1])))
    outputs = getattr(signature, "outputs", None) if signature is not None else None
    if outputs is not None and not outputs.is_tensor_spec() and len(outputs.inputs) == 1:
        type_name = getattr(getattr(outputs.inputs[0], "type", None), "name", None)
        py_type = _TYPES.get(type_name or "", (Any,))[0]
        if py_type is not Any:
            # a type built at run time: not a type expression the checker can follow
            return OutputSchema("signature", TypeAdapter(py_type | None))  # pyright: ignore[reportArgumentType]
    return OutputSchema("none", TypeAdapter(Any))

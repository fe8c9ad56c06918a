"""Input schemas derived from MLflow signatures (no model needed), and the demo's contract."""

from __future__ import annotations

import pytest

from commands.serve.schema import RequestError, input_schema, output_schema


def _signature():
    from mlflow.models.signature import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(
        inputs=Schema(
            [
                ColSpec("double", "x y"),
                ColSpec("integer", "_private"),
                ColSpec("string", "note", required=False),
            ]
        ),
        outputs=Schema([ColSpec("string")]),
    )


def test_signature_schema_types_required_optional_and_extra_columns():
    schema = input_schema("someone-elses", _signature())
    assert schema.source == "signature" and schema.columns == ["x y", "_private", "note"]
    assert schema.validate([{"x y": 1, "_private": 2}]) == [
        {"x y": 1.0, "_private": 2, "note": None}
    ]
    for row, field in (
        ({"x y": 1.0}, "_private"),
        ({"x y": 1.0, "_private": 2**31}, "_private"),
        ({"x y": 1.0, "_private": "2"}, "_private"),
        ({"x y": 1.0, "_private": 1, "note": "n" * 20_000}, "note"),
        ({"x y": 1.0, "_private": 1, "extra": 0}, "extra"),
    ):
        with pytest.raises(RequestError) as caught:
            schema.validate([row])
        assert caught.value.status == 422 and f"field '{field}'" in caught.value.message
    assert output_schema("someone-elses", _signature()).check(["a", None]) == ["a", None]


def test_demo_contract_is_used_for_the_demo_model():
    schema = input_schema("next-week-commits", None)
    assert schema.source == "contract" and "lag_1" in schema.columns
    with pytest.raises(RequestError) as caught:
        schema.validate([{c: -1.0 for c in schema.columns}])
    assert "greater than or equal to 0" in caught.value.message
    assert output_schema("next-week-commits", None).check(["low"]) == ["low"]


def test_no_signature_accepts_consistent_scalar_rows_only():
    schema = input_schema("unsigned", None)
    assert schema.source == "none"
    assert schema.validate([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    for rows in ([{"a": 1}, {"b": 1}], [{"a": [1, 2]}], [3]):
        with pytest.raises(RequestError):
            schema.validate(rows)


def test_booleans_are_no_numbers_for_signature_and_contract_columns():
    """Issue 20: pydantic's lax float takes true as 1.0; a numeric column refuses true/false."""
    schema = input_schema("someone-elses", _signature())
    for row, field, shown in (
        ({"x y": True, "_private": 1}, "x y", "true"),
        ({"x y": 1.0, "_private": False}, "_private", "false"),
    ):
        with pytest.raises(RequestError) as caught:
            schema.validate([row])
        assert caught.value.status == 422
        assert f"field '{field}': must be a number, not {shown}" in caught.value.message
    contract = input_schema("next-week-commits", None)
    with pytest.raises(RequestError) as caught:
        contract.validate([{c: True for c in contract.columns}])
    assert "must be a number, not true" in caught.value.message
    assert schema.validate([{"x y": 0, "_private": 0, "note": "true"}])[0]["note"] == "true"

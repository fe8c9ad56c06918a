"""Every GraphQL document the console can send validates against DataHub 1.7.0's schema.

The schema is DataHub's own (``fixtures/datahub-graphql-v1.7.0``, Apache-2.0, see its NOTICE);
validation is graphql-core's. A document naming a field or argument the schema lacks fails here.
"""

from __future__ import annotations

import pytest
from graphql import parse, validate

from console.lineage import gms
from tests.lineage.gms_standin import schema


@pytest.mark.parametrize("name", sorted(gms.DOCUMENTS))
def test_document_validates(name: str) -> None:
    errors = validate(schema(), parse(gms.DOCUMENTS[name]))
    assert [e.message for e in errors] == []


def test_every_query_in_the_reader_is_listed() -> None:
    """A new document added to the module without listing it would escape validation."""
    texts = [v for v in vars(gms).values() if isinstance(v, str) and v.lstrip().startswith("query")]
    assert texts and set(texts) <= set(gms.DOCUMENTS.values())


def test_the_old_query_is_rejected_and_named() -> None:
    """The query the console sent before (``aspects`` on a run) is invalid on DataHub 1.7.0."""
    old = (
        "query q($urns: [String!]!) { entities(urns: $urns) { urn "
        '... on DataProcessInstance { aspects(input: {aspectNames: ["x"]}) { payload } } } }'
    )
    errors = validate(schema(), parse(old))
    assert errors
    lacking = gms.missing_field([{"message": e.message} for e in errors])
    assert lacking == "DataProcessInstance.aspects"
    graphql_java = "Validation error (FieldUndefined@[entities/aspects]) : Field 'aspects' in type "
    assert gms.missing_field(
        [{"message": graphql_java + "'DataProcessInstance' is undefined"}]
    ) == ("DataProcessInstance.aspects")

"""A schema-driven fuzz run (schemathesis) of every operation in the workbench's OpenAPI spec:
whatever it sends, the server answers without a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error


@pytest.fixture(scope="module")
def api_schema(workbench):
    return schemathesis.openapi.from_asgi("/openapi.json", workbench)


def _operations():
    return ["GET /health", "POST /code", "POST /letters", "GET /codes/search", "GET /codes/{system}/{code}",
            "GET /letters/{letter_id}/history"]


def test_the_spec_lists_every_api_operation(api_schema):
    found = {f"{op.ok().method.upper()} {op.ok().path}" for op in api_schema.get_all_operations()}
    assert found == set(_operations())


@pytest.mark.parametrize("operation", _operations())
def test_no_input_makes_the_server_fail(api_schema, operation):
    method, path = operation.split(" ")
    op = api_schema[path][method]

    @given(case=op.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):
        case.call_and_validate(checks=[not_a_server_error])

    fuzz()

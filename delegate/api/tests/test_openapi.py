from __future__ import annotations

import json
import re

import pytest
from django.test import Client as HttpClient

from delegate.api.urls import api

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    # Through JSON, as clients see it (status codes become strings).
    return json.loads(json.dumps(api.get_openapi_schema()))


def test_it_serves_openapi_3_1_and_the_docs() -> None:
    http = HttpClient()
    document = http.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")
    docs = http.get("/api/v1/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.content


def _operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_declares_its_errors(schema: dict) -> None:
    error_ref = "#/components/schemas/ErrorOut"
    assert set(schema["components"]["schemas"]["ErrorOut"]["required"]) == {"detail"}
    operations = _operations(schema)
    assert len(operations) >= 15
    for method, path, operation in operations:
        expected = {"401", "422"}  # every operation authenticates and validates input
        if re.search(r"{\w+}", path) or (method == "get" and path.endswith("/tasks")):
            expected.add("404")
        if method in ("post", "patch"):
            expected.add("403")
        if method == "post" or (method == "patch" and "/tasks/" in path):
            expected.add("409")  # idempotency in progress; status transitions
        declared = set(operation["responses"])
        assert expected <= declared, f"{method} {path} lacks {expected - declared}"
        for code in declared - {"200", "201", "204"}:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"]["$ref"] == error_ref, (method, path, code)
        assert operation["security"] == [{"ApiKeyAuth": []}], (method, path)


def test_create_operations_document_the_idempotency_key(schema: dict) -> None:
    for method, path, operation in _operations(schema):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) == (method == "post"), (method, path)


def test_responses_carry_no_integer_ids(schema: dict) -> None:
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            if field == "id" or field in {"task", "client", "assignee", "requester"}:
                types = {spec.get("type")} | {s.get("type") for s in spec.get("anyOf", [])}
                assert "integer" not in types, (name, field)

"""The OpenAPI schema documents every operation, with an example, and validates."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

OPERATIONS_WITHOUT_BODY_EXAMPLE = {
    # A binary download and moves whose body is the request detail shown elsewhere.
    ("get", "/api/v1/requests/{number}/attachments/{id}/"),
    ("post", "/api/v1/requests/{number}/resolve/"),
    # A deletion answers 204, without a body.
    ("delete", "/api/v1/webhooks/{id}/"),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def has_example(operation):
    bodies = [operation.get("requestBody", {})] + list(operation.get("responses", {}).values())
    return any(
        "examples" in media or "example" in media for body in bodies for media in body.get("content", {}).values()
    )


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)


def test_every_operation_has_a_summary_and_an_example(schema):
    missing = [
        (method, path)
        for method, path, operation in operations(schema)
        if (method, path) not in OPERATIONS_WITHOUT_BODY_EXAMPLE and not has_example(operation)
    ]
    assert missing == []
    assert all(operation.get("summary") for _, _, operation in operations(schema))


def test_the_contract_paths_are_there(schema):
    assert {path for _, path, _ in operations(schema)} == {
        "/api/v1/me/",
        "/api/v1/requests/",
        "/api/v1/requests/{number}/",
        "/api/v1/requests/{number}/take-charge/",
        "/api/v1/requests/{number}/resolve/",
        "/api/v1/requests/{number}/messages/",
        "/api/v1/requests/{number}/attachments/",
        "/api/v1/requests/{number}/attachments/{id}/",
        "/api/v1/structure/members/",
        "/api/v1/structure/members/{id}/deactivate/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{id}/",
        "/api/v1/webhooks/{id}/rotate-secret/",
        "/api/v1/webhooks/{id}/deactivate/",
        "/api/v1/webhooks/{id}/reactivate/",
        "/api/v1/webhooks/{id}/test/",
    }

"""The OpenAPI schema documents every operation, with an example, and validates."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

OPERATIONS_WITHOUT_BODY_EXAMPLE = {
    # A binary download and moves whose body is the request detail shown elsewhere.
    ("get", "/api/v1/requests/{number}/attachments/{id}/"),
    ("get", "/api/v1/requests/{number}/summary.pdf"),
    ("get", "/api/v1/requests/{number}/mas-sheet.pdf"),
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
        "/api/v1/kinds/",
        "/api/v1/requests/",
        "/api/v1/requests/{number}/",
        "/api/v1/requests/{number}/take-charge/",
        "/api/v1/requests/{number}/resolve/",
        "/api/v1/requests/{number}/messages/",
        "/api/v1/requests/{number}/attachments/",
        "/api/v1/requests/{number}/attachments/{id}/",
        "/api/v1/requests/{number}/summary.pdf",
        "/api/v1/requests/{number}/mas-sheet.pdf",
        "/api/v1/requests/{number}/assign/",
        "/api/v1/requests/{number}/hand-back/",
        "/api/v1/requests/{number}/follow/",
        "/api/v1/requests/{number}/mas-letter-sent/",
        "/api/v1/structure/members/",
        "/api/v1/structure/members/{id}/deactivate/",
        "/api/v1/structure/members/{id}/reactivate/",
        "/api/v1/caisse/agents/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{id}/",
        "/api/v1/webhooks/{id}/rotate-secret/",
        "/api/v1/webhooks/{id}/deactivate/",
        "/api/v1/webhooks/{id}/reactivate/",
        "/api/v1/webhooks/{id}/test/",
    }


def json_schema(node):
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null alternative, and an object's properties are
    all it may have (an example with a key the schema does not know shows a shape that is no longer the API's)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def response_examples(schema):
    for method, path, operation in operations(schema):
        for status, response in operation.get("responses", {}).items():
            for media in response.get("content", {}).values():
                for name, example in media.get("examples", {}).items():
                    yield f"{method} {path} {status} {name}", media["schema"], example["value"]


def example_errors(schema, media_schema, value):
    from jsonschema import Draft202012Validator

    root = {**json_schema(media_schema), "components": json_schema(schema["components"])}
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft202012Validator(root).iter_errors(value)
    ]


def test_every_response_example_validates_against_its_schema(schema):
    examples = list(response_examples(schema))
    assert {name for name, _, _ in examples} >= {
        "get /api/v1/requests/ 200 UneDemandeDeLaPage",
        "get /api/v1/requests/{number}/ 200 SaisineMAS",
        "get /api/v1/me/ 200 Technicien",
    }
    invalid = {name: errors for name, media, value in examples if (errors := example_errors(schema, media, value))}
    assert invalid == {}


def test_a_list_example_is_its_page_once_and_names_no_placeholder_host(schema):
    from django.conf import settings

    page = schema["paths"]["/api/v1/requests/"]["get"]["responses"]["200"]["content"]["application/json"]
    value = page["examples"]["UneDemandeDeLaPage"]["value"]
    assert set(value) == {"next", "previous", "results"}
    assert [row["number"] for row in value["results"]] == ["2633100042"]
    messages = schema["paths"]["/api/v1/requests/{number}/messages/"]["get"]["responses"]["200"]["content"]
    assert [type(item) for item in messages["application/json"]["examples"]["UnMessage"]["value"]] == [dict]
    links = [value["next"], value["previous"], value["results"][0]["url"]]
    assert all(link.startswith(f"{settings.SITE_URL}/api/v1/") for link in links)
    assert "example.org" not in str(schema) and "partenaires.example" not in str(schema)
    assert schema["servers"] == [{"url": settings.SITE_URL, "description": "Ce service."}]


def test_an_example_of_an_old_shape_would_be_caught(schema):
    from extranet.api import examples

    detail = schema["paths"]["/api/v1/requests/{number}/"]["get"]["responses"]["200"]["content"]["application/json"]
    old = {**examples.REQUEST_DETAIL, "structure": "UDAF", "details": [{"label": "Motif", "value": "Droits"}]}
    assert len(example_errors(schema, detail["schema"], old)) == 2
    assert example_errors(schema, detail["schema"], {**examples.REQUEST_DETAIL, "extra": 1})


def test_each_request_serializer_has_its_own_description(schema):
    components = schema["components"]["schemas"]
    descriptions = {name: components[name]["description"] for name in ("RequestSummary", "RequestDetail")}
    assert descriptions["RequestDetail"] != descriptions["RequestSummary"]
    assert "pas de données" not in descriptions["RequestDetail"].lower()
    assert "personne concernée" in descriptions["RequestDetail"]


def test_every_refusal_is_an_error_with_its_codes_listed(schema):
    """Each 4xx and 5xx of each operation is the `Error` component, its description naming the codes it may be
    (extranet/api/schema.py); tests/extranet/api/test_error_codes.py answers each code for real."""
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                method,
                path,
                status,
            )
            assert response["description"].startswith("- `"), (method, path, status)
    assert schema["components"]["schemas"]["Error"]["additionalProperties"] is False

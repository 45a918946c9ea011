"""The API answers what its OpenAPI schema says: every answer checked against the published schema."""

import copy

import pytest
from jsonschema import Draft7Validator

from stations.models import Unit

pytestmark = pytest.mark.django_db


def _as_json_schema(node):
    """OpenAPI 3.0 says `nullable: true`; JSON Schema says the type may also be null."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def openapi(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _validator(openapi, path, method="get", status="200"):
    content = openapi["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    root = {"components": _as_json_schema(copy.deepcopy(openapi["components"])), **_as_json_schema(content)}
    return Draft7Validator(root)


def _check(openapi, path, body, status="200"):
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in _validator(openapi, path, status=status).iter_errors(body)
    ]
    assert not errors, errors


def test_every_answer_matches_the_schema(api_client, tree, people, reference, openapi):
    Unit.objects.filter(pk=tree.a1.pk).update(contact_phone="13812345678", recognition_level="provincial")
    api_client.force_authenticate(people.viewer)
    _check(openapi, "/api/v1/units/", api_client.get("/api/v1/units/").json())
    # The center has no parent: its parent_name is null, and the schema says it may be.
    center = api_client.get(f"/api/v1/units/{tree.center.pk}/").json()
    assert center["parent_name"] is None
    _check(openapi, "/api/v1/units/{id}/", center)
    _check(openapi, "/api/v1/units/{id}/", api_client.get(f"/api/v1/units/{tree.a1a.pk}/").json())
    _check(openapi, "/api/v1/units/geojson/", api_client.get("/api/v1/units/geojson/").json())
    _check(openapi, "/api/v1/platforms/", api_client.get("/api/v1/platforms/").json())
    _check(
        openapi,
        "/api/v1/platforms/{id}/",
        api_client.get(f"/api/v1/platforms/{reference.platform.pk}/").json(),
    )
    # The refusals too.
    _check(openapi, "/api/v1/units/", api_client.get("/api/v1/units/", {"is_active": "maybe"}).json(), "400")
    _check(openapi, "/api/v1/units/{id}/", api_client.get("/api/v1/units/999999/").json(), "404")
    api_client.force_authenticate(None)
    _check(openapi, "/api/v1/units/", api_client.get("/api/v1/units/").json(), "401")


def test_every_operation_documents_its_refusals(openapi):
    for path, operations in openapi["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404"} <= codes, (method, path)
            assert codes & {"200", "201"}, (method, path)  # and what it answers when it succeeds


def test_the_nullable_fields_are_marked(openapi):
    unit = openapi["components"]["schemas"]["Unit"]["properties"]
    for name in ("parent_name", "parent", "longitude", "latitude"):
        assert unit[name].get("nullable") is True, name

"""The OpenAPI document at /api/openapi.json: valid, complete and generated from the schemas.

The document does not depend on the database, so most checks run once against a
module-scoped app; one test fetches it through the regular fixtures on both lanes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema

from server.app import create_app
from server.devices.schemas import EnrolIn, EnrolOut
from server.protocol.schemas import PhotoOut, PullOut, PushIn, PushOut, ReportIn

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PATH_ITEM_KEYS = HTTP_METHODS | {"$ref", "summary", "description", "servers", "parameters"}
OPERATION_KEYS = {
    "tags",
    "summary",
    "description",
    "externalDocs",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "callbacks",
    "deprecated",
    "security",
    "servers",
}
SCHEMA_TYPES = {"object", "array", "string", "number", "integer", "boolean"}
REQUIRED_PATHS = {
    "/api/v1/enrol": {"post"},
    "/api/v1/sync/push": {"post"},
    "/api/v1/sync/pull": {"get"},
    "/api/v1/photos/{sha256}": {"put", "get"},
}
MARSHMALLOW_SCHEMAS: dict[str, type[Schema]] = {
    "PushIn": PushIn,
    "PushOut": PushOut,
    "PullOut": PullOut,
    "ReportIn": ReportIn,
    "EnrolIn": EnrolIn,
    "EnrolOut": EnrolOut,
    "PhotoOut": PhotoOut,
}
_RULE_ARG = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@pytest.fixture(scope="module")
def spec_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("openapi")
    app = create_app(
        {
            "TESTING": True,
            "LAGESBILD_ENV": "testing",
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'unused.sqlite3'}",
            "DATA_DIR": str(folder / "data"),
        }
    )
    with app.app_context():
        yield app


@pytest.fixture(scope="module")
def doc(spec_app: Flask) -> dict[str, Any]:
    resp = spec_app.test_client().get("/api/openapi.json")
    assert resp.status_code == 200, resp.data[:500]
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert isinstance(body, dict)
    return body


def openapi_path(rule: str) -> str:
    """Translate a Flask rule (``/x/<int:id>``) into an OpenAPI path (``/x/{id}``)."""
    return _RULE_ARG.sub(r"{\1}", rule)


def iter_refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """Yield (location, target) for every $ref in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield where, value
            else:
                yield from iter_refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from iter_refs(value, f"{where}/{i}")


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Resolve a local JSON pointer such as ``#/components/schemas/Error``."""
    assert ref.startswith("#/"), f"non-local $ref {ref!r}"
    node: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and token in node, f"$ref {ref!r} does not resolve"
        node = node[token]
    return node


def check_schema(schema: Any, where: str) -> None:
    """Structurally check an OpenAPI 3.0 schema object (recursively)."""
    assert isinstance(schema, dict), where
    if "$ref" in schema:
        return
    if "type" in schema:
        assert schema["type"] in SCHEMA_TYPES, f"{where}: bad type {schema['type']!r}"
    if schema.get("type") == "array":
        assert "items" in schema, f"{where}: array without items"
    if "items" in schema:
        check_schema(schema["items"], f"{where}/items")
    for name, prop in schema.get("properties", {}).items():
        check_schema(prop, f"{where}/properties/{name}")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        check_schema(extra, f"{where}/additionalProperties")
    required = schema.get("required", [])
    assert isinstance(required, list) and len(set(required)) == len(required), where
    assert set(required) <= set(schema.get("properties", {})), f"{where}: unknown required"


def check_document(document: dict[str, Any]) -> None:
    """A structural OpenAPI 3.0 check (used when openapi-spec-validator is not installed)."""
    assert isinstance(document.get("openapi"), str) and document["openapi"].startswith("3.0")
    info = document.get("info")
    assert isinstance(info, dict)
    assert isinstance(info.get("title"), str) and info["title"]
    assert isinstance(info.get("version"), str) and info["version"]
    assert isinstance(document.get("paths"), dict) and document["paths"]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        assert re.fullmatch(r"[A-Za-z0-9._-]+", name), name
        check_schema(schema, f"#/components/schemas/{name}")
    schemes = document.get("components", {}).get("securitySchemes", {})
    for path, item in document["paths"].items():
        assert path.startswith("/"), path
        assert set(item) <= PATH_ITEM_KEYS, (path, set(item) - PATH_ITEM_KEYS)
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert set(op) <= OPERATION_KEYS, (where, set(op) - OPERATION_KEYS)
            responses = op.get("responses")
            assert isinstance(responses, dict) and responses, f"{where}: no responses"
            for status, response in responses.items():
                assert isinstance(status, str), f"{where}: status {status!r} is not a string"
                assert status == "default" or re.fullmatch(r"[1-5]([0-9]{2}|XX)", status), status
                assert isinstance(response.get("description"), str), f"{where} {status}"
                for media, content in response.get("content", {}).items():
                    assert "/" in media, media
                    if "schema" in content:
                        check_schema(content["schema"], f"{where} {status} {media}")
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            for param in params:
                assert param.get("in") in {"path", "query", "header", "cookie"}, (where, param)
                assert isinstance(param.get("name"), str) and param["name"], (where, param)
                assert "schema" in param or "content" in param, (where, param)
                if param["in"] == "path":
                    assert param.get("required") is True, f"{where}: path param not required"
            declared = {p["name"] for p in params if p.get("in") == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), f"{where}: path params"
            body = op.get("requestBody")
            if body is not None:
                assert isinstance(body.get("content"), dict) and body["content"], where
            for requirement in op.get("security", []):
                assert set(requirement) <= set(schemes), f"{where}: unknown security scheme"


# --------------------------------------------------------------------------- tests


def test_openapi_json_is_served_on_both_lanes(client, doc):
    resp = client.get("/api/openapi.json")

    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_json() == doc


def test_document_is_valid_openapi_3(doc):
    check_document(doc)
    try:
        from openapi_spec_validator import validate
    except ImportError:
        return  # the structural check above is all we can do without the validator
    validate(doc)


def test_required_paths_and_operations_are_documented(doc):
    for path, methods in REQUIRED_PATHS.items():
        assert path in doc["paths"], f"{path} is not documented"
        assert methods <= set(doc["paths"][path]), (path, set(doc["paths"][path]))


def test_required_component_schemas_exist(doc):
    schemas = doc["components"]["schemas"]
    wanted = {"PushIn", "PushOut", "PullOut", "ReportIn", "EnrolIn", "EnrolOut", "PhotoOut"}

    assert wanted | {"Error"} <= set(schemas)


def test_component_schemas_are_generated_from_the_marshmallow_schemas(doc):
    schemas = doc["components"]["schemas"]
    for name, schema_cls in MARSHMALLOW_SCHEMAS.items():
        fields = schema_cls._declared_fields
        expected = {f.data_key or key for key, f in fields.items()}
        assert set(schemas[name].get("properties", {})) == expected, name
        required = {f.data_key or key for key, f in fields.items() if f.required}
        assert set(schemas[name].get("required", [])) == required, name


def test_error_schema_describes_the_envelope(doc):
    error = doc["components"]["schemas"]["Error"]
    inner = error["properties"]["error"]
    if "$ref" in inner:
        inner = resolve(doc, inner["$ref"])

    assert set(inner["properties"]) == {"code", "message", "details"}
    assert set(inner["required"]) == {"code", "message"}
    assert inner["properties"]["code"]["type"] == "string"
    assert inner["properties"]["message"]["type"] == "string"


def test_every_ref_resolves(doc):
    refs = list(iter_refs(doc))

    assert refs, "the document uses no $ref at all"
    for where, ref in refs:
        target = resolve(doc, ref)
        assert isinstance(target, dict), f"{where}: {ref} points at a non-object"


def test_request_and_response_schemas_are_used_by_operations(doc):
    referenced = {ref.rsplit("/", 1)[1] for _where, ref in iter_refs(doc)}
    for name in ("PushIn", "PushOut", "PullOut", "EnrolIn", "EnrolOut", "PhotoOut", "Error"):
        assert name in referenced, f"{name} is defined but no operation uses it"


def test_documented_paths_exist_in_the_url_map(spec_app, doc):
    routes: dict[str, set[str]] = {}
    for rule in spec_app.url_map.iter_rules():
        routes.setdefault(openapi_path(rule.rule), set()).update(
            m.lower() for m in rule.methods or ()
        )
    for path, item in doc["paths"].items():
        assert path in routes, f"{path} is documented but not routed"
        documented = set(item) & HTTP_METHODS
        assert documented <= routes[path], (path, documented - routes[path])


def test_every_api_v1_route_is_documented(spec_app, doc):
    for rule in spec_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = openapi_path(rule.rule)
        assert path in doc["paths"], f"{rule.rule} ({rule.endpoint}) is not documented"
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        missing = methods - set(doc["paths"][path])
        assert not missing, f"{rule.rule}: {sorted(missing)} not documented"


def test_every_operation_documents_the_error_envelope(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            refs = {ref for _w, ref in iter_refs(op["responses"])}
            assert "#/components/schemas/Error" in refs, f"{method.upper()} {path}"


def test_photo_operations_document_formats_and_errors(doc):
    item = doc["paths"]["/api/v1/photos/{sha256}"]
    upload, download = item["put"], item["get"]

    assert {"image/jpeg", "image/png", "image/webp"} <= set(upload["requestBody"]["content"])
    assert {"200", "201", "400", "413", "415", "422"} <= set(upload["responses"])
    assert {"200", "404"} <= set(download["responses"])
    assert "image/jpeg" in download["responses"]["200"]["content"]
    size = next(p for p in download.get("parameters", []) if p["name"] == "size")
    assert size["in"] == "query"
    assert set(size["schema"]["enum"]) == {"thumb", "display", "full"}
    for op in (upload, download):
        assert op.get("security"), "photo endpoints need the device token"


def test_authenticated_operations_declare_the_bearer_scheme(doc):
    schemes = doc["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())
    for path in ("/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/photos/{sha256}"):
        for method, op in doc["paths"][path].items():
            if method in HTTP_METHODS:
                assert op.get("security"), f"{method.upper()} {path} has no security"
    assert not doc["paths"]["/api/v1/enrol"]["post"].get("security")

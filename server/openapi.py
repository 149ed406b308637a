"""OpenAPI document generated from the marshmallow schemas and view docstrings."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from flask import Blueprint, current_app

from server.devices.schemas import EnrolIn, EnrolOut, WipedOut
from server.protocol.schemas import PhotoOut, PullOut, PushIn, PushOut, ReportInDoc

bp = Blueprint("openapi", __name__)

SCHEMAS = {
    "EnrolIn": EnrolIn,
    "EnrolOut": EnrolOut,
    "PushIn": PushIn,
    "PushOut": PushOut,
    "PullOut": PullOut,
    "PhotoOut": PhotoOut,
    "WipedOut": WipedOut,
}


def build_spec() -> dict[str, Any]:
    """Generate the OpenAPI 3 document for every /api/ route."""
    spec = APISpec(
        title="Lägesbild API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Sync protocol and device API. See docs/sync-protocol.md."},
    )
    spec.components.security_scheme("deviceToken", {"type": "http", "scheme": "bearer"})
    spec.components.schema(
        "Error",
        {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                    "required": ["code", "message"],
                }
            },
        },
    )
    spec.components.schema("ReportIn", schema=ReportInDoc)
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        if not operations:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for op in operations.values():
            op.setdefault("responses", {})["default"] = {
                "description": "Error envelope",
                "content": {"application/json": {"schema": "Error"}},
            }
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    """Serve the OpenAPI document."""
    return build_spec()

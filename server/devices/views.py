"""Enrolment endpoint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from marshmallow import ValidationError

from server.devices import service
from server.devices.schemas import EnrolIn, EnrolOut
from server.errors import ApiError
from server.http import json_body

bp = Blueprint("devices", __name__, url_prefix="/api/v1")
ENROL_MAX_BYTES = 4096  # an enrolment body is a code of a dozen characters


@bp.post("/enrol")
def enrol() -> tuple[dict[str, Any], int]:
    """Exchange a one-time enrolment code for a device token.
    ---
    post:
      summary: Enrol a device
      requestBody:
        required: true
        content: {application/json: {schema: EnrolIn}}
      responses:
        201: {description: Enrolled, content: {application/json: {schema: EnrolOut}}}
        400: {description: Unknown, used or expired code}
    """
    body = json_body(ENROL_MAX_BYTES, "enrolment request")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", 'The body must be {"code": "..."}.')
    try:
        data = EnrolIn().load(body, unknown="exclude")
    except ValidationError as exc:
        raise ApiError(
            400, "validation_error", "The enrolment code is missing.", exc.messages
        ) from exc
    enrolled = service.enrol_device(data["code"])
    device = {**_device_attrs(enrolled.device), "organisation": enrolled.organisation}
    out = {"token": enrolled.token, "device": device}
    return EnrolOut().dump(out), 201


def _device_attrs(device: Any) -> dict[str, Any]:
    """Read the dumpable attributes of a device."""
    return {"id": device.id, "display_name": device.display_name, "kind": device.kind}

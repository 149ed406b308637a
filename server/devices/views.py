"""Enrolment endpoint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from marshmallow import ValidationError

from server.audit.service import Actor
from server.devices import service
from server.devices.auth import current_device, device_required
from server.devices.schemas import EnrolIn, EnrolOut, WipedOut
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
        400: {description: "Unknown, used or expired code"}
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


@bp.post("/device/wiped")
@device_required
def wiped() -> tuple[dict[str, Any], int]:
    """Tell the server that the phone carried out the wipe its pull ordered.
    ---
    post:
      summary: Confirm a wipe (idempotent; without an order it changes nothing)
      description: >-
        Sent by the phone after a pull answered `wipe: true` and it deleted every report
        the server acknowledged, with their photos. The server records the time once; the
        next pull no longer carries the order. No request body.
      security: [{deviceToken: []}]
      responses:
        200: {description: Recorded, content: {application/json: {schema: WipedOut}}}
        401: {description: "Missing, unknown or revoked token"}
    """
    device = service.confirm_wiped(current_device(), Actor(client_address=request.remote_addr))
    out = {"wipe": service.wipe_pending(device), "wiped_at": device.wiped_at}
    return WipedOut().dump(out), 200


def _device_attrs(device: Any) -> dict[str, Any]:
    """Read the dumpable attributes of a device."""
    return {"id": device.id, "display_name": device.display_name, "kind": device.kind}

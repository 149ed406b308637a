"""Sync endpoints: push and pull."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from server.devices.auth import current_device, device_required
from server.devices.service import parse_pending, record_outbox
from server.errors import ApiError
from server.http import json_body
from server.reports.pull import pull as pull_changes
from server.reports.schemas import PullOut, PushOut
from server.reports.service import push as push_reports
from server.types import utcnow

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")


@bp.post("/push")
@device_required
def push() -> tuple[dict[str, Any], int]:
    """Push a batch of reports.
    ---
    post:
      summary: Push queued reports; each is validated and merged on its own
      security: [{deviceToken: []}]
      requestBody:
        required: true
        content: {application/json: {schema: PushIn}}
      responses:
        200:
          description: One result per report, in order
          content: {application/json: {schema: PushOut}}
        400: {description: Not JSON or no reports list}
        401: {description: Missing, unknown or revoked token}
        413: {description: Too many reports or too many bytes}
    """
    body = json_body(int(current_app.config["MAX_PUSH_BYTES"]), "push")
    reports = body.get("reports") if isinstance(body, dict) else None
    if not isinstance(reports, list):
        raise ApiError(400, "invalid_request", 'The body must be {"reports": [...]}.')
    limit = int(current_app.config["MAX_BATCH_REPORTS"])
    if len(reports) > limit:
        raise ApiError(
            413,
            "too_many_reports",
            f"A push may hold at most {limit} reports; send the rest in another request.",
            {"limit": limit, "received": len(reports)},
        )
    results = push_reports(current_device(), reports)
    return PushOut().dump({"results": results, "server_time": utcnow()}), 200


@bp.get("/pull")
@device_required
def pull() -> tuple[dict[str, Any], int]:
    """Pull the server-side changes to this device's reports.
    ---
    get:
      summary: Changes since a cursor; an unusable cursor gives a full resync
      security: [{deviceToken: []}]
      parameters:
        - {in: query, name: cursor, schema: {type: string}}
        - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 1000}}
        - in: query
          name: pending
          description: Reports waiting in the phone's outbox (shown in the morning digest)
          schema: {type: integer, minimum: 0, maximum: 1000000}
      responses:
        200: {description: Changes, content: {application/json: {schema: PullOut}}}
        400: {description: A pending count that is not a whole number 0–1000000}
        401: {description: Missing, unknown or revoked token}
    """
    limit = request.args.get("limit", type=int)
    device = current_device()
    pending = request.args.get("pending")
    if pending is not None:
        record_outbox(device, parse_pending(pending))
    data = pull_changes(device, request.args.get("cursor"), limit)
    return PullOut().dump(data), 200

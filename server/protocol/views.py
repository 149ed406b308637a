"""The device protocol's endpoints: push, pull, photo upload and download."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from server.devices.auth import current_device, device_required
from server.errors import ApiError
from server.http import json_body, read_body
from server.photos import service as photos
from server.photos.delivery import photo_response
from server.photos.models import Photo
from server.protocol.pullout import dump_pull
from server.protocol.pushauth import push_device_required
from server.protocol.schemas import PhotoOut
from server.protocol.service import answer_pull, receive_body
from server.rounds.wire import MAX_ROUND_RUNS, MAX_SCANS, check_skew
from sync.clock import utcnow
from sync.ids import is_sha256

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")
photos_bp = Blueprint("photos", __name__, url_prefix="/api/v1/photos")


@bp.post("/push")
@push_device_required
def push() -> tuple[dict[str, Any], int]:
    """Push a batch of reports, and guard round scans and runs.
    ---
    post:
      summary: >-
        Push queued reports, scans and round runs; each is validated and merged or stored
        on its own (docs/rounds.md for scans and round runs)
      security: [{deviceToken: []}]
      requestBody:
        required: true
        content: {application/json: {schema: PushIn}}
      responses:
        200:
          description: >-
            One result per report, in order; with scans or round_runs, one result per scan
            (scan_results) and per round run (round_run_results), in order
          content: {application/json: {schema: PushOut}}
        400:
          description: >-
            Not JSON, no reports list (nor scans or round_runs), scans or round_runs not a
            list, or a clock_skew_ms that is not a whole number of ms within a week
        401: {description: "Missing, unknown or revoked token"}
        413: {description: "Too many reports, scans (500) or round runs (50), or too many bytes"}
    """
    body = json_body(int(current_app.config["MAX_PUSH_BYTES"]), "push")
    reports = body.get("reports") if isinstance(body, dict) else None
    rounds_part = isinstance(body, dict) and ("scans" in body or "round_runs" in body)
    if reports is None and rounds_part:
        reports = []  # a push of scans alone
    if not isinstance(reports, list):
        raise ApiError(400, "invalid_request", 'The body must be {"reports": [...]}.')
    _limit(reports, int(current_app.config["MAX_BATCH_REPORTS"]), "reports")
    if rounds_part:
        _check_rounds_part(body)
    answer = receive_body(current_device(), reports, body)
    # The results are plain JSON already, shaped as PushOut describes; dumping them through
    # the schema again cost more than the JSON encoding of the answer.
    return {**answer, "server_time": utcnow().isoformat()}, 200


def _limit(items: list[Any], limit: int, what: str) -> None:
    """Refuse a push with more than `limit` items of a kind (413, as for reports)."""
    if len(items) > limit:
        raise ApiError(
            413,
            f"too_many_{what}",
            f"A push may hold at most {limit} {what.replace('_', ' ')}; send the rest in "
            "another request.",
            {"limit": limit, "received": len(items)},
        )


def _check_rounds_part(body: dict[str, Any]) -> None:
    """Check the shape of `scans`, `round_runs` and `clock_skew_ms` (items are checked alone)."""
    for key, limit in (("scans", MAX_SCANS), ("round_runs", MAX_ROUND_RUNS)):
        value = body.get(key)
        if value is not None and not isinstance(value, list):
            raise ApiError(400, "invalid_request", f"{key} must be a list.")
        _limit(value or [], limit, key)
    try:
        check_skew(body.get("clock_skew_ms"))
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from exc


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
        401: {description: "Missing, unknown or revoked token"}
    """
    args = request.args
    data = answer_pull(
        current_device(), args.get("cursor"), args.get("limit", type=int), args.get("pending")
    )
    return dump_pull(data), 200


def _sha(value: str) -> str:
    """Validate a SHA-256 path segment (hex in either case, as URLs get retyped)."""
    sha = value.lower()
    if not is_sha256(sha):
        raise ApiError(400, "invalid_sha256", "A photo is addressed by its SHA-256 in hex.")
    return sha


@photos_bp.put("/<sha256>")
@device_required
def upload(sha256: str) -> tuple[dict[str, object], int]:
    """Upload a photo's raw bytes under their SHA-256.
    ---
    put:
      summary: Upload a photo (idempotent; a second upload of the same hash is a no-op)
      security: [{deviceToken: []}]
      parameters:
        - {in: path, name: sha256, required: true, schema: {type: string}}
        - in: query
          name: redacted
          schema: {type: string, enum: ["0", "1"], default: "0"}
          description: >-
            1 when the phone blacked out parts of the photo before storing it (the original
            never left the phone); the workspace labels such a photo. Recorded with a new
            photo only: a re-upload of a stored hash keeps the stored flag.
      requestBody:
        required: true
        content:
          image/jpeg: {schema: {type: string, format: binary}}
          image/png: {schema: {type: string, format: binary}}
          image/webp: {schema: {type: string, format: binary}}
      responses:
        200: {description: Already stored, content: {application/json: {schema: PhotoOut}}}
        201: {description: Stored, content: {application/json: {schema: PhotoOut}}}
        400: {description: "Hash mismatch, empty body or a malformed hash"}
        401: {description: "Missing, unknown or revoked token"}
        413: {description: Too large (bytes or pixels)}
        415: {description: "Not JPEG, PNG or WebP"}
        422: {description: Damaged image}
        429:
          description: >-
            The device's photo quota for the day is used up (error code `photo_quota`,
            LAGESBILD_PHOTO_QUOTA_BYTES_PER_DAY, counted per Stockholm calendar day). The
            message says so in words a user understands; `details` holds `limit_bytes`,
            `used_bytes` and `resets_at` (local midnight). Keep the photo and upload it again
            after Retry-After seconds. A photo already stored is never refused (200).
          headers:
            Retry-After:
              description: Seconds until the quota starts afresh (local midnight)
              schema: {type: integer}
        503: {description: The database is unreachable or restarting; nothing was stored}
        507:
          description: >-
            The server's disk has no room for the photo (error code `storage_full`); nothing
            was stored. Keep the photo and upload it again later; the report itself is
            pushed as usual.
          headers:
            Retry-After:
              description: Seconds to wait before trying again
              schema: {type: integer}
    """
    limit = int(current_app.config["MAX_PHOTO_BYTES"])
    redacted = request.args.get("redacted") == "1"
    photo, created = photos.receive_upload(
        current_device(), _sha(sha256), lambda: read_body(limit, "photo"), redacted=redacted
    )
    return PhotoOut().dump({**_attrs(photo), "created": created}), 201 if created else 200


def _attrs(photo: Photo) -> dict[str, object]:
    """Read the dumpable attributes of a photo row."""
    keys = ("sha256", "source_format", "width", "height", "bytes")
    return {k: getattr(photo, k) for k in keys}


@photos_bp.get("/<sha256>")
@device_required
def download(sha256: str) -> Response:
    """Download a stored photo (thumb, display or full).
    ---
    get:
      summary: Download one of the device's photos, re-encoded without metadata
      security: [{deviceToken: []}]
      parameters:
        - {in: path, name: sha256, required: true, schema: {type: string}}
        - {in: query, name: size, schema: {type: string, enum: [thumb, display, full]}}
      responses:
        200: {description: JPEG image, content: {image/jpeg: {}}}
        400: {description: Malformed hash or unknown size}
        401: {description: "Missing, unknown or revoked token"}
        404: {description: Unknown or not visible to this device}
    """
    size = request.args.get("size", "display")
    path = photos.file_for_device(current_device(), _sha(sha256), size)
    return photo_response(path)

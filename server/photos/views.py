"""Photo upload and download endpoints."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request, send_file

from server.db import phase
from server.devices.auth import current_device, device_required
from server.errors import ApiError
from server.http import read_body
from server.photos import service
from server.photos.models import Photo
from server.photos.schemas import PhotoOut

bp = Blueprint("photos", __name__, url_prefix="/api/v1/photos")
_SHA_RE = re.compile(r"[0-9a-fA-F]{64}")
# Served photos may never run anything, even if a browser were tricked into rendering one.
PHOTO_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _sha(value: str) -> str:
    """Validate a SHA-256 path segment."""
    if not _SHA_RE.fullmatch(value):
        raise ApiError(400, "invalid_sha256", "A photo is addressed by its SHA-256 in hex.")
    return value.lower()


@bp.put("/<sha256>")
@device_required
def upload(sha256: str) -> tuple[dict[str, object], int]:
    """Upload a photo's raw bytes under their SHA-256.
    ---
    put:
      summary: Upload a photo (idempotent; a second upload of the same hash is a no-op)
      security: [{deviceToken: []}]
      parameters:
        - {in: path, name: sha256, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          image/jpeg: {schema: {type: string, format: binary}}
          image/png: {schema: {type: string, format: binary}}
          image/webp: {schema: {type: string, format: binary}}
      responses:
        200: {description: Already stored, content: {application/json: {schema: PhotoOut}}}
        201: {description: Stored, content: {application/json: {schema: PhotoOut}}}
        400: {description: Hash mismatch, empty body or a malformed hash}
        401: {description: Missing, unknown or revoked token}
        413: {description: Too large (bytes or pixels)}
        415: {description: Not JPEG, PNG or WebP}
        422: {description: Damaged image}
    """
    device = current_device()
    sha = _sha(sha256)
    with phase("read"):
        existing = service.find(device.org_id, sha)
    if existing is not None:
        # Cheap no-op: the body is not even read.
        return PhotoOut().dump({**_attrs(existing), "created": False}), 200
    # Reading a slow upload and re-encoding it happen with no transaction open, so a phone
    # on a bad connection never holds the database's write lock.
    data = read_body(int(current_app.config["MAX_PHOTO_BYTES"]), "photo")
    photo, created = service.save_upload(device, sha, data)
    return PhotoOut().dump({**_attrs(photo), "created": created}), 201 if created else 200


def _attrs(photo: Photo) -> dict[str, object]:
    """Read the dumpable attributes of a photo row."""
    keys = ("sha256", "source_format", "width", "height", "bytes")
    return {k: getattr(photo, k) for k in keys}


@bp.get("/<sha256>")
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
        401: {description: Missing, unknown or revoked token}
        404: {description: Unknown or not visible to this device}
    """
    device = current_device()
    photo = service.find(device.org_id, _sha(sha256))
    if photo is None or not service.device_may_see(device, photo):
        raise ApiError(404, "not_found", "No such photo.")
    path = service.file_for(photo, request.args.get("size", "display"))
    if not path.is_file():
        raise ApiError(404, "not_found", "The photo's file is missing on the server.")
    resp = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = PHOTO_CSP
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp

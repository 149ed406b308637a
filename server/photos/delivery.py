"""Send a stored photo to a client: the file itself, an nginx X-Accel-Redirect, or a stream.

With `LAGESBILD_PHOTO_ACCEL_PREFIX` set (deploy/nginx/lagesbild.conf), the app still decides
who may see a photo, then answers with no body and `X-Accel-Redirect: <prefix>/<org>/…`; nginx
serves the file from an `internal` location that aliases the photo directory, so a worker
is not held while a slow phone downloads a full-size photo. With S3 storage the app streams
the object after the same access check (the configuration refuses an accel prefix there).
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, current_app, request, send_file

from server.domain_errors import NotFound
from server.http import PHOTO_CSP
from server.photos.service import PhotoRef, storage_unavailable, store
from server.photos.storage import PhotoStore, StorageUnavailable

# A photo is the viewer's own (reports are private): never kept by a shared cache.
PHOTO_CACHE = "private, max-age=3600"
_CHUNK = 64 * 1024


def photo_response(ref: PhotoRef) -> Response:
    """Answer with one stored size of a photo the caller may see, with safe headers."""
    photos = store()
    # nginx or send_file for files on this host; a stream from the bucket for S3.
    local = isinstance(photos, PhotoStore)
    resp = _file_response(photos, ref) if local else _stream_response(ref)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were tricked into rendering a photo as a page, it runs nothing.
    resp.headers["Content-Security-Policy"] = PHOTO_CSP
    resp.headers["Cache-Control"] = PHOTO_CACHE
    return resp


def _file_response(photos: PhotoStore, ref: PhotoRef) -> Response:
    """Send the file, or hand it to nginx when an accel prefix is configured."""
    path = photos.path(ref.org_id, ref.sha256, ref.variant)
    prefix = str(current_app.config.get("PHOTO_ACCEL_PREFIX") or "")
    if not prefix:
        return send_file(path, mimetype="image/jpeg", conditional=True)
    # The path under the store's photos/ directory: <org_id>/<sha[:2]>/<sha>-<size>.jpg.
    # Not resolved: photos/ may be a link to another disk, which nginx's alias follows.
    relative = path.relative_to(photos.root / "photos")
    resp = Response(b"", mimetype="image/jpeg")
    resp.headers["X-Accel-Redirect"] = f"{prefix}/{relative.as_posix()}"
    return resp


def _stream_response(ref: PhotoRef) -> Response:
    """Stream the object from the bucket in chunks (a full-size photo is never held whole)."""
    try:
        body = store().open(ref.org_id, ref.sha256, ref.variant)
    except StorageUnavailable as exc:
        raise storage_unavailable(exc) from exc
    if body is None:  # deleted between the access check and now (a purge)
        raise NotFound("not_found", "The photo's file is missing on the server.")

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := body.read(_CHUNK):
                yield chunk
        finally:
            body.close()

    resp = Response(chunks(), mimetype="image/jpeg", direct_passthrough=True)
    # Content-addressed: the hash and size name the bytes for ever, a perfect validator.
    resp.set_etag(f"{ref.sha256}-{ref.variant}")
    return resp.make_conditional(request)

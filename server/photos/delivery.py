"""Send a stored photo to a client: the file itself, or an nginx X-Accel-Redirect to it.

With `LAGESBILD_PHOTO_ACCEL_PREFIX` set (deploy/nginx/lagesbild.conf), the app still decides
who may see a photo, then answers with no body and `X-Accel-Redirect: <prefix>/<org>/…`; nginx
serves the file from an `internal` location that aliases the photo directory, so a worker
is not held while a slow phone downloads a full-size photo.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, send_file

from server.http import PHOTO_CSP
from server.photos.service import store

# A photo is the viewer's own (reports are private): never kept by a shared cache.
PHOTO_CACHE = "private, max-age=3600"


def photo_response(path: Path) -> Response:
    """Answer with the photo at `path` (a file under the photo store), with safe headers."""
    prefix = str(current_app.config.get("PHOTO_ACCEL_PREFIX") or "")
    if prefix:
        # The path under the store's photos/ directory: <org_id>/<sha[:2]>/<sha>-<size>.jpg.
        # Not resolved: photos/ may be a link to another disk, which nginx's alias follows.
        relative = path.relative_to(store().root / "photos")
        resp = Response(b"", mimetype="image/jpeg")
        resp.headers["X-Accel-Redirect"] = f"{prefix}/{relative.as_posix()}"
    else:
        resp = send_file(path, mimetype="image/jpeg", conditional=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were tricked into rendering a photo as a page, it runs nothing.
    resp.headers["Content-Security-Policy"] = PHOTO_CSP
    resp.headers["Cache-Control"] = PHOTO_CACHE
    return resp

"""Serve the field app (static files under pwa/) at the site root, its service worker, and
the few npm files it loads from /vendor/: the face detector of the redaction editor (on
demand) and the QR decoder of the guard rounds' scanner (precached, server/pwa_manifest.py)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_file, send_from_directory
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter

from server.pwa_manifest import precache

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

# The face detector of the redaction editor (pwa/faces.js): code and model weights from the
# npm package @vladmandic/face-api (package.json), served from the app's own origin and
# fetched only when a reporter asks for face suggestions. jsQR (npm package jsqr) decodes QR
# codes where the browser has no BarcodeDetector (pwa/qr-decode.js). Nothing else.
VENDOR_FILES: dict[str, dict[str, str]] = {
    "face-api": {
        "dist/face-api.esm.js": "text/javascript",
        "model/tiny_face_detector_model-weights_manifest.json": "application/json",
        "model/tiny_face_detector_model.bin": "application/octet-stream",
    },
    "jsqr": {"dist/jsQR.js": "text/javascript"},
}
VENDOR_PACKAGES = {"face-api": "@vladmandic/face-api", "jsqr": "jsqr"}

bp = Blueprint("pwa", __name__)

# The field app runs only its own files: no inline script or style, no other origin, no
# framing. Photos are shown from blob: URLs (and data: for any small inline image).
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    )
)


class AppPath(PathConverter):
    """Match any path except the API's and the workspace's, so their 404s and 405s stay theirs."""

    regex = r"(?!(?:api|workspace)(?:/|$))[^/].*?"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("apppath", AppPath)


@bp.get("/")
def index() -> Response:
    """Serve the app shell."""
    return _send("index.html")


@bp.get("/sw.js")
def service_worker() -> Response:
    """Serve pwa/sw.js with its generated precache list and version on the first line."""
    source = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    resp = Response(precache(PWA_DIR).js_line() + source, mimetype="text/javascript")
    # The browser must always ask whether the worker changed: that is how a deploy arrives.
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Service-Worker-Allowed"] = "/"
    _secure(resp)
    return resp


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """Serve a whitelisted file of an npm package the field app loads on demand."""
    mimetype = VENDOR_FILES.get(package, {}).get(filename)
    if mimetype is None:
        abort(404)
    root = Path(current_app.config.get("NODE_MODULES_DIR") or NODE_MODULES)
    path = root / VENDOR_PACKAGES[package] / filename
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=mimetype, conditional=True, max_age=86400)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return _secure(resp)


@bp.get("/<apppath:filename>")
def asset(filename: str) -> Response:
    """Serve a static file of the app; the API has its own prefix."""
    if filename.endswith(".py"):
        abort(404)  # build scripts (the icon generator) live beside the app, not in it
    return _send(filename)


def _send(filename: str) -> Response:
    """Send a file from pwa/ with safe headers."""
    return _secure(send_from_directory(PWA_DIR, filename, max_age=0))


def _secure(resp: Response) -> Response:
    """Add the headers every file of the app carries (the worker's policy governs its fetches)."""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Content-Security-Policy"] = CSP
    return resp

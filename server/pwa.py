"""Serve the field app (static files under pwa/) at the site root."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

bp = Blueprint("pwa", __name__)


@bp.get("/")
def index() -> Response:
    """Serve the app shell."""
    return _send("index.html")


@bp.get("/<path:filename>")
def asset(filename: str) -> Response:
    """Serve a static file of the app; the API has its own prefix."""
    if filename.startswith("api/"):
        abort(404)
    return _send(filename)


def _send(filename: str) -> Response:
    """Send a file from pwa/ with safe headers."""
    resp = send_from_directory(PWA_DIR, filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp

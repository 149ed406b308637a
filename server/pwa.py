"""Serve the field app (static files under pwa/) at the site root."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"

bp = Blueprint("pwa", __name__)


class AppPath(PathConverter):
    """Match any path except the API's, so API 404s and 405s stay the API's own."""

    regex = r"(?!api(?:/|$))[^/].*?"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("apppath", AppPath)


@bp.get("/")
def index() -> Response:
    """Serve the app shell."""
    return _send("index.html")


@bp.get("/<apppath:filename>")
def asset(filename: str) -> Response:
    """Serve a static file of the app; the API has its own prefix."""
    return _send(filename)


def _send(filename: str) -> Response:
    """Send a file from pwa/ with safe headers."""
    resp = send_from_directory(PWA_DIR, filename, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp

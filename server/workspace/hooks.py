"""What every workspace request shares: login and CSRF checks, headers, template helpers."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    has_request_context,
    render_template,
    request,
)
from flask.blueprints import BlueprintSetupState
from flask_wtf.csrf import CSRFError
from jinja2 import TemplateError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from analysis.calendar import STOCKHOLM
from server.errors import register_html_errors
from server.extensions import csrf
from server.workspace import bp, service
from server.workspace.auth import (
    can_edit,
    client_address,
    forget_request_state,
    home_url,
    may,
    reads_free_text,
    refusal,
    to_login,
    user,
)
from server.workspace.i18n import current_lang, lang_url, remember_lang, t

log = logging.getLogger("lagesbild.workspace")

# Pages run only the workspace's own scripts; inline style attributes are allowed (bar
# widths, map sizes), inline scripts are not. A view may set its own policy instead.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Pages with a map allow their tile server's origin too (server.workspace.tiles.map_csp).
# Workspace forms are small: a comment is at most a few kB.
MAX_BODY = 256 * 1024
# Forms that carry a photo (an action's after-photo) take a photo's size on top.
UPLOAD_ENDPOINTS = frozenset({"workspace.action_status"})
# Error titles and explanations per status (catalog keys).
ERROR_KEYS = {
    400: ("error.400.title", "error.400.text"),
    403: ("error.403.title", "error.403.text"),
    404: ("error.404.title", "error.404.text"),
    405: ("error.405.title", "error.405.text"),
    413: ("error.413.title", "error.413.text"),
}


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """Install the HTML error pages for /workspace and the template helpers."""
    app: Flask = state.app
    register_html_errors(app, "/workspace", render_error)
    app.jinja_env.globals.update(
        t=t,
        lang_url=lang_url,
        can_edit=can_edit,
        may=may,
        home_url=home_url,
        reads_free_text=reads_free_text,
        flashed_messages=flashed_messages,
    )
    app.jinja_env.filters["localtime"] = localtime


@bp.app_context_processor
def _context() -> dict[str, Any]:
    """Give every template the language and the logged-in person and organisation."""
    if not has_request_context():
        return {}
    me = user()
    return {
        "lang": current_lang(),
        "person": me.person if me else None,
        "org": me.org if me else None,
    }


@bp.before_app_request
def _fresh_request() -> None:
    """Start every request (error pages of unknown addresses too) without a cached login."""
    forget_request_state()


@bp.before_request
def _before() -> BaseResponse | None:
    """Refuse oversized or forged requests, and those the access table does not allow."""
    current_lang()
    limit = MAX_BODY
    if request.endpoint in UPLOAD_ENDPOINTS:
        limit += int(current_app.config["MAX_PHOTO_BYTES"])
    if (request.content_length or 0) > limit:
        return render_error(413)
    try:
        csrf.protect()
    except CSRFError:
        return render_error(400, "error.csrf")
    refused = refusal()
    if refused == "login":
        return to_login()
    if refused == "forbidden":
        return render_error(403, "error.read_only" if request.method == "POST" else None)
    return None


@bp.after_request
def _after(resp: Response) -> Response:
    """Add the workspace's security headers and remember a chosen language."""
    secure_headers(resp)
    return remember_lang(resp)


def secure_headers(resp: Response) -> Response:
    """Set the headers every workspace response carries (unless a view chose its own)."""
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Content-Security-Policy", CSP)
    if not request.path.startswith("/workspace/static/"):
        # Pages and exports hold personal-safety data: never in a shared cache or history.
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def render_error(status: int, message_key: str | None = None) -> Response:
    """Render the workspace's HTML error page (never the API's JSON envelope)."""
    title_key, text_key = ERROR_KEYS.get(status, ("error.500.title", "error.500.text"))
    try:
        html = render_template(
            "workspace/error.html",
            status=status,
            title=t(title_key),
            message=t(message_key or text_key),
        )
    except (TemplateError, SQLAlchemyError):  # an error page must never fail itself
        log.exception("workspace error page failed")
        html = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
    resp = Response(html, status=status, mimetype="text/html")
    return secure_headers(resp)


def audit(action: str, target: str = "", owner: int | None = None) -> None:
    """Write to the audit log what the logged-in person viewed, exported or changed.

    When the item is another organisation's (`owner`, shared by agreement), the entry goes
    into the owner's log too: the owner answers for its reports and sees who read them.
    """
    me = user()
    if me is None:  # pragma: no cover - every audited view requires a login
        raise LookupError("nobody is logged in")
    service.record_audit(me.org.id, me.person.id, action, target, client_address())
    if owner is not None and owner != me.org.id:
        service.record_audit(owner, me.person.id, action, target, client_address())


def localtime(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored (UTC) time in Swedish local time."""
    if moment is None:
        return ""
    return moment.astimezone(STOCKHOLM).strftime(fmt)


def message(key: str, kind: str = "ok", **params: Any) -> None:
    """Flash a catalog message (translated when shown, so a language switch applies).

    `kind` is "ok" or "error"; the layout shows them above the page's content.
    """
    flash({"key": key, "params": {k: str(v) for k, v in params.items()}}, kind)


def flashed_messages() -> list[tuple[str, str]]:
    """Return (and consume) the flashed messages as (kind, text)."""
    out = []
    for kind, item in get_flashed_messages(with_categories=True):
        if isinstance(item, dict):
            out.append((kind, t(str(item.get("key")), **dict(item.get("params") or {}))))
    return out

"""One JSON error envelope for the whole API; HTML error pages for the browser parts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from server.domain_errors import (
    DomainError,
    Invalid,
    NotFound,
    QuotaExceeded,
    StorageFull,
    TooLarge,
    Unauthenticated,
    Unprocessable,
    UnsupportedMedia,
)
from server.extensions import db

# Messages for HTTP errors raised by the framework itself (routing, limits).
_HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request is too large."),
    415: ("unsupported_media_type", "This content type is not supported."),
    429: ("too_many_requests", "Too many requests; try again in a while."),
}


# The HTTP status of each kind of domain error (the most specific class wins).
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (Invalid, 400),
    (Unauthenticated, 401),
    (NotFound, 404),
    (TooLarge, 413),
    (UnsupportedMedia, 415),
    (Unprocessable, 422),
    (QuotaExceeded, 429),
    (StorageFull, 507),
)
# How long a client waits before it tries a write again after the disk was full (seconds).
STORAGE_FULL_RETRY_AFTER = "300"
# A device whose token is unknown or revoked is told so in the Bearer challenge (RFC 6750).
_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class ApiError(Exception):
    """An error a client can act on, rendered in the error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def envelope(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the error body: {"error": {"code", "message", "details"?}}."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render an error envelope as a response."""
    resp = jsonify(envelope(code, message, details))
    resp.status_code = status
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _wants_json() -> bool:
    """Tell whether the failing request is an API call."""
    return request.path.startswith("/api/")


# An HTML error page renderer: (status, message or None) -> response.
HtmlErrorPage = Callable[[int, str | None], Response]


def register_html_errors(app: Flask, prefix: str, render: HtmlErrorPage) -> None:
    """Render errors of requests under `prefix` (e.g. "/workspace") with `render`."""
    app.extensions.setdefault("html_error_pages", {})[prefix.rstrip("/")] = render


def _html_page() -> HtmlErrorPage | None:
    """Return the HTML error renderer responsible for the failing request's path, if any."""
    pages: dict[str, HtmlErrorPage] = current_app.extensions.get("html_error_pages", {})
    for prefix, render in pages.items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return render
    return None


def register_error_handlers(app: Flask) -> None:
    """Render ApiError, domain errors and HTTP errors of API requests in the envelope."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        status = next((code for kind, code in _DOMAIN_STATUS if isinstance(exc, kind)), 400)
        headers = _BEARER_CHALLENGE if isinstance(exc, Unauthenticated) else None
        if isinstance(exc, QuotaExceeded) and exc.retry_after is not None:
            headers = {"Retry-After": str(max(1, exc.retry_after))}
        if isinstance(exc, StorageFull):
            headers = {"Retry-After": STORAGE_FULL_RETRY_AFTER}
        return error_response(status, exc.code, exc.message, exc.details, headers)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> Response | HTTPException:
        if not _wants_json():
            page = _html_page()
            return page(413, None) if page else exc
        return error_response(413, "payload_too_large", "The request is too large.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if not _wants_json():
            page = _html_page()
            if page is None:
                return exc
            resp = page(exc.code or 500, None)
            if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
                resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
            return resp
        status = exc.code or 500
        code, message = _HTTP_MESSAGES.get(status, ("http_error", exc.description or ""))
        resp = error_response(status, code, message)
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return resp

    @app.errorhandler(OperationalError)
    def _busy(exc: OperationalError) -> Response:
        # SQLite's writer lock was held past the busy timeout (e.g. by an area import), or
        # the database server is down or restarting: either way nothing was acknowledged,
        # so the phone's retry loses nothing.
        if "database is locked" in str(exc.orig):
            code, message = "busy", "The server is busy; nothing was saved, try again shortly."
            retry_after = "30"
        elif database_unavailable(exc):
            code = "database_unavailable"
            message = "The database cannot be reached right now; try again shortly."
            retry_after = "5"
        else:
            raise exc
        db.session.rollback()
        if not _wants_json():
            return Response("Busy, try again in a minute.", 503, {"Retry-After": retry_after})
        return error_response(503, code, message, headers={"Retry-After": retry_after})

    @app.errorhandler(500)
    def _internal(_exc: Exception) -> Response:
        # Reached only for bugs: log them (Flask does) and keep the envelope.
        page = None if _wants_json() else _html_page()
        if page is not None:
            return page(500, None)
        return error_response(500, "internal_error", "Something went wrong on the server.")


# SQLSTATEs of a database server that is going away or not yet back: class 08 (connection
# exceptions) and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def database_unavailable(exc: OperationalError) -> bool:
    """Tell whether a database server (not SQLite) was unreachable, restarting or gone."""
    if db.engine.dialect.name == "sqlite":
        return False
    if exc.connection_invalidated:  # SQLAlchemy saw the connection die under a statement
        return True
    # A failed connect carries no SQLSTATE (refused, reset) or the server's startup or
    # shutdown refusal; any other state is a real error of the statement.
    state = getattr(exc.orig, "sqlstate", None)
    return state is None or str(state).startswith(_UNAVAILABLE_STATES)

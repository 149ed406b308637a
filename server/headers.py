"""Headers every response shares: nosniff everywhere, no-store on the API, HSTS over https."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# A year, subdomains included: once a browser has seen it, it never tries http again.
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the shared headers to every response; trust the configured proxies' scheme."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        # The scheme decides HSTS, and the client address keys the login brake: behind a
        # proxy every client would otherwise share the proxy's address, and 20 failures
        # anywhere would lock everyone out. Host and prefix stay as the socket gave them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )
    app.after_request(add_headers)


def is_api(path: str) -> bool:
    """Tell whether `path` belongs to the JSON API."""
    return path == "/api" or path.startswith("/api/")


def add_headers(resp: Response) -> Response:
    """Set nosniff, the API's no-store (unless a route chose its caching) and HSTS over https."""
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    if is_api(request.path) and "Cache-Control" not in resp.headers:
        # Answers hold reports, tokens and positions: never kept by a proxy or the browser.
        resp.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        # Never over plain http: there a man in the middle could pin the browser to it.
        resp.headers["Strict-Transport-Security"] = HSTS
    return resp

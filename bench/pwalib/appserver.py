"""The app on a freshly migrated SQLite file, served from a thread, counting its responses.

Every response body is counted as sent (the app does not compress) and as a gzip proxy in front
of it would send it (text types compressed at level 6 and level 1; images as they are). The
server can be stopped, which really cuts the network: the browser then only has its service
worker and its caches.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from server.app import create_app
from server.devices import service as devices
from server.orgs import service as orgs

# What a reverse proxy is usually configured to gzip (nginx `gzip_types` plus text/html).
COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
)


@dataclass
class Served:
    """One response as the server sent it."""

    method: str
    path: str
    status: int
    content_type: str
    body: int  # bytes of the body as sent (no compression in the app)
    gzip6: int  # the body as a gzip proxy would send it (level 6); images as they are
    gzip1: int  # the same at level 1 (nginx's default gzip_comp_level)
    bypassed_cache: bool  # the request said Cache-Control: no-cache (fetch cache "reload")
    sw_script: bool  # the browser fetching the service worker script itself
    dest: str  # Sec-Fetch-Dest ("serviceworker" also for the worker's static imports)

    @property
    def by_worker(self) -> bool:
        """Fetched for the service worker: its script, its imports, its precache."""
        return self.bypassed_cache or self.sw_script or self.dest == "serviceworker"

    @property
    def api(self) -> bool:
        """An API call (not part of the app shell)."""
        return self.path == "/api" or self.path.startswith("/api/")


def _gzip_size(body: bytes, content_type: str, level: int) -> int:
    if not body or not content_type.startswith(COMPRESSIBLE):
        return len(body)
    return len(gzip.compress(body, compresslevel=level, mtime=0))


class Counter:
    """WSGI middleware that records every response's size."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        self.records: list[Served] = []
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget what was counted so far."""
        with self._lock:
            self.records = []

    def snapshot(self) -> list[Served]:
        """The responses counted so far."""
        with self._lock:
            return list(self.records)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        headers = {k.lower(): v for k, v in seen.get("headers", [])}
        content_type = headers.get("content-type", "").split(";")[0].strip()
        record = Served(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO", ""),
            status=int(str(seen.get("status", "0")).split()[0]),
            content_type=content_type,
            body=len(body),
            gzip6=_gzip_size(body, content_type, 6),
            gzip1=_gzip_size(body, content_type, 1),
            bypassed_cache="no-cache" in environ.get("HTTP_CACHE_CONTROL", ""),
            sw_script=environ.get("HTTP_SERVICE_WORKER") == "script",
            dest=environ.get("HTTP_SEC_FETCH_DEST", ""),
        )
        with self._lock:
            self.records.append(record)
        return [body]


def prepare_app(tmp: Path) -> tuple[Flask, str]:
    """Migrate a fresh SQLite file, create an organisation and a device; return the app and
    the device's one-time enrolment code (what `lagesbild device enrol` prints)."""
    app = create_app(
        {
            "LAGESBILD_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'lagesbild.sqlite3'}",
            "DATA_DIR": str(tmp / "data"),
        }
    )
    with app.app_context():
        upgrade()
        org = orgs.create("Benchkommun")
        code = devices.issue_code(org, "Bänktelefon", "vaktare", 24).code
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    return app, code


class AppServer:
    """The app from a thread on 127.0.0.1; `stop()` closes the port and open connections."""

    def __init__(self, app: Flask) -> None:
        self.counter = Counter(app.wsgi_app)
        app.wsgi_app = self.counter  # type: ignore[method-assign]
        self.app = app
        self._connections: list[socket.socket] = []
        server = make_server("127.0.0.1", 0, app, threaded=True)
        accept = server.get_request

        def get_request() -> tuple[socket.socket, Any]:
            conn, addr = accept()
            self._connections.append(conn)
            return conn, addr

        server.get_request = get_request  # type: ignore[method-assign]
        self._server: BaseWSGIServer | None = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = self.url
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut kept-alive connections: the network is gone."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for conn in self._connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._connections.clear()
        self._thread.join(timeout=10)
        self._server = None

    def reachable(self) -> bool:
        """Whether anything still answers on the port."""
        port = int(self.url.rsplit(":", 1)[1])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return False
        return True

"""Browser fixtures: a live server on a migrated SQLite copy and Debian's Chromium."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from server.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The machine's network is closed: no background fetches, no component updates.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Playwright's wait_for_function builds its predicate with eval, which a page whose policy
# forbids 'unsafe-eval' (the field app's and the workspace's) refuses; page.evaluate is not
# subject to the page's policy, so wait_until polls inside one evaluate instead.
_WAIT_UNTIL = """async ([timeout, every]) => {{
    const check = async () => ({expression});
    const end = performance.now() + timeout;
    while (!(await check())) {{
        if (performance.now() > end) throw new Error("timed out waiting for: " + {quoted});
        await new Promise((resolve) => setTimeout(resolve, every));
    }}
}}"""


def wait_until(page: Page, expression: str, timeout_ms: int = 15000, every_ms: int = 50) -> None:
    """Wait until a JavaScript expression (it may use await) is truthy in the page."""
    source = _WAIT_UNTIL.format(expression=expression, quoted=json.dumps(expression))
    page.evaluate(source, [timeout_ms, every_ms])


@dataclass
class LiveServer:
    """A running app and its base URL."""

    app: Flask
    url: str


def _browser_app(sqlite_template: Path, tmp_path: Path) -> Flask:
    """Create an app on a fresh copy of the migrated template database."""
    db_path = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, db_path)
    return create_app(
        {
            "TESTING": True,
            "LAGESBILD_ENV": "testing",
            "SECRET_KEY": "browser-test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "DATA_DIR": str(tmp_path / "data"),
        }
    )


@pytest.fixture
def live_server(stoppable_server: StoppableServer) -> LiveServer:
    """Serve the app on a free port from a thread, on a fresh copy of the database."""
    return stoppable_server


class StoppableServer(LiveServer):
    """A live server that a test can stop (connection refused, as with no network) and restart
    on the same port, so the browser's origin and its service worker stay the same."""

    def __init__(self, app: Flask) -> None:
        self._port = 0
        self._connections: list[socket.socket] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        super().__init__(app, "")
        self.start()

    def start(self) -> None:
        """Listen again (on the same port after a stop)."""
        server = make_server("127.0.0.1", self._port, self.app, threaded=True)
        accept = server.get_request

        def get_request() -> tuple[socket.socket, object]:
            conn, addr = accept()
            self._connections.append(conn)
            return conn, addr

        server.get_request = get_request  # type: ignore[method-assign]
        self._port = server.server_port
        self.url = f"http://127.0.0.1:{self._port}"
        self.app.config["BASE_URL"] = self.url
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut the browser's kept-alive connections too."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for conn in self._connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                conn.shutdown(socket.SHUT_RDWR)
        self._connections.clear()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None


@pytest.fixture
def stoppable_server(sqlite_template: Path, tmp_path: Path) -> Iterator[StoppableServer]:
    """Like `live_server`, but with `stop()` and `start()` to take the network away."""
    server = StoppableServer(_browser_app(sqlite_template, tmp_path))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium once per session (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Open a fresh browser context (own storage) and page, in Swedish."""
    context = browser.new_context(locale="sv-SE")
    yield context.new_page()
    context.close()

"""(a) What the first visit transfers: the app shell, the service worker's precache, the API.

A fresh Chromium profile opens the enrolment link (a phone's first visit) and stays until the
service worker controls the page (its precache is complete), the tiles are shown and the first
pull is done. The server counts every response body as sent and as a gzip proxy would send it;
Chromium reports the response header bytes it received (CDP encodedDataLength, through
Playwright's `Request.sizes()`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Playwright

from bench.pwalib.appserver import AppServer, Served
from bench.pwalib.common import CHROMIUM, CHROMIUM_ARGS, BenchError

CONTROLLED = "navigator.serviceWorker.controller !== null"
PULLED = """async () => {
    const store = await import('/store.js');
    return (await store.getMeta('cursor')) != null;
}"""


@dataclass
class Part:
    """A group of responses of the first visit."""

    name: str
    responses: list[Served]
    header_bytes: int = 0  # as Chromium received them (HTTP/1.1 from the bench server)

    @property
    def count(self) -> int:
        return len(self.responses)

    @property
    def raw(self) -> int:
        return sum(r.body for r in self.responses)

    @property
    def gzip6(self) -> int:
        return sum(r.gzip6 for r in self.responses)

    @property
    def gzip1(self) -> int:
        return sum(r.gzip1 for r in self.responses)


@dataclass
class FirstVisit:
    """Everything the first visit fetched, grouped."""

    page: Part  # the page's own load (document, modules, catalog, manifest, icon)
    precache: Part  # the service worker script, its imports and its install-time precache
    api: Part  # enrolment, categories, the first pull
    unique_shell: Part  # one copy of each shell file (what a warm HTTP cache would hold)
    browser_wire_bytes: int  # Chromium's own total (headers + bodies as sent, uncompressed)
    seconds: float
    details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shell(self) -> Part:
        """Every non-API response of the first visit (page load + precache)."""
        return Part(
            "shell",
            self.page.responses + self.precache.responses,
            self.page.header_bytes + self.precache.header_bytes,
        )

    @property
    def headline(self) -> int:
        """Shell bytes transferred on the first visit, compressed: gzip-6 bodies + headers."""
        return self.shell.gzip6 + self.shell.header_bytes


def _wait_quiet(server: AppServer, quiet_s: float = 0.5, limit_s: float = 15.0) -> None:
    """Wait until no new response was counted for `quiet_s` (the visit has settled)."""
    deadline = time.monotonic() + limit_s
    last = -1
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        count = len(server.counter.snapshot())
        if count != last:
            last, stable_since = count, time.monotonic()
        elif time.monotonic() - stable_since >= quiet_s:
            return
        time.sleep(0.05)
    raise BenchError("the first visit did not settle within 15 s")


def first_visit(pw: Playwright, profile: Path, server: AppServer, code: str) -> FirstVisit:
    """Open the enrolment link in a fresh profile; count what was transferred."""
    server.counter.reset()
    context = pw.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="sv-SE"
    )
    requests = []
    context.on("requestfinished", lambda request: requests.append(request))
    try:
        page = context.pages[0] if context.pages else context.new_page()
        started = time.perf_counter()
        page.goto(f"{server.url}/#enrol={code}")
        page.wait_for_function(CONTROLLED, timeout=30000)
        page.locator("#tiles button").first.wait_for(state="visible", timeout=30000)
        page.wait_for_function(PULLED, polling=100, timeout=30000)
        seconds = time.perf_counter() - started
        _wait_quiet(server)
        sizes = [(r, r.sizes()) for r in requests]
    finally:
        context.close()

    records = server.counter.snapshot()
    prefix = server.url
    page_headers = precache_headers = api_headers = 0
    wire = 0
    for request, size in sizes:
        wire += size["responseHeadersSize"] + max(size["responseBodySize"], 0)
        path = request.url[len(prefix) :].split("?")[0].split("#")[0] or "/"
        if path.startswith("/api/"):
            api_headers += size["responseHeadersSize"]
        elif request.service_worker is not None:
            precache_headers += size["responseHeadersSize"]
        else:
            page_headers += size["responseHeadersSize"]
    page = [r for r in records if not r.api and not r.by_worker]
    precache = [r for r in records if not r.api and r.by_worker]
    api = [r for r in records if r.api]
    unique: dict[str, Served] = {}
    for r in page + precache:
        if r.status == 200:
            unique.setdefault(r.path, r)
    return FirstVisit(
        page=Part("page load", page, page_headers),
        precache=Part("service worker + precache", precache, precache_headers),
        api=Part("API (enrol, categories, pull)", api, api_headers),
        unique_shell=Part("one copy of each shell file", list(unique.values())),
        browser_wire_bytes=wire,
        seconds=seconds,
        details=[
            {
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "raw": r.body,
                "gzip6": r.gzip6,
                "by": "worker" if r.by_worker else "page",
            }
            for r in records
        ],
    )

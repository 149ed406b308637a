"""(b) Offline cold start: a fresh browser process on the enrolled profile, no network, to the
"new report" tiles visible and clickable.

Each run launches Chromium anew on the same profile (as a phone whose browser was killed),
with the server stopped (connection refused: the service worker's own fetches fail too) and the
browser offline. An init script, installed before the navigation, watches the DOM and notes
`performance.now()` (milliseconds since the navigation started) when the first tile is in the
document, visible (laid out, not hidden) and enabled, and again after the next frame (painted).

The baseline is the same fresh-browser cold start of an empty HTML page with one button, from a
file:// URL in its own profile: what any page costs before the app does anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Playwright

from bench.pwalib.common import CHROMIUM, CHROMIUM_ARGS, BenchError

WATCH_TILES = """(() => {
    const SELECTOR = %s;
    const ready = () => {
        const el = document.querySelector(SELECTOR);
        return !!el && !el.disabled && el.checkVisibility() && el.getBoundingClientRect().width > 0;
    };
    const mark = () => {
        window.__bench = { ready: performance.now() };
        const painted = () => { window.__bench.painted = performance.now(); };
        requestAnimationFrame(() => setTimeout(painted));
    };
    const observer = new MutationObserver(() => {
        if (window.__bench || !ready()) return;
        observer.disconnect();
        mark();
    });
    observer.observe(document, { subtree: true, childList: true, attributes: true });
})();"""

NAV_TIMING = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd,
             fromWorker: nav.workerStart > 0, ...window.__bench };
}"""


@dataclass
class ColdStarts:
    """Per-run figures in milliseconds."""

    launch: list[float] = field(default_factory=list)  # starting the browser process
    response_end: list[float] = field(default_factory=list)  # document from the worker's cache
    dom_content_loaded: list[float] = field(default_factory=list)
    ready: list[float] = field(default_factory=list)  # first tile visible and enabled
    painted: list[float] = field(default_factory=list)  # ... and the next frame
    goto_to_ready: list[float] = field(default_factory=list)  # measured from Python
    served_by_worker: list[bool] = field(default_factory=list)


def cold_starts(
    pw: Playwright, profile: Path, url: str, runs: int, selector: str, offline: bool = True
) -> ColdStarts:
    """Launch the browser `runs` times on `profile` and open `url`; time the tiles."""
    out = ColdStarts()
    script = WATCH_TILES % repr(selector)
    for _ in range(runs):
        t0 = time.perf_counter()
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="sv-SE", offline=offline
        )
        try:
            out.launch.append((time.perf_counter() - t0) * 1000)
            context.add_init_script(script)
            page = context.pages[0] if context.pages else context.new_page()
            t1 = time.perf_counter()
            page.goto(url, wait_until="commit", timeout=30000)
            page.wait_for_function("window.__bench && window.__bench.painted", polling="raf")
            out.goto_to_ready.append((time.perf_counter() - t1) * 1000)
            timing = page.evaluate(NAV_TIMING)
        except Exception as exc:  # any failure here is a failed run
            raise BenchError(f"cold start of {url} failed: {exc}") from exc
        finally:
            context.close()
        out.response_end.append(timing["responseEnd"])
        out.dom_content_loaded.append(timing["domContentLoaded"])
        out.ready.append(timing["ready"])
        out.painted.append(timing["painted"])
        out.served_by_worker.append(bool(timing["fromWorker"]))
    return out


def baseline_page(folder: Path) -> Path:
    """An empty HTML page with one button, as a file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "empty.html"
    path.write_text(
        '<!doctype html><html lang="sv"><meta charset="utf-8"><title>Tom</title>'
        '<button type="button" id="b">Tom</button></html>\n',
        encoding="utf-8",
    )
    return path

"""Taps to a saved report, and the offline cold start: the figures docs/benchmarks.md records.

Each flow is the list of taps a user makes (FLOWS below: change a flow there when the UI gains
or loses a step). The page counts the taps itself (trusted pointerdown events, so a helper
cannot miscount), and a flow only counts once the report is in the outbox. The cold start is
a reload of a page the service worker controls, with the server stopped: the time from
navigation start until the category tiles show. Run with `-s` to see the `TAPS:` line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import wait_until
from tests.browser.test_report_form import CONTROLLED, TIMEOUT_MS, _enrol

# The page counts taps and notes when the tiles first show (before any of the app's scripts).
COUNTER = """
window.__taps = 0;
document.addEventListener('pointerdown', (e) => { if (e.isTrusted) window.__taps += 1; }, true);
new MutationObserver((_, observer) => {
  const section = document.getElementById('new-report');
  if (section && !section.hidden && document.querySelector('#tiles button')) {
    window.__tilesAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true, attributes: true});
"""
MAXIMA = {"quick": 2, "photo": 4, "calm": 1}


def _quick(page: Page, _photo: Path) -> None:
    page.get_by_role("button", name="Skadegörelse", exact=True).click()
    page.get_by_role("button", name="Spara").click()


def _with_photo(page: Page, photo: Path) -> None:
    page.get_by_role("button", name="Brand", exact=True).click()
    with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
        # The camera's shutter is not ours. Tapped at its left end: the Brand tile was on the
        # right, and a tap at the same spot within 700 ms is taken for a double tap.
        page.get_by_text("Ta foto", exact=True).click(position={"x": 16, "y": 16})
    chooser.value.set_files(photo)
    page.get_by_role("dialog").get_by_role("button", name="Klar").click()
    expect(page.locator("#photo-list img")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Spara").click()


def _calm(page: Page, _photo: Path) -> None:
    page.get_by_role("button", name="Lugnt pass").click()


FLOWS: dict[str, Callable[[Page, Path], None]] = {
    "quick": _quick,
    "photo": _with_photo,
    "calm": _calm,
}


def _saved(page: Page) -> int:
    return page.evaluate(
        "async () => (await import('/store.js')).listReports().then((r) => r.length)"
    )


def _taps_to_save(page: Page, flow: Callable[[Page, Path], None], photo: Path) -> int:
    """Run one flow and return its taps, once the report is in the outbox."""
    before = _saved(page)
    page.evaluate("window.__taps = 0")
    flow(page, photo)
    wait_until(page, f"(await (await import('/store.js')).listReports()).length > {before}")
    return page.evaluate("window.__taps")


def test_taps_to_a_saved_report_and_the_offline_cold_start(stoppable_server, page, tmp_path):
    photo = tmp_path / "shot.png"
    Image.new("RGB", (640, 480), (40, 90, 160)).save(photo, "PNG")
    page.add_init_script(COUNTER)
    _enrol(stoppable_server, page)

    taps = {name: _taps_to_save(page, flow, photo) for name, flow in FLOWS.items()}

    wait_until(page, CONTROLLED, TIMEOUT_MS)
    stoppable_server.stop()
    page.reload()
    wait_until(page, "window.__tilesAt !== undefined", TIMEOUT_MS)
    cold_ms = round(page.evaluate("window.__tilesAt"))
    assert page.evaluate("navigator.serviceWorker.controller !== null")  # served by the worker
    print(
        f"\nTAPS: quick={taps['quick']} photo={taps['photo']} calm={taps['calm']} "
        f"offline_cold_start_ms={cold_ms}"
    )
    over = {name: taps[name] for name, most in MAXIMA.items() if taps[name] > most}
    assert over == {}, f"more taps than intended: {over}"
    assert taps["calm"] == 1
    assert 0 < cold_ms < TIMEOUT_MS

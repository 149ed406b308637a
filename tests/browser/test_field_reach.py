"""The field app on small phones: "Lugnt pass" in reach and with its position, tiles whose
labels fit at 320 px, and a revoked screen that speaks of exporting only when there is
something to export. Every wait is bounded, never a sleep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from server.devices import service as devices
from server.devices.models import Device
from server.extensions import db
from server.reports.models import Report
from tests.browser.test_report_form import ON_SERVER, TIMEOUT_MS, _enrol, _states

STATIONEN = {"latitude": 55.64051, "longitude": 13.20662, "accuracy": 15}
# A position request that never answers (a permission prompt left open, no satellites).
SILENT_GPS = """
navigator.geolocation.getCurrentPosition = () => {};
navigator.geolocation.watchPosition = () => 1;
"""


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Contexts a test opens, closed after it."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def _phone(browser: Browser, opened: list[BrowserContext], width: int, height: int, **kw) -> Page:
    context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": height}, **kw)
    opened.append(context)
    return context.new_page()


def _calm_rows(app) -> list[tuple[float | None, float | None]]:
    with app.app_context():
        rows = [(r.lat, r.lon) for r in db.session.scalars(select(Report))]
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("size", [(390, 844), (360, 640)], ids=["390x844", "360x640"])
def test_lugnt_pass_is_in_reach_without_scrolling(live_server, browser, contexts, size):
    width, height = size
    page = _phone(browser, contexts, width, height)
    _enrol(live_server, page)

    calm = page.get_by_role("button", name="Lugnt pass")

    box = calm.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, box
    assert page.evaluate("window.scrollY") == 0


def test_lugnt_pass_records_the_position(live_server, browser, contexts):
    page = _phone(browser, contexts, 390, 844, permissions=["geolocation"], geolocation=STATIONEN)
    _enrol(live_server, page)

    page.get_by_role("button", name="Lugnt pass").click()

    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    ((lat, lon),) = _calm_rows(live_server.app)
    assert (round(lat, 5), round(lon, 5)) == (55.64051, 13.20662)


def test_lugnt_pass_without_a_position_is_saved_without_waiting_long(live_server, page):
    page.add_init_script(SILENT_GPS)
    _enrol(live_server, page)

    started = time.monotonic()
    page.get_by_role("button", name="Lugnt pass").click()
    toast = page.locator("#toast").get_by_role("status")
    expect(toast).to_contain_text("Sparad", timeout=TIMEOUT_MS)

    assert time.monotonic() - started < 4.0
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    assert _calm_rows(live_server.app) == [(None, None)]


def test_tile_labels_fit_their_tiles_at_320_px(live_server, browser, contexts):
    page = _phone(browser, contexts, 320, 640)
    _enrol(live_server, page)

    tiles = page.evaluate(
        """() => [...document.querySelectorAll('#tiles .tile')].map((tile) => ({
            label: tile.textContent, top: tile.getBoundingClientRect().top,
            scroll: tile.scrollWidth, client: tile.clientWidth}))"""
    )

    assert len(tiles) == 12
    assert tiles[0]["top"] == tiles[1]["top"]  # side by side: the tiles fit on a small phone
    overflowing = [t["label"] for t in tiles if t["scroll"] > t["client"]]
    assert overflowing == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scroll


def test_the_revoked_screen_speaks_of_exporting_only_when_something_is_unsent(live_server, page):
    app = live_server.app
    _enrol(live_server, page)
    page.get_by_role("button", name="Lugnt pass").click()
    expect(_states(page)).to_have_text([ON_SERVER], timeout=TIMEOUT_MS)
    with app.app_context():
        device = db.session.scalars(select(Device)).one()
        devices.revoke(device.id)

    page.evaluate("window.dispatchEvent(new Event('online'))")

    revoked = page.locator("#revoked")
    expect(revoked.get_by_role("heading", name="Telefonen är spärrad")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(revoked).to_contain_text("Alla rapporter hann skickas till servern.")
    page.get_by_role("button", name="Radera data på telefonen").click()
    expect(page.locator("#wipe-confirm")).to_be_visible()
    assert "xport" not in revoked.inner_text()  # neither "Exportera" nor "exporterat"
    expect(page.get_by_role("button", name="Exportera osända rapporter")).to_be_hidden()

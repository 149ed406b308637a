"""An incident's small map in Chromium: a real height, clickable controls, nothing over it.

Tiles are blocked (the machine is offline anyway): the map still has its markers, its
zoom buttons and its attribution, and the printed coordinates stay beside it, not under it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import (  # noqa: F401  (night_fixture is a fixture)
    TIMEOUT_MS,
    Night,
    log_in,
    night_fixture,
)

TILES = "https://tile.openstreetmap.org/**"
MIN_MAP_HEIGHT = 200


@pytest.fixture
def offline_tiles(browser: Browser) -> Iterator[Page]:
    """A Swedish desktop page whose tile requests fail."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1366, "height": 900})
    context.route(TILES, lambda route: route.abort())
    yield context.new_page()
    context.close()


def _box(page: Page, selector: str) -> dict[str, float]:
    """Return an element's bounding box (it must be laid out)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not laid out"
    return box


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Tell whether two boxes share any area."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)])
def test_the_small_map_is_tall_clickable_and_clear_of_the_coordinates(
    live_server: LiveServer, offline_tiles: Page, night: Night, viewport: tuple[int, int]
) -> None:
    page = offline_tiles
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    log_in(page, live_server, night.who)
    page.goto(f"{live_server.url}/workspace/incidents/{night.shelter}")
    expect(page.locator("#incident-map path.leaflet-interactive").first).to_be_attached(
        timeout=TIMEOUT_MS
    )

    the_map = _box(page, "#incident-map")
    assert the_map["height"] >= MIN_MAP_HEIGHT, the_map

    # The printed position is its own line, outside the map's box.
    coords = page.locator("#incident-position")
    expect(coords).to_contain_text("Position: 55.63980, 13.20830")
    assert not _overlap(_box(page, "#incident-position"), the_map)

    # The zoom-in button is the topmost element at its centre, and a click zooms in.
    zoom_in = page.locator("#incident-map .leaflet-control-zoom-in")
    expect(zoom_in).to_be_visible()
    # elementFromPoint only sees the viewport; a phone may have to scroll to the map.
    zoom_in.scroll_into_view_if_needed()
    button = _box(page, "#incident-map .leaflet-control-zoom-in")
    centre = (button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    on_top = page.evaluate(
        "([x, y]) => { const e = document.elementFromPoint(x, y);"
        " return !!e && !!e.closest('.leaflet-control-zoom-in'); }",
        list(centre),
    )
    assert on_top, "something covers the zoom-in button"
    zoom_before = page.locator("#incident-map").get_attribute("data-zoom")
    zoom_in.click()
    expect(page.locator("#incident-map")).not_to_have_attribute(
        "data-zoom", zoom_before or "", timeout=TIMEOUT_MS
    )

    # The attribution sits inside the map, whole and readable.
    attribution = page.locator("#incident-map .leaflet-control-attribution")
    expect(attribution).to_contain_text("OpenStreetMap")
    credit = _box(page, "#incident-map .leaflet-control-attribution")
    assert credit["height"] >= 12 and credit["y"] + credit["height"] <= (
        the_map["y"] + the_map["height"] + 1
    )

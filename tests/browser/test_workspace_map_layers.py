"""The map shows one of its two marker layers at a time: incidents or recurring places.

At the default zoom a recurring place's square and the incidents' clusters at the same
spot would cover each other; a toggle above the map ("Händelser" / "Återkommande
platser") shows one of them, readable, and switches without reloading.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.test_workspace_map import TILES, TIMEOUT_MS, log_in, seed

INCIDENT_MARKERS = "#map .leaflet-marker-icon:not(.recurring-icon)"  # pins and clusters


@pytest.fixture
def map_page(browser: Browser) -> Iterator[Page]:
    """A Swedish desktop page whose tiles fail (the machine is offline)."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1366, "height": 900})
    context.route(TILES, lambda route: route.abort())
    yield context.new_page()
    context.close()


def _boxes(page: Page, selector: str) -> list[dict[str, float]]:
    """Return the laid-out boxes of the visible elements matching `selector`."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .map((e) => e.getBoundingClientRect())
            .filter((r) => r.width && r.height)
            .map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height }))""",
        selector,
    )


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Tell whether two boxes share any area."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_one_marker_layer_at_a_time_and_a_toggle(live_server: LiveServer, map_page: Page) -> None:
    page = map_page
    page.set_default_timeout(TIMEOUT_MS)
    who = seed(live_server)
    log_in(page, live_server.url, who)
    page.goto(live_server.url + "/workspace/map")
    expect(page.locator("#map")).to_have_attribute("data-ready", "4")

    # The default: the incidents (a cluster at the bus shelter), no recurring squares.
    expect(page.locator("#map .marker-cluster").first).to_be_visible()
    incidents = _boxes(page, INCIDENT_MARKERS)
    recurring = _boxes(page, "#map .recurring-icon")
    assert incidents
    assert not any(_overlap(i, r) for i in incidents for r in recurring), (incidents, recurring)
    assert recurring == []

    # The toggle shows the recurring places instead, their count as readable text.
    toggle = page.get_by_role("radio", name="Återkommande platser")
    expect(page.get_by_role("radio", name="Händelser")).to_be_checked()
    toggle.check()
    square = page.locator("#map .recurring-icon")
    expect(square).to_have_count(1)
    expect(square).to_have_text("3")
    assert page.locator(INCIDENT_MARKERS).count() == 0
    size = square.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 14

    # And back.
    page.get_by_role("radio", name="Händelser").check()
    expect(page.locator("#map .marker-cluster").first).to_be_visible()
    expect(page.locator("#map .recurring-icon")).to_have_count(0)

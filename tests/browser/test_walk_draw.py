"""Drawing a walk's route and stops on the map of the planning form, in Chromium.

Tiles are blocked (the machine is offline anyway): the drawing shows on a plain
background. The map writes into the form's route and stops fields, and the server stores
what they say; without Leaflet the fields alone still plan the walk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from server.extensions import db
from server.walks import service as walks
from server.walks.models import Walk
from tests.browser.conftest import LiveServer
from tests.browser.workspace_support import TIMEOUT_MS, assert_accessible, log_in
from tests.support import factories
from tests.support.walks import area_of

TILES = "https://tile.openstreetmap.org/**"
LEAFLET = "**/workspace/vendor/leaflet/leaflet.js"
ROUTE_CLICKS = [(100, 100), (200, 150), (300, 200), (400, 250)]
STOP_CLICKS = [(150, 320), (250, 340), (350, 360)]
IMPORT = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
    b' "geometry": {"type": "LineString",'
    b' "coordinates": [[13.21, 55.63], [13.23, 55.64], [13.25, 55.66]]}}]}'
)


@pytest.fixture
def planner(live_server: LiveServer) -> factories.Login:
    """A coordinator whose organisation has the area Centrum."""
    with live_server.app.app_context():
        org = factories.make_org("Staffanstorps kommun")
        who = factories.make_person(org, email="samordnare@staffanstorp.example")
        area_of(org)
        db.session.remove()
    return who


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A Swedish desktop page whose tile requests fail."""
    context = browser.new_context(locale="sv-SE", viewport={"width": 1366, "height": 900})
    context.route(TILES, lambda route: route.abort())
    yield context.new_page()
    context.close()


def _stored_walk(live_server: LiveServer) -> Walk:
    """Return the one walk there is."""
    with live_server.app.app_context():
        (walk,) = db.session.query(Walk).all()
        db.session.expunge(walk)
        db.session.remove()
    return walk


def test_a_route_and_numbered_stops_are_drawn_undone_cleared_and_saved(
    live_server: LiveServer, browser: Browser, desktop: Page, planner: factories.Login
) -> None:
    page = desktop
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, planner)
    page.goto(f"{live_server.url}/workspace/walks")
    draw = page.locator("#walk-draw")
    expect(draw).to_have_attribute("data-ready", "true", timeout=TIMEOUT_MS)
    the_map = page.locator("#walk-draw-map")
    route = page.locator("#walk-route")

    # Two points, then "Rensa": nothing is left.
    for x, y in ROUTE_CLICKS[:2]:
        the_map.click(position={"x": x, "y": y})
    expect(draw).to_have_attribute("data-points", "2")
    page.get_by_role("button", name="Rensa").click()
    expect(draw).to_have_attribute("data-points", "0")
    expect(route).to_have_value("")

    # Five points, then "Ångra punkt" takes the last one back.
    for x, y in [*ROUTE_CLICKS, (500, 120)]:
        the_map.click(position={"x": x, "y": y})
    expect(draw).to_have_attribute("data-points", "5")
    page.get_by_role("button", name="Ångra punkt").click()
    expect(draw).to_have_attribute("data-points", "4")
    expect(page.locator("#walk-draw-status")).to_have_text("Punkter i rutten: 4 · Stopp: 0")

    # Three stops, the first removed: the others are renumbered, and one is named.
    mode = page.get_by_role("button", name="Lägg till stopp")
    mode.click()
    expect(mode).to_have_attribute("aria-pressed", "true")
    for x, y in STOP_CLICKS:
        the_map.click(position={"x": x, "y": y})
    expect(draw).to_have_attribute("data-stops", "3")
    expect(draw).to_have_attribute("data-points", "4")  # taps place stops, not points
    page.get_by_role("button", name="Ta bort stopp 1").click()
    expect(page.get_by_label("Namn på stopp 1")).to_have_value("Stopp 1")
    page.get_by_label("Namn på stopp 2").fill("Torget")
    expect(page.locator("#walk-draw-map .walk-stop")).to_have_text(["1", "2"])
    expect(page.locator("#walk-draw-mode")).to_have_text("Tryck på kartan för att placera stopp 3.")
    expect(page.locator("#walk-stops")).to_have_value(
        re.compile(r"^Stopp 1; [\d.]+; [\d.]+\nTorget; [\d.]+; [\d.]+$")
    )

    page.get_by_label("Datum").fill("2026-12-10")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Vandringen är sparad.")).to_be_visible(timeout=TIMEOUT_MS)

    walk = _stored_walk(live_server)
    coords = walk.route["coordinates"]
    assert walk.route["type"] == "LineString" and len(coords) == 4
    # In the order drawn: each click further right (east) and further down (south).
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    assert lons == sorted(lons) and len(set(lons)) == 4
    assert lats == sorted(lats, reverse=True) and len(set(lats)) == 4
    # The map opened on the area Centrum (13.2–13.3 E, 55.6–55.7 N), not on all Sweden.
    assert all(12.9 <= lon <= 13.6 and 55.4 <= lat <= 55.9 for lon, lat in coords), coords
    numbered = walks.numbered_stops(walk)
    assert [(s["number"], s["name"]) for s in numbered] == [(1, "Stopp 1"), (2, "Torget")]
    # The stops kept were the second and third taps: further east than the first.
    assert numbered[0]["lon"] < numbered[1]["lon"] and numbered[0]["lat"] > numbered[1]["lat"]

    # The edit page shows the stored route and stops on its map, ready to change.
    expect(draw).to_have_attribute("data-ready", "true", timeout=TIMEOUT_MS)
    expect(draw).to_have_attribute("data-points", "4")
    expect(page.locator("#walk-draw-map .walk-stop")).to_have_text(["1", "2"])
    expect(page.get_by_label("Namn på stopp 2")).to_have_value("Torget")
    assert_accessible(browser, page)

    # A chosen GeoJSON file is shown on the map at once and put into the route field.
    page.get_by_label("Ruttfil (.geojson)").set_input_files(
        files=[{"name": "rutt.geojson", "mimeType": "application/geo+json", "buffer": IMPORT}]
    )
    expect(draw).to_have_attribute("data-points", "3")
    expect(route).to_have_value(re.compile(r"\[13\.25,55\.66\]\]\}$"))
    expect(page.get_by_label("Ruttfil (.geojson)")).to_have_value("")
    assert errors == []


def test_without_leaflet_the_fields_alone_plan_the_walk(
    live_server: LiveServer, desktop: Page, planner: factories.Login
) -> None:
    page = desktop
    page.context.route(LEAFLET, lambda route: route.abort())
    log_in(page, live_server, planner)
    page.goto(f"{live_server.url}/workspace/walks")
    expect(page.locator("#walk-draw")).to_be_hidden()
    page.get_by_label("Datum").fill("2026-12-10")
    page.get_by_label("Stopp", exact=True).fill("Stationen; 55.63; 13.21\nTorget")
    page.locator("#walk-route").fill(
        '{"type": "LineString", "coordinates": [[13.21, 55.63], [13.24, 55.645]]}'
    )
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Vandringen är sparad.")).to_be_visible(timeout=TIMEOUT_MS)
    walk = _stored_walk(live_server)
    assert walk.route["coordinates"] == [[13.21, 55.63], [13.24, 55.645]]
    assert [s["name"] for s in walk.stops] == ["Stationen", "Torget"]
    # The map never took over: no drawing block, nothing rewritten.
    expect(page.locator("#walk-draw")).to_be_hidden()

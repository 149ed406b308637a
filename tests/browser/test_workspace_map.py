"""The workspace map in Chromium: markers, clusters and the list, with the tiles blocked.

The machine has no internet, and the tests block tile.openstreetmap.org explicitly as well,
so every tile fails: the page must still show its markers, clusters, area outlines, the
list under the map and a note that says why the background is blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect
from sqlalchemy import select, update

from analysis.calendar import STOCKHOLM
from server.categories.models import Category
from server.extensions import db
from server.geography.models import Area
from server.incidents import areas
from server.reports.models import Report
from tests.browser.axe import describe, run_axe, serious
from tests.support import factories
from tests.support.workspace import push

TIMEOUT_MS = 15000
TILES = "https://tile.openstreetmap.org/**"
SPOT = (55.6398, 13.2083)
EVIL = "<img src=x onerror=alert(1)>"
AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum", "code": "centrum"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[13.19, 55.63], [13.23, 55.63], [13.23, 55.65], [13.19, 55.65], [13.19, 55.63]]
                ],
            },
        }
    ],
}


def at(days_ago: int, hour: int = 12) -> str:
    """Return a local time `days_ago` days before today at `hour`."""
    day = datetime.now(UTC).astimezone(STOCKHOLM).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour), tzinfo=STOCKHOLM).isoformat(timespec="seconds")


def seed(live_server) -> factories.Login:
    """An organisation with a coordinator, an area and five incidents (four on the map)."""
    app = live_server.app
    with app.app_context():
        org = factories.make_org("Staffanstorps kommun")
        who = factories.make_person(org)
        dev = factories.make_device(org)
        areas.import_areas(org.id, AREA, name_property="name", code_property="code")
        client = app.test_client()
        reports = [
            factories.report(
                created_at=at(days),
                location={"lat": SPOT[0] + metres / 111_000, "lon": SPOT[1], "accuracy_m": 8.0},
                description=f"Klotter dag {days}",
            )
            for days, metres in ((1, 0), (2, 20), (3, 40))
        ]
        reports.append(
            factories.report(
                created_at=at(4),
                category="miljo",
                location={"lat": 55.6450, "lon": 13.2200, "accuracy_m": 5.0},
                place=EVIL,
                description=EVIL,
            )
        )
        reports.append(
            factories.report(
                created_at=at(2, 20), category="brand", location=None, place="Källaren"
            )
        )
        push(client, dev, *reports)
        return who


def log_in(page: Page, base: str, who: factories.Login) -> None:
    """Log in through the workspace's form."""
    page.goto(base + "/workspace/login")
    page.get_by_label("E-post").fill(who.email)
    page.get_by_label("Lösenord").fill(who.password)
    page.get_by_role("button", name="Logga in").click()
    expect(page).not_to_have_url(f"{base}/workspace/login", timeout=TIMEOUT_MS)


@pytest.fixture
def blocked_page(browser: Browser) -> Iterator[tuple[Page, dict[str, list[str]]]]:
    """A Swedish page whose tile requests are aborted; collects tile requests and problems."""
    context = browser.new_context(locale="sv-SE")
    seen: dict[str, list[str]] = {"tiles": [], "errors": [], "dialogs": []}

    def abort_tile(route: Route) -> None:
        seen["tiles"].append(route.request.url)
        route.abort()

    context.route(TILES, abort_tile)
    page = context.new_page()
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            seen["errors"].append(msg.text)
            if msg.type == "error"
            and "tile.openstreetmap.org" not in msg.text
            and "net::ERR_FAILED" not in msg.text
            else None
        ),
    )
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    yield page, seen
    context.close()


def test_map_shows_markers_clusters_and_list_without_tiles(live_server, blocked_page) -> None:
    page, seen = blocked_page
    who = seed(live_server)
    log_in(page, live_server.url, who)
    page.goto(live_server.url + "/workspace/map")

    the_map = page.locator("#map")
    # The data arrived and four incidents (those with a position) were put on the map.
    expect(the_map).to_have_attribute("data-ready", "4", timeout=TIMEOUT_MS)
    # Every tile failed, and the page says so instead of showing a silent grey box.
    note = page.locator("#map-note")
    expect(note).to_be_visible(timeout=TIMEOUT_MS)
    expect(note).to_contain_text("Bakgrundskartan kunde inte laddas")
    assert seen["tiles"], "the map should have asked for tiles"
    assert "map-no-tiles" in (the_map.get_attribute("class") or "")

    # Markers on a blank background: the three reports at the bus shelter form a cluster.
    clusters = page.locator("#map .marker-cluster")
    expect(clusters.first).to_be_visible(timeout=TIMEOUT_MS)
    assert page.locator("#map .leaflet-marker-icon").count() >= 2
    # The recurring place, shown instead of the incidents: a square with its count as text.
    recurring = page.locator("#map .recurring-icon")
    expect(recurring).to_have_count(0)
    page.get_by_role("radio", name="Återkommande platser").check()
    expect(recurring).to_have_count(1)
    expect(recurring).to_have_text("3")
    page.get_by_role("radio", name="Händelser").check()
    # The area outline and the required attribution.
    assert page.locator("#map path.leaflet-interactive").count() >= 1
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")

    # The same incidents in the list under the map, the one without a position included.
    rows = page.locator("#map-incidents tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#map-incidents")).to_contain_text("Saknas – visas inte på kartan")
    expect(page.locator("#map-recurring li")).to_have_count(1)

    # A popup shows typed text as text (no element is made from it).
    page.locator("#map .leaflet-marker-icon[title^='Brister i miljön']").first.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(EVIL, timeout=TIMEOUT_MS)
    expect(popup.get_by_role("link", name="Öppna händelsen")).to_be_visible()
    assert popup.locator("img").count() == 0
    # Zooming into the cluster shows the single incidents at the bus shelter.
    page.keyboard.press("Escape")
    clusters.first.click()
    expect(page.locator("#map .leaflet-marker-icon[title^='Skadegörelse']")).to_have_count(
        3, timeout=TIMEOUT_MS
    )
    assert not seen["dialogs"], seen["dialogs"]
    assert not seen["errors"], seen["errors"]


def test_map_page_works_without_leaflet(live_server, blocked_page) -> None:
    page, _seen = blocked_page
    who = seed(live_server)
    page.route("**/workspace/vendor/**", lambda route: route.abort())
    log_in(page, live_server.url, who)
    page.goto(live_server.url + "/workspace/map")
    expect(page.locator("#map-note")).to_contain_text("kartbiblioteket saknas", timeout=TIMEOUT_MS)
    expect(page.locator("#map-incidents tbody tr")).to_have_count(5)


@pytest.mark.parametrize("path", ["/workspace/map", "/workspace/trends", "/workspace/places"])
def test_insight_pages_pass_axe(live_server, browser: Browser, path: str) -> None:
    # bypass_csp: axe is injected as an inline script, which the pages' policy forbids.
    context = browser.new_context(locale="sv-SE", bypass_csp=True)
    context.route(TILES, lambda route: route.abort())
    page = context.new_page()
    try:
        who = seed(live_server)
        log_in(page, live_server.url, who)
        page.goto(live_server.url + path)
        if path.endswith("/map"):
            expect(page.locator("#map")).to_have_attribute("data-ready", "4", timeout=TIMEOUT_MS)
        found = serious(run_axe(page))
        assert not found, f"{path}: " + describe(found)
    finally:
        context.close()


def test_an_incident_page_shows_its_reports_on_a_small_map(live_server, blocked_page) -> None:
    page, seen = blocked_page
    who = seed(live_server)
    log_in(page, live_server.url, who)
    # Two guards report the same fire 60 m apart: one incident with two located reports.
    with live_server.app.app_context():
        org_id = db.session.scalar(select(Report.org_id).limit(1))
        from server.orgs.models import Organisation

        dev = factories.make_device(db.session.get(Organisation, org_id))
        fires = [
            factories.report(
                category="brand",
                created_at=at(1, 21 + i),
                location={"lat": SPOT[0] + i * 60 / 111_000, "lon": SPOT[1], "accuracy_m": 9.0},
                description=f"Bilbrand {i}",
            )
            for i in range(2)
        ]
        push(live_server.app.test_client(), dev, *fires)
        incident_id = db.session.scalar(
            select(Report.incident_id).where(Report.description == "Bilbrand 0")
        )
    page.goto(f"{live_server.url}/workspace/incidents/{incident_id}")
    markers = page.locator("#incident-map path.leaflet-interactive")
    expect(markers).to_have_count(2, timeout=TIMEOUT_MS)
    assert seen["tiles"], "the map asked for tiles (and got none: the machine is offline)"
    assert not seen["errors"], seen["errors"]


def _tooltip_of(page: Page, target: str) -> Locator:
    """Point at a Leaflet shape and return the tooltip it opens."""
    page.locator(target).first.dispatch_event("mouseover")
    tip = page.locator(".leaflet-tooltip")
    expect(tip).to_have_count(1, timeout=TIMEOUT_MS)
    return tip


def test_tooltips_show_hostile_names_as_text(live_server, blocked_page) -> None:
    page, seen = blocked_page
    who = seed(live_server)
    hostile_area = "<img src=x onerror=alert('area')>Centrum"
    hostile_place = "<b id=injected>Torget</b><img src=x onerror=alert('place')>"
    hostile_category = "<img src=x onerror=alert('category')>Skadegörelse"
    with live_server.app.app_context():
        org_id = db.session.scalar(select(Report.org_id).limit(1))
        db.session.execute(update(Area).values(name=hostile_area))
        db.session.execute(
            update(Category)
            .where(Category.code == "skadegorelse")
            .values(label_sv=hostile_category)
        )
        db.session.commit()
        areas.create_place(org_id, hostile_place, SPOT[0], SPOT[1], 80.0, None)
        incident_id = db.session.scalar(
            select(Report.incident_id).where(Report.description == "Klotter dag 1")
        )
    log_in(page, live_server.url, who)
    page.goto(live_server.url + "/workspace/map")
    expect(page.locator("#map")).to_have_attribute("data-ready", "4", timeout=TIMEOUT_MS)

    # The area's outline (dashed 6 4) and the named place's circle (dashed 2 4).
    for target, name in (
        ("#map path[stroke-dasharray='6 4']", hostile_area),
        ("#map path[stroke-dasharray='2 4']", hostile_place),
    ):
        tip = _tooltip_of(page, target)
        expect(tip).to_contain_text(name)
        assert tip.locator("img, b").count() == 0
        page.locator(target).first.dispatch_event("mouseout")
        expect(tip).to_have_count(0, timeout=TIMEOUT_MS)
    assert page.locator("#map img[src='x'], #injected").count() == 0

    # The incident's small map: each report's time and category name.
    page.goto(f"{live_server.url}/workspace/incidents/{incident_id}")
    tip = _tooltip_of(page, "#incident-map path.leaflet-interactive")
    expect(tip).to_contain_text(hostile_category)
    assert tip.locator("img").count() == 0
    assert page.locator("#incident-map img[src='x']").count() == 0
    assert not seen["dialogs"], seen["dialogs"]
    assert not seen["errors"], seen["errors"]

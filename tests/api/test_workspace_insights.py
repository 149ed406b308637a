"""Workspace map, trends and places: login, isolation, CSRF, bad input, bounded queries."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import ORMExecuteState

from analysis.calendar import STOCKHOLM
from server.extensions import db
from server.geography import service as geography
from server.geography.models import NamedPlace
from server.incidents import areas, queries
from server.incidents.models import Incident
from server.reports.models import Report
from server.workspace import map_views, trend_views
from tests.support import factories
from tests.support.workspace import csrf_from, login, post, push

MAP = "/workspace/map"
DATA = "/workspace/map/data.json"
TRENDS = "/workspace/trends"
PLACES = "/workspace/places"
PAGES = (MAP, DATA, TRENDS, PLACES)

SPOT = (55.6398, 13.2083)  # the bus shelter on Malmövägen
EVIL = "<script>alert('x')</script>"
SECRET_B = "HEMLIGT-FRAN-ORG-B"


def at(days_ago: int, hour: int = 12) -> str:
    """Return a local time `days_ago` days before today at `hour` (always in the past)."""
    day = datetime.now(UTC).astimezone(STOCKHOLM).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour), tzinfo=STOCKHOLM).isoformat(timespec="seconds")


def near(metres_north: float) -> dict[str, float]:
    """Return a location a few metres north of the spot."""
    return {"lat": SPOT[0] + metres_north / 111_000, "lon": SPOT[1], "accuracy_m": 10.0}


@dataclass
class Org:
    """An organisation with a coordinator and a device."""

    org: object
    who: factories.Login
    device: factories.EnrolledDevice


def make_org(name: str) -> Org:
    """Create an organisation, its coordinator and a device."""
    org = factories.make_org(name)
    return Org(org, factories.make_person(org), factories.make_device(org))


SQUARE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum <i>", "code": "centrum"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[13.19, 55.63], [13.23, 55.63], [13.23, 55.65], [13.19, 55.65], [13.19, 55.63]]
                ],
            },
        }
    ],
}


@pytest.fixture
def orgs(app: Flask) -> tuple[Org, Org]:
    """Two organisations: A with a recurring place, an area and odd texts; B with a secret."""
    client = app.test_client()
    a = make_org("Kommun A")
    b = make_org("Kommun B")
    areas.import_areas(a.org.id, SQUARE, name_property="name", code_property="code")
    push(
        client,
        a.device,
        # Three days running at the bus shelter: a recurring place (trend up).
        factories.report(created_at=at(1), location=near(0), description="Klotter 1"),
        factories.report(created_at=at(2), location=near(20), description="Klotter 2"),
        factories.report(created_at=at(3), location=near(40), description="Klotter 3"),
        # No GPS fix: listed, not on the map.
        factories.report(
            created_at=at(2, 20), location=None, category="brand", place="Källaren", description=""
        ),
        # Typed text that must stay text.
        factories.report(
            created_at=at(4),
            location={"lat": 55.6450, "lon": 13.2200, "accuracy_m": 5.0},
            category="miljo",
            place=EVIL,
            description=EVIL,
        ),
        # Five weeks ago: outside the map's week, the 28 days of recurring places and the
        # four-week baseline of yesterday; inside the trends' eight weeks.
        factories.report(created_at=at(35), location=near(10), description="Gammalt klotter"),
    )
    push(
        client,
        b.device,
        *(
            factories.report(
                created_at=at(days),
                location={"lat": 55.70, "lon": 13.30, "accuracy_m": 5.0},
                place=SECRET_B,
                description=SECRET_B,
            )
            for days in (1, 2, 3)
        ),
    )
    db.session.commit()
    return a, b


def logged_in(app: Flask, who: factories.Login):
    """Return a test client logged in as `who`."""
    client = app.test_client()
    resp = login(client, who)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def text(resp) -> str:
    return resp.get_data(as_text=True)


# --- login ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_pages_send_visitors_to_the_login(client, url: str) -> None:
    resp = client.get(url)
    assert resp.status_code == 302
    assert resp.location.startswith("/workspace/login?next=")
    assert url in resp.location.replace("%2F", "/")


def test_naming_a_place_needs_a_login(app: Flask, orgs) -> None:
    client = app.test_client()
    client.get("/workspace/login")  # a session with a CSRF token, but nobody logged in
    resp = post(client, PLACES, {"name": "Stationen", "lat": "55.6", "lon": "13.2"})
    assert resp.status_code == 302 and "/workspace/login" in resp.location
    assert db.session.scalar(select(func.count()).select_from(NamedPlace)) == 0


# --- map ------------------------------------------------------------------------------------


def test_map_page_lists_incidents_and_places_under_the_map(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    resp = client.get(MAP)
    assert resp.status_code == 200
    html = text(resp)
    # The list under the map: the five incidents of the last seven days, server-rendered.
    assert html.count('class="map-incident') == 5
    assert "Källaren" in html and "Saknas – visas inte på kartan" in html
    # The recurring place, ranked, with its trend in arrow and word.
    assert html.count('class="map-recurring"') == 1
    assert "3 rapporter" in html and "↑ upp" in html
    # The map element, its data address, tiles and the attribution.
    assert 'id="map"' in html and 'data-src="/workspace/map/data.json' in html
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert "OpenStreetMap" in html
    assert "/workspace/vendor/leaflet/leaflet.js" in html
    assert "/workspace/static/map.js" in html
    # The page's own policy allows the tile host for images, and nothing more.
    csp = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in csp
    assert "script-src 'self';" in csp
    # Typed text is escaped.
    assert EVIL not in html and "&lt;script&gt;" in html
    assert "Centrum &lt;i&gt;" in html


def test_map_data_is_geojson_of_the_own_organisation(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    resp = client.get(DATA)
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    doc = resp.get_json()
    assert doc["type"] == "FeatureCollection"
    kinds: dict[str, list[dict]] = {}
    for f in doc["features"]:
        assert f["type"] == "Feature"
        kinds.setdefault(f["properties"]["kind"], []).append(f)
    assert len(kinds["incident"]) == 5
    assert len(kinds["recurring"]) == 1
    assert len(kinds["area"]) == 1 and kinds["area"][0]["geometry"]["type"] == "Polygon"
    assert kinds["area"][0]["properties"]["name"] == "Centrum <i>"  # JSON: data, not markup
    # GeoJSON order: [lon, lat]; a report without a position has a null geometry.
    recurring = kinds["recurring"][0]
    lon, lat = recurring["geometry"]["coordinates"]
    assert abs(lat - SPOT[0]) < 0.001 and abs(lon - SPOT[1]) < 0.001
    assert recurring["properties"]["count"] == 3 and recurring["properties"]["trend"] == "up"
    assert [f["geometry"] for f in kinds["incident"]].count(None) == 1
    own = {
        str(i) for i in db.session.scalars(select(Incident.id).where(Incident.org_id == a.org.id))
    }
    assert {f["properties"]["id"] for f in kinds["incident"]} <= own
    assert all(
        f["properties"]["url"].startswith("/workspace/incidents/") for f in kinds["incident"]
    )
    assert doc["properties"]["truncated"] is False
    assert SECRET_B not in text(resp)


def _full_incidents(
    scope: object,
    f: queries.IncidentFilter,
    offset: int,
    size: int,
    limit: int = 500,
    columns: object = (),
    chunk: int = 0,
) -> tuple[Iterator[queries.IncidentRow], int]:
    """Give the map what it read before issue 14: full Incident objects, all at once."""
    rows = queries.list_incidents(scope, f, limit=limit + 1)
    return iter(rows[:limit][offset : offset + size]), len(rows)


@pytest.mark.parametrize("query", ["", "?sort=severity", "?category=brand", "?from=2000-01-01"])
def test_map_data_from_plain_rows_is_what_full_incidents_give(
    app: Flask, orgs, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    loaded: list[object] = []

    def count(target: Incident, _context: object) -> None:
        loaded.append(target.id)

    # Nothing left over from the pushes: every incident the request reads is built anew.
    db.session.expunge_all()
    event.listen(Incident, "load", count)
    try:
        light = client.get(DATA + query)
    finally:
        event.remove(Incident, "load", count)
    assert light.status_code == 200
    assert loaded == []  # plain rows, no ORM objects
    monkeypatch.setattr(map_views.queries, "lazy_page_of_incidents", _full_incidents)
    full = client.get(DATA + query)
    assert full.status_code == 200
    assert light.get_data() == full.get_data()
    assert light.get_json()["features"]


@pytest.mark.parametrize("query", ["", "?sort=severity", "?category=brand", "?from=2000-01-01"])
def test_map_data_is_what_jsonify_writes_of_the_whole_document(
    app: Flask, orgs, query: str
) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    body = client.get(DATA + query).get_data()
    with app.app_context():
        whole = app.json.response(json.loads(body)).get_data()
    assert body == whole


def test_map_data_in_debug_mode_is_still_what_jsonify_writes(
    app: Flask, orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    monkeypatch.setattr(app, "debug", True)
    body = client.get(DATA).get_data()
    assert body.startswith(b'{\n  "features": [')  # jsonify's indented text
    with app.app_context():
        assert body == app.json.response(json.loads(body)).get_data()


def test_map_data_encodes_each_incident_before_building_the_next(
    app: Flask, orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 14: a document of 2,000 feature dicts held at once left pymalloc arenas behind.
    a, _ = orgs
    client = logged_in(app, a.who)
    views: list[str] = []
    built: list[int] = []  # incident views built so far, at each feature's encoding
    view_of = map_views._incident_view
    dumps = app.json.dumps

    def counted_view(*args: object, **kwargs: object) -> dict[str, object]:
        view = view_of(*args, **kwargs)
        views.append(view["id"])
        return view

    def counted_dumps(obj: object, **kwargs: object) -> str:
        if isinstance(obj, dict) and obj.get("type") == "Feature":
            built.append(len(views))
        return dumps(obj, **kwargs)

    monkeypatch.setattr(map_views, "_incident_view", counted_view)
    monkeypatch.setattr(app.json, "dumps", counted_dumps)
    resp = client.get(DATA)
    assert resp.status_code == 200
    assert len(views) >= 2
    # The n-th encoding comes right after the n-th view: never two views alive at once.
    assert built[: len(views)] == list(range(1, len(views) + 1))


def test_map_data_reads_its_incidents_as_it_writes_them(
    app: Flask, orgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 14: the map's 2,000 rows were all loaded before the first feature was written.
    a, _ = orgs
    client = logged_in(app, a.who)
    lazy = queries.lazy_page_of_incidents
    monkeypatch.setattr(
        map_views.queries,
        "lazy_page_of_incidents",
        lambda *args, **kwargs: lazy(*args, **{**kwargs, "chunk": 1}),
    )
    statements: list[str] = []
    read_by: list[int] = []  # statements run by the time each incident feature is encoded
    dumps = app.json.dumps

    def counted_dumps(obj: object, **kwargs: object) -> str:
        if isinstance(obj, dict) and obj.get("properties", {}).get("kind") == "incident":
            read_by.append(len(statements))
        return dumps(obj, **kwargs)

    def count(state: ORMExecuteState) -> None:
        statements.append(str(state.statement))

    monkeypatch.setattr(app.json, "dumps", counted_dumps)
    session = db.session()
    event.listen(session, "do_orm_execute", count)
    try:
        assert client.get(DATA).status_code == 200
    finally:
        event.remove(session, "do_orm_execute", count)
    assert len(read_by) >= 2
    # One row a query (chunk 1): every feature after the first needed one more read.
    assert all(later > earlier for earlier, later in pairwise(read_by))


def test_map_filters_like_the_list(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    only_fire = client.get(DATA + "?category=brand").get_json()
    incidents = [f for f in only_fire["features"] if f["properties"]["kind"] == "incident"]
    assert [f["properties"]["category"] for f in incidents] == ["brand"]
    # An old window: the five-weeks-old report only.
    day = datetime.now(UTC).astimezone(STOCKHOLM).date() - timedelta(days=35)
    old = client.get(f"{DATA}?from={day.isoformat()}&to={day.isoformat()}").get_json()
    incidents = [f for f in old["features"] if f["properties"]["kind"] == "incident"]
    assert len(incidents) == 1
    # The page carries the filter into its data address.
    html = text(client.get(MAP + "?category=brand"))
    assert 'data-src="/workspace/map/data.json?' in html and "category=brand" in html
    assert html.count('class="map-incident') == 1


@pytest.mark.parametrize(
    "query",
    [
        "?from=not-a-date",
        "?from=2026-13-45&to=x",
        "?from=2030-01-02&to=2030-01-01",
        "?category=nope&category=" + "x" * 500,
        "?area=abc&status=%00&kind=<b>",
        "?from=1900-01-01",
        "?sort=drop%20table",
    ],
)
def test_map_bad_filters_are_set_aside_not_500(app: Flask, orgs, query: str) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    page = client.get(MAP + query)
    assert page.status_code == 200
    data = client.get(DATA + query)
    assert data.status_code == 200
    assert data.get_json()["type"] == "FeatureCollection"
    assert "<b>" not in text(page)


def test_map_bad_dates_say_so(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    doc = client.get(DATA + "?from=not-a-date").get_json()
    assert doc["properties"]["messages"]  # a readable message, and the default window
    incidents = [f for f in doc["features"] if f["properties"]["kind"] == "incident"]
    assert len(incidents) == 5


# --- isolation ------------------------------------------------------------------------------


def test_another_organisation_sees_only_its_own(app: Flask, orgs) -> None:
    a, b = orgs
    client = logged_in(app, b.who)
    own_names = {"Klotter 1", "Källaren", "Centrum", "Gammalt klotter", "&lt;script&gt;"}
    for url in (MAP, DATA, TRENDS, PLACES, TRENDS + "?step=week"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        body = text(resp)
        for name in own_names:
            assert name not in body, (url, name)
    doc = client.get(DATA).get_json()
    places = [f for f in doc["features"] if f["properties"]["kind"] == "recurring"]
    assert len(places) == 1  # B's own recurring place
    lon, lat = places[0]["geometry"]["coordinates"]
    assert (round(lat, 2), round(lon, 2)) == (55.70, 13.30)
    assert not [f for f in doc["features"] if f["properties"]["kind"] == "area"]
    # A named place of A never shows for B.
    areas.create_place(a.org.id, "Stationen A", SPOT[0], SPOT[1], 100.0, a.who.person.id)
    assert "Stationen A" not in text(client.get(PLACES))
    assert "Stationen A" not in text(client.get(DATA))


# --- trends ---------------------------------------------------------------------------------


def svgs(html: str) -> list[ET.Element]:
    """Parse every inline SVG chart of a page."""
    # Our own server's output: parsing it with the standard library is the point.
    found = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    return [ET.fromstring(m) for m in found]  # noqa: S314


@pytest.mark.parametrize("step", ["day", "week"])
def test_trends_draw_accessible_charts_with_tables(app: Flask, orgs, step: str) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    resp = client.get(f"{TRENDS}?step={step}")
    assert resp.status_code == 200
    html = text(resp)
    charts = svgs(html)
    # Total, two categories (skadegörelse, miljö; brand has no … it has one) and the areas.
    assert len(charts) >= 4
    for chart in charts:
        assert chart.get("role") == "img"
        assert chart.find("{http://www.w3.org/2000/svg}title") is not None
        assert chart.find("{http://www.w3.org/2000/svg}desc") is not None
    assert "<table" in html and html.count("<details>") == len(charts)
    assert "Skadegörelse" in html and "Centrum &lt;i&gt;" in html and "Utan område" in html
    assert EVIL not in html
    # Eight weeks by default: 56 days or 8 weeks in the total's table.
    total_table = html.split('id="trend-total-caption"', 1)[1].split("</table>", 1)[0]
    assert total_table.count('<th scope="row">') == (56 if step == "day" else 8)


def test_trends_say_up_with_an_arrow_and_a_word(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    yesterday = datetime.now(UTC).astimezone(STOCKHOLM).date() - timedelta(days=1)
    html = text(client.get(f"{TRENDS}?to={yesterday.isoformat()}"))
    # Yesterday: one report at the shelter, none on the four Xdays before → not "up" (< 2).
    table = html.split('id="day-cat"', 1)[1].split("</table>", 1)[0]
    assert "→ oförändrat" in table
    push(
        app.test_client(),
        a.device,
        *(
            factories.report(created_at=at(1, h), location=near(5), description=f"Mer {h}")
            for h in (8, 9, 10)
        ),
    )
    html = text(client.get(f"{TRENDS}?to={yesterday.isoformat()}"))
    table = html.split('id="day-cat"', 1)[1].split("</table>", 1)[0]
    assert "↑ upp" in table
    # The chart says it too, in its visible text.
    total = svgs(html)[0]
    shown = ["".join(t.itertext()) for t in total.iter("{http://www.w3.org/2000/svg}text")]
    assert any(s.startswith("↑ upp: 4") for s in shown), shown


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?weeks=abc", "Antal veckor ska vara 1–26"),
        ("?weeks=999", "Antal veckor ska vara 1–26"),
        ("?weeks=-3", "Antal veckor ska vara 1–26"),
        ("?to=nonsense", "Datumet kunde inte läsas"),
        ("?to=1850-01-01", "Datumet kunde inte läsas"),
        ("?to=2099-01-01", "Datumet ligger i framtiden"),
        ("?to=2999-01-01", "Datumet kunde inte läsas"),
        ("?step=month", "Okänd visning"),
        ("?step=<script>", "Okänd visning"),
    ],
)
def test_trends_bad_inputs_give_a_message_not_a_500(
    app: Flask, orgs, query: str, message: str
) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    resp = client.get(TRENDS + query)
    assert resp.status_code == 200
    html = text(resp)
    assert message in html
    assert "<script>" not in html.split("<main", 1)[1]


def test_trends_weeks_are_capped(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    html = text(client.get(TRENDS + "?weeks=999&step=week"))
    total_table = html.split('id="trend-total-caption"', 1)[1].split("</table>", 1)[0]
    assert total_table.count('<th scope="row">') == trend_views.TREND_MAX_WEEKS


# --- places ---------------------------------------------------------------------------------


def recurring_spot(client) -> tuple[str, str]:
    """Return the lat/lon the places page offers for naming the first recurring place."""
    html = text(client.get(PLACES))
    lat = re.search(r'name="lat" value="([^"]+)"', html)
    lon = re.search(r'name="lon" value="([^"]+)"', html)
    assert lat and lon, "no naming form on the places page"
    return lat.group(1), lon.group(1)


def test_places_rank_recurring_and_name_one(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    page = client.get(PLACES)
    assert page.status_code == 200
    html = text(page)
    assert "Plats 1: 3 rapporter" in html and "Skadegörelse 3" in html and "↑ upp" in html
    assert "Inga namngivna platser ännu." in html
    lat, lon = recurring_spot(client)
    resp = post(client, PLACES, {"name": "  Stationen ", "radius": "100", "lat": lat, "lon": lon})
    assert resp.status_code == 302
    assert resp.location.startswith("/workspace/places")
    html = text(client.get(PLACES))
    assert "Platsen Stationen är namngiven." in html
    named = html.split('id="named-places"', 1)[1].split("</table>", 1)[0]
    # Its reports of the last 28 days: three (the one from five weeks ago is linked, not counted).
    assert "Stationen" in named and '<td class="num">3</td>' in named
    place = db.session.scalar(select(NamedPlace).where(NamedPlace.name == "Stationen"))
    assert place is not None and place.org_id == a.org.id and place.created_by == a.who.person.id
    linked = db.session.scalar(
        select(func.count()).select_from(Report).where(Report.place_id == place.id)
    )
    assert linked == 4
    # The recurring place now says it lies within the named place.
    assert "Ligger inom" in text(client.get(PLACES))


def test_naming_needs_the_csrf_token(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    lat, lon = recurring_spot(client)
    form = {"name": "Stationen", "radius": "100", "lat": lat, "lon": lon}
    missing = client.post(PLACES, data=form)
    wrong = client.post(PLACES, data={**form, "csrf_token": "x" * 43})
    assert missing.status_code == 400 and wrong.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(NamedPlace)) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Skriv ett namn på platsen."),
        ({"name": "   "}, "Skriv ett namn på platsen."),
        ({"name": "x" * 201}, "Namnet får vara högst 200 tecken."),
        ({"radius": "abc"}, "Radien ska vara ett tal mellan 10 och 2000 meter."),
        ({"radius": "5"}, "Radien ska vara ett tal mellan 10 och 2000 meter."),
        ({"radius": "5000"}, "Radien ska vara ett tal mellan 10 och 2000 meter."),
        ({"radius": "nan"}, "Radien ska vara ett tal mellan 10 och 2000 meter."),
        ({"radius": "inf"}, "Radien ska vara ett tal mellan 10 och 2000 meter."),
        ({"lat": "x"}, "Platsens position är ogiltig."),
        ({"lat": "100"}, "Platsens position är ogiltig."),
        ({"lon": "-181"}, "Platsens position är ogiltig."),
        ({"lon": ""}, "Platsens position är ogiltig."),
    ],
)
def test_bad_place_forms_are_explained_not_500(
    app: Flask, orgs, change: dict[str, str], message: str
) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    lat, lon = recurring_spot(client)
    form = {"name": "Stationen", "radius": "100", "lat": lat, "lon": lon, **change}
    resp = post(client, PLACES, form)
    assert resp.status_code == 400
    html = text(resp)
    assert message in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    # The form comes back with what was typed, and the page is whole.
    assert "Återkommande platser" in html and csrf_from(html)
    assert db.session.scalar(select(func.count()).select_from(NamedPlace)) == 0


def test_duplicate_name_is_explained(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    lat, lon = recurring_spot(client)
    form = {"name": "Stationen", "radius": "100", "lat": lat, "lon": lon}
    assert post(client, PLACES, form).status_code == 302
    again = post(client, PLACES, {**form, "name": "Stationen"})
    assert again.status_code == 400
    assert "Det finns redan en plats som heter Stationen." in text(again)
    assert db.session.scalar(select(func.count()).select_from(NamedPlace)) == 1


def test_service_place_errors_are_shown(app: Flask, orgs, monkeypatch) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    lat, lon = recurring_spot(client)

    def refuse(*_args, **_kwargs):
        raise geography.PlaceError("There is already a place called Stationen.")

    monkeypatch.setattr(areas, "create_place", refuse)
    resp = post(client, PLACES, {"name": "Stationen", "radius": "100", "lat": lat, "lon": lon})
    assert resp.status_code == 400
    assert "Platsen kunde inte skapas: There is already a place called Stationen." in text(resp)


def test_a_name_with_markup_stays_text(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    lat, lon = recurring_spot(client)
    resp = post(client, PLACES, {"name": EVIL, "radius": "50", "lat": lat, "lon": lon})
    assert resp.status_code == 302
    for url in (PLACES, MAP):
        html = text(client.get(url))
        assert EVIL not in html and "&lt;script&gt;alert(" in html
    names = [
        f["properties"]["name"]
        for f in client.get(DATA).get_json()["features"]
        if f["properties"]["kind"] == "place"
    ]
    assert names == [EVIL]


def test_analysts_see_places_but_cannot_name_them(app: Flask, orgs) -> None:
    a, _ = orgs
    analyst = factories.make_person(a.org, role="analyst")
    client = logged_in(app, analyst)
    html = text(client.get(PLACES))
    assert "Plats 1: 3 rapporter" in html and 'name="lat"' not in html
    resp = post(
        client, PLACES, {"name": "Stationen", "radius": "100", "lat": "55.6", "lon": "13.2"}
    )
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(NamedPlace)) == 0


# --- vendor files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("leaflet/leaflet.js", "text/javascript"),
        ("leaflet/leaflet.css", "text/css"),
        ("leaflet/images/marker-icon.png", "image/png"),
        ("leaflet.markercluster/leaflet.markercluster.js", "text/javascript"),
        ("leaflet.markercluster/MarkerCluster.Default.css", "text/css"),
    ],
)
def test_leaflet_dist_files_are_served(client, path: str, mimetype: str) -> None:
    resp = client.get(f"/workspace/vendor/{path}")
    assert resp.status_code == 200, "node_modules missing? run `npm ci`"
    assert resp.mimetype == mimetype
    assert "max-age=86400" in resp.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "leaflet/leaflet-src.js",
        "leaflet/leaflet.js.map",
        "leaflet/../package.json",
        "leaflet/..%2F..%2Fpackage.json",
        "leaflet/dist/leaflet.js",
        "axe-core/axe.min.js",
        "leaflet.markercluster/../../../server/config.py",
        "..%2F..%2Fpyproject.toml/x",
        "leaflet/images/../../package.json",
    ],
)
def test_nothing_else_is_served_from_node_modules(client, path: str) -> None:
    assert client.get(f"/workspace/vendor/{path}").status_code == 404


# --- bounded queries ------------------------------------------------------------------------


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(" ".join(statement.split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("url", [MAP, DATA, TRENDS, TRENDS + "?step=week&weeks=26", PLACES])
def test_every_report_query_is_bounded_by_time(app: Flask, orgs, url: str) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    with statements(app) as seen:
        assert client.get(url).status_code == 200
    on_reports = [s for s in seen if re.search(r"\bFROM reports\b", s)]
    assert on_reports, "the page should read reports"
    for statement in on_reports:
        # An organisation's first report (where its history begins) is one index lookup on
        # ix_reports_org_created, not a scan: MIN(created_at) for one org_id.
        if re.search(r"\bmin\(reports\.created_at\)", statement, re.I):
            assert "reports.org_id =" in statement and "GROUP BY" not in statement, statement
            continue
        assert "reports.org_id" in statement and "reports.created_at >=" in statement, statement


# --- languages ------------------------------------------------------------------------------

_KEY_RE = re.compile(r"\b(?:map|trends|places|insights)\.(?!js\b|css\b)[a-z_]+(?:\.[a-z_0-9]+)*")


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize(
    "url", [MAP, TRENDS, TRENDS + "?step=week&weeks=x", PLACES, MAP + "?from=bad"]
)
def test_every_text_is_translated(app: Flask, orgs, lang: str, url: str) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    sep = "&" if "?" in url else "?"
    resp = client.get(f"{url}{sep}lang={lang}")
    assert resp.status_code == 200
    html = text(resp)
    assert f'<html lang="{lang}">' in html
    assert not _KEY_RE.findall(html), _KEY_RE.findall(html)
    assert ("↑ up" if lang == "en" else "↑ upp") in html or url.startswith(MAP + "?from")


def test_the_place_form_errors_in_english(app: Flask, orgs) -> None:
    a, _ = orgs
    client = logged_in(app, a.who)
    client.get(PLACES + "?lang=en")
    lat, lon = recurring_spot(client)
    resp = post(client, PLACES, {"name": "", "radius": "100", "lat": lat, "lon": lon})
    assert resp.status_code == 400
    assert "Type a name for the place." in text(resp)

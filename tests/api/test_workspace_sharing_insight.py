"""The insight pages, exports and photos honour sharing agreements (issue 10).

The shared scene (tests/support/sharing.py): the guard company (`vakt`) shares everything
with the municipality (`kommun`); the housing company (`hus`) shares only damage at
`reports`; the municipality gives the housing company counts; `annan` shares nothing.
Every free text carries its organisation's marker, so each test can see what leaked.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from analysis.calendar import STOCKHOLM
from server.incidents import areas
from server.sharing import service as sharing
from server.sharing.scope import scope_for
from tests.support import factories
from tests.support.sharing import MARK, Party, SharedScene, make_shared_scene
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

MAP = "/workspace/map"
DATA = "/workspace/map/data.json"
TRENDS = "/workspace/trends"
PLACES = "/workspace/places"
INCIDENTS_CSV = "/workspace/export/incidents.csv"
REPORTS_CSV = "/workspace/export/reports.csv"
GEOJSON = "/workspace/export/incidents.geojson"
INSIGHT = (MAP, DATA, TRENDS, PLACES, INCIDENTS_CSV, REPORTS_CSV, GEOJSON)
OTHERS = ("vakt", "hus", "annan")
MILJO = "Brister i miljön"


@pytest.fixture
def scene(app: Flask) -> SharedScene:
    return make_shared_scene()


def as_person(app: Flask, party: Party, role: str) -> FlaskClient:
    """Return a client logged in as the party's person of `role`."""
    client = app.test_client()
    assert login(client, party.persons[role]).status_code == 302
    return client


def body(client: FlaskClient, url: str) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


def ids(*parties: Party, only: tuple[str, ...] = ("skadegorelse", "miljo")) -> set[str]:
    """Return the incident ids of the parties' categories."""
    return {str(p.incidents[c]) for p in parties for c in only}


def map_incidents(client: FlaskClient) -> dict[str, dict]:
    doc = json.loads(body(client, DATA))
    return {
        f["properties"]["id"]: f["properties"]
        for f in doc["features"]
        if f["properties"]["kind"] == "incident"
    }


def csv_rows(client: FlaskClient, url: str) -> list[dict[str, str]]:
    resp = client.get(url)
    assert resp.status_code == 200
    text = resp.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def label(party: Party, kind: str) -> str:
    """The owner label the workspace shows for a party (its name and kind)."""
    return f"{party.org.name}, {kind}"


def leaked(text: str, *names: str) -> list[str]:
    """Return the organisations whose free-text marker appears in the text."""
    return [n for n in names if MARK[n] in text]


def today() -> str:
    return datetime.now(UTC).astimezone(STOCKHOLM).date().isoformat()


def chart_total(html: str, title: str) -> int:
    """Sum the counts of a trend chart's table (found by its title); 0 when there is none."""
    start = html.find(f'-table-caption">{title} – ')
    if start < 0:
        return 0
    table = html[start : html.index("</table>", start)]
    return sum(int(n) for n in re.findall(r'</th>\s*<td class="num">(\d+)</td>', table))


# --- the map ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_the_map_shows_shared_incidents_marked_and_without_text_at_reports(
    app: Flask, scene: SharedScene, role: str
) -> None:
    client = as_person(app, scene.kommun, role)
    shown = map_incidents(client)
    assert set(shown) == ids(scene.kommun, scene.vakt) | ids(scene.hus, only=("skadegorelse",))
    vakt = shown[str(scene.vakt.incidents["miljo"])]
    assert vakt["owner"] == label(scene.vakt, "vaktbolag") and MARK["vakt"] in vakt["place"]
    hus = shown[str(scene.hus.incidents["skadegorelse"])]
    assert hus["owner"] == label(scene.hus, "bostadsbolag")
    assert (hus["place"], hus["summary"]) == ("", "")
    assert shown[str(scene.kommun.incidents["miljo"])]["owner"] == ""
    data = body(client, DATA)
    assert leaked(data, "kommun", "vakt", "hus", "annan") == ["kommun", "vakt"]
    assert scene.annan.org.name not in data

    page = body(client, MAP)
    assert f"Delad av {label(scene.vakt, 'vaktbolag')}" in page
    assert f"Delad av {label(scene.hus, 'bostadsbolag')}" in page
    assert leaked(page, "kommun", "vakt", "hus", "annan") == ["kommun", "vakt"]
    assert scene.annan.org.name not in page


def test_an_analyst_maps_only_its_own_organisation_without_text(
    app: Flask, scene: SharedScene
) -> None:
    client = as_person(app, scene.kommun, "analyst")
    assert set(map_incidents(client)) == ids(scene.kommun)
    for url in (DATA, MAP):
        text = body(client, url)
        assert leaked(text, "kommun", "vakt", "hus", "annan") == []
        assert not [p for p in OTHERS if scene.party(p).org.name in text]


@pytest.mark.parametrize("receiver", ["hus", "annan"])
def test_a_counts_share_or_none_adds_no_point_to_the_map(
    app: Flask, scene: SharedScene, receiver: str
) -> None:
    party = scene.party(receiver)
    client = as_person(app, party, "coordinator")
    assert set(map_incidents(client)) == ids(party)
    text = body(client, DATA) + body(client, MAP)
    assert leaked(text, "kommun", "vakt", "hus", "annan") == [receiver]
    assert scene.kommun.org.name not in text


# --- trends ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "role", "total", "miljo", "sources"),
    [
        # Own 2, the guard company's 2, the housing company's damage only.
        ("kommun", "coordinator", 5, 2, ("vakt", "hus")),
        ("kommun", "admin", 5, 2, ("vakt", "hus")),
        ("kommun", "analyst", 2, 1, ()),
        # Own 2 plus the municipality's counts.
        ("hus", "coordinator", 4, 2, ("kommun",)),
        ("hus", "analyst", 2, 1, ()),
        ("vakt", "coordinator", 2, 1, ()),
        ("annan", "coordinator", 2, 1, ()),
    ],
)
def test_trends_count_every_level_of_what_is_shared_and_nothing_else(
    app: Flask,
    scene: SharedScene,
    who: str,
    role: str,
    total: int,
    miljo: int,
    sources: tuple[str, ...],
) -> None:
    client = as_person(app, scene.party(who), role)
    html = body(client, f"{TRENDS}?to={today()}&weeks=1")
    assert chart_total(html, "Alla rapporter") == total
    assert chart_total(html, MILJO) == miljo
    names = {n: scene.party(n).org.name for n in ("kommun", "vakt", "hus", "annan")}
    assert {n for n, name in names.items() if name in html and n != who} == set(sources)
    assert leaked(html, "kommun", "vakt", "hus", "annan") == []


def test_trends_name_a_sharing_organisations_areas_and_keep_out_uncovered_ones(
    app: Flask, scene: SharedScene
) -> None:
    # The housing company's area around its damage report; a share limited to it.
    areas.import_areas(
        scene.hus.org.id, _square("hus-centrum", "Husgården", 55.60, 13.10), code_property="code"
    )
    sharing.share(scene.hus.org, scene.annan.org, "counts", areas=["hus-centrum"])
    client = as_person(app, scene.annan, "coordinator")
    html = body(client, f"{TRENDS}?to={today()}&weeks=1")
    assert chart_total(html, f"Husgården ({scene.hus.org.name})") == 1
    # Damage in the area counts, the environment report outside it does not.
    assert chart_total(html, "Alla rapporter") == 3
    assert chart_total(html, MILJO) == 1
    # A counts share gives no points to the map.
    assert set(map_incidents(client)) == ids(scene.annan)


def _square(code: str, name: str, lat: float, lon: float) -> dict:
    d = 0.01
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name, "code": code},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }


# --- places ----------------------------------------------------------------------------------

SPOTS = {  # three reports at each spot make a recurring place
    ("hus", "skadegorelse"): (56.1111, 14.1111),
    ("hus", "miljo"): (56.2222, 14.2222),
    ("annan", "skadegorelse"): (56.3333, 14.3333),
    ("kommun", "skadegorelse"): (56.4444, 14.4444),
    ("vakt", "skadegorelse"): (56.5555, 14.5555),
}


def _recurring_spots(app: Flask, scene: SharedScene) -> None:
    """Push three reports at each spot, by the spot's organisation and in its category."""
    client = app.test_client()
    for (name, category), (lat, lon) in SPOTS.items():
        reports = [
            factories.night_report(
                23,
                n,
                category=category,
                description=f"{MARK[name]} igen",
                place=f"{MARK[name]} hörnet",
                location={"lat": lat, "lon": lon, "accuracy_m": 5.0},
            )
            for n in range(3)
        ]
        push(client, scene.party(name).device, *reports)


def spot(where: tuple[str, str]) -> str:
    lat, lon = SPOTS[where]
    return f"{lat}, {lon}"


@pytest.mark.parametrize(
    ("who", "role", "seen"),
    [
        # Positions are item-level: only own and `reports`+ shares, in their categories.
        (
            "kommun",
            "coordinator",
            {("kommun", "skadegorelse"), ("vakt", "skadegorelse"), ("hus", "skadegorelse")},
        ),
        ("kommun", "analyst", {("kommun", "skadegorelse")}),
        # The municipality's counts share gives no positions.
        ("hus", "coordinator", {("hus", "skadegorelse"), ("hus", "miljo")}),
        ("annan", "coordinator", {("annan", "skadegorelse")}),
    ],
)
def test_recurring_places_include_shared_positions_only_at_reports_or_more(
    app: Flask, scene: SharedScene, who: str, role: str, seen: set[tuple[str, str]]
) -> None:
    _recurring_spots(app, scene)
    client = as_person(app, scene.party(who), role)
    page = body(client, PLACES)
    assert {where for where in SPOTS if spot(where) in page} == seen
    recurring = [
        f["properties"]
        for f in json.loads(body(client, DATA))["features"]
        if f["properties"]["kind"] == "recurring"
    ]
    assert {(p["lat"], p["lon"]) for p in recurring} & set(SPOTS.values()) == {
        SPOTS[w] for w in seen
    }
    assert leaked(page, "kommun", "vakt", "hus", "annan") == []
    for name in {n for n, _ in seen} - {who}:
        assert f"Med rapporter delade av {scene.party(name).org.name}" in page


def test_named_places_stay_with_their_organisation(app: Flask, scene: SharedScene) -> None:
    lat, lon = 55.60, 13.10  # the housing company's damage report
    areas.create_place(scene.hus.org.id, "Husets gård HEMLIGNAMN", lat, lon, 200, None)
    own = as_person(app, scene.hus, "coordinator")
    assert "Husets gård HEMLIGNAMN" in body(own, PLACES)
    client = as_person(app, scene.kommun, "coordinator")
    for url in (PLACES, MAP, DATA):
        assert "HEMLIGNAMN" not in body(client, url)


# --- exports ---------------------------------------------------------------------------------


def test_exports_hold_shared_rows_with_their_owner_and_text_only_at_full(
    app: Flask, scene: SharedScene
) -> None:
    client = as_person(app, scene.kommun, "coordinator")
    rows = {r["Händelse-id"]: r for r in csv_rows(client, INCIDENTS_CSV)}
    assert set(rows) == ids(scene.kommun, scene.vakt) | ids(scene.hus, only=("skadegorelse",))
    hus = rows[str(scene.hus.incidents["skadegorelse"])]
    assert hus["Ägare"] == label(scene.hus, "bostadsbolag")
    assert (hus["Plats"], hus["Beskrivning"]) == ("", "")  # place text and summary
    vakt = rows[str(scene.vakt.incidents["skadegorelse"])]
    assert vakt["Ägare"] == label(scene.vakt, "vaktbolag") and MARK["vakt"] in vakt["Plats"]
    assert rows[str(scene.kommun.incidents["miljo"])]["Ägare"] == label(scene.kommun, "kommun")

    reports = {r["Rapport-id"]: r for r in csv_rows(client, REPORTS_CSV)}
    wanted = {*scene.kommun.reports.values(), *scene.vakt.reports.values()}
    assert set(reports) == wanted | {scene.hus.reports["skadegorelse"]}
    hus_report = reports[scene.hus.reports["skadegorelse"]]
    assert [hus_report[c] for c in ("Beskrivning", "Plats", "Antal foton")] == ["", "", ""]
    assert MARK["vakt"] in reports[scene.vakt.reports["miljo"]]["Beskrivning"]

    doc = json.loads(body(client, GEOJSON))
    features = {f["id"]: f["properties"] for f in doc["features"]}
    assert set(features) == set(rows)
    shared = features[str(scene.hus.incidents["skadegorelse"])]
    assert "place" not in shared and "summary" not in shared
    assert shared["owner"] == label(scene.hus, "bostadsbolag")
    assert MARK["vakt"] in features[str(scene.vakt.incidents["miljo"])]["place"]

    everything = "".join(body(client, url) for url in (INCIDENTS_CSV, REPORTS_CSV, GEOJSON))
    assert leaked(everything, "kommun", "vakt", "hus", "annan") == ["kommun", "vakt"]
    for name in MARK:  # never a device's name, own or shared
        assert scene.party(name).device.device.display_name not in everything
    assert scene.annan.org.name not in everything


@pytest.mark.parametrize(
    ("who", "role", "texts"),
    [
        ("kommun", "analyst", []),
        ("hus", "coordinator", ["hus"]),
        ("annan", "coordinator", ["annan"]),
    ],
)
def test_exports_of_own_scope_only_keep_their_columns_and_rows(
    app: Flask, scene: SharedScene, who: str, role: str, texts: list[str]
) -> None:
    party = scene.party(who)
    client = as_person(app, party, role)
    rows = csv_rows(client, INCIDENTS_CSV)
    assert {r["Händelse-id"] for r in rows} == ids(party)
    assert "Ägare" not in rows[0]
    reports = csv_rows(client, REPORTS_CSV)
    assert {r["Rapport-id"] for r in reports} == set(party.reports.values())
    doc = json.loads(body(client, GEOJSON))
    assert {f["id"] for f in doc["features"]} == ids(party)
    assert all("owner" not in f["properties"] for f in doc["features"])
    everything = "".join(body(client, url) for url in (INCIDENTS_CSV, REPORTS_CSV, GEOJSON))
    assert leaked(everything, "kommun", "vakt", "hus", "annan") == texts


def test_a_viewer_gets_no_insight_page_nor_export(app: Flask, scene: SharedScene) -> None:
    client = as_person(app, scene.kommun, "viewer")
    for url in INSIGHT:
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert not leaked(resp.get_data(as_text=True), "kommun", "vakt", "hus", "annan")


# --- revocation ------------------------------------------------------------------------------


def test_revoking_takes_effect_on_the_next_request(app: Flask, scene: SharedScene) -> None:
    client = as_person(app, scene.kommun, "coordinator")
    trends = f"{TRENDS}?to={today()}&weeks=1"
    assert ids(scene.vakt) <= set(map_incidents(client))
    assert chart_total(body(client, trends), "Alla rapporter") == 5

    sharing.revoke(scene.agreements["vakt_full"].id)

    assert set(map_incidents(client)) == ids(scene.kommun) | ids(scene.hus, only=("skadegorelse",))
    assert chart_total(body(client, trends), "Alla rapporter") == 3
    exported = "".join(body(client, url) for url in (INCIDENTS_CSV, REPORTS_CSV, GEOJSON))
    assert MARK["vakt"] not in exported and scene.vakt.org.name not in exported
    assert not ids(scene.vakt) & {r["Händelse-id"] for r in csv_rows(client, INCIDENTS_CSV)}


# --- photos ----------------------------------------------------------------------------------


def test_a_shared_photo_is_served_only_at_full(app: Flask, scene: SharedScene) -> None:
    from server.photos.service import photo_for_scope
    from tests.support.photos import STORED, jpeg, put, sha

    client = app.test_client()
    hashes: dict[str, str] = {}
    for seed, name in enumerate(("kommun", "vakt", "hus", "annan"), start=1):
        data = jpeg(seed=seed)
        party = scene.party(name)
        assert put(client, party.device, data).status_code in STORED
        # Damage: the category the housing company shares (at `reports`).
        push(client, party.device, factories.night_report(23, 30, photos=[sha(data)]))
        hashes[name] = sha(data)

    def served(org: Party, role: str) -> set[str]:
        scope = scope_for(org.org.id, role)
        return {n for n, h in hashes.items() if photo_for_scope(scope, h, "thumb") is not None}

    assert served(scene.kommun, "coordinator") == {"kommun", "vakt"}
    assert served(scene.kommun, "admin") == {"kommun", "vakt"}
    assert served(scene.kommun, "viewer") == {"kommun"}
    assert served(scene.kommun, "analyst") == {"kommun"}
    assert served(scene.hus, "coordinator") == {"hus"}  # counts give no photos
    assert served(scene.annan, "coordinator") == {"annan"}
    scope = scope_for(scene.kommun.org.id, "coordinator")
    assert photo_for_scope(scope, hashes["vakt"], "huge") is None
    assert photo_for_scope(scope, "not-a-hash", "thumb") is None

    sharing.revoke(scene.agreements["vakt_full"].id)
    assert served(scene.kommun, "coordinator") == {"kommun"}

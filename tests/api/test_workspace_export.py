"""Exports: CSV that Swedish Excel opens intact and cannot be tricked by, GeoJSON for maps."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from flask import Flask

from server.workspace.export import cell
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    audit_actions,
    cheap_hashing,
    login,
    make_scene,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

BOM = b"\xef\xbb\xbf"
INJECTIONS = [
    '=HYPERLINK("http://evil.example","Klicka")',
    "+46 70 123 45 67",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
]


@pytest.fixture
def scene(app: Flask) -> Scene:
    return make_scene()


@pytest.fixture
def logged_in(client, scene: Scene):
    assert login(client, scene.who).status_code == 302
    return client


def read_csv(resp) -> list[list[str]]:
    """Check the Excel dialect of a CSV download and return its rows."""
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_data()
    assert body.startswith(BOM), body[:10]
    decoded = body[len(BOM) :].decode("utf-8")
    assert "\r\n" in decoded
    return list(csv.reader(io.StringIO(decoded, newline=""), delimiter=";"))


def test_incidents_csv(logged_in, scene: Scene) -> None:
    rows = read_csv(logged_in.get("/workspace/export/incidents.csv"))
    header, data = rows[0], rows[1:]
    assert header[0] == "Händelse-id"
    assert "Högsta allvarlighetsgrad" in header and "Beskrivning" in header
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in data}
    assert set(by_id) == {str(scene.first), str(scene.second)}
    first = by_id[str(scene.first)]
    assert first["Kategori"] == "Skadegörelse"
    assert first["Status"] == "Ny"
    assert first["Antal rapporter"] == "2"
    assert first["Rapportörer"] == "väktare"
    assert first["Brådskande"] == "nej"
    assert first["Plats"] == "Busskuren Malmövägen"
    assert first["Beskrivning"] == "Krossad ruta i busskuren."
    assert first["Latitud"] == "55,6398"  # a decimal comma, as Swedish Excel reads numbers
    assert first["Första rapport"].count(":") == 1  # "YYYY-MM-DD HH:MM", local time


def test_reports_csv_has_every_report_with_its_description(logged_in, scene: Scene) -> None:
    rows = read_csv(logged_in.get("/workspace/export/reports.csv"))
    header, data = rows[0], rows[1:]
    assert header[:2] == ["Rapport-id", "Händelse-id"]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in data}
    assert set(by_id) == {*scene.first_reports, scene.second_report}
    lamp = by_id[scene.second_report]
    assert lamp["Beskrivning"] == "Släckt belysning på gångvägen."
    assert lamp["Kategori"] == "Brister i miljön"
    assert lamp["Händelse-id"] == str(scene.second)
    assert lamp["Rapportör"] == "väktare"
    assert lamp["Noggrannhet (m)"] == "8,0"


def test_exports_follow_the_list_filter(logged_in, scene: Scene) -> None:
    rows = read_csv(logged_in.get("/workspace/export/incidents.csv?category=miljo"))
    assert [r[0] for r in rows[1:]] == [str(scene.second)]
    rows = read_csv(logged_in.get("/workspace/export/reports.csv?category=skadegorelse"))
    assert sorted(r[0] for r in rows[1:]) == sorted(scene.first_reports)
    doc = logged_in.get("/workspace/export/incidents.geojson?category=miljo").get_json(force=True)
    assert [f["id"] for f in doc["features"]] == [str(scene.second)]


def test_exports_defuse_formulas_and_keep_swedish_text(app: Flask, client) -> None:
    org = factories.make_org()
    who = factories.make_person(org)
    dev = factories.make_device(org)
    reports = [
        factories.night_report(
            19,
            i,
            description=text,
            place=text,
            location={"lat": 55.60 + i / 100, "lon": 13.10 + i / 100, "accuracy_m": 5.0},
        )
        for i, text in enumerate(INJECTIONS)
    ]
    swedish = factories.night_report(
        21,
        0,
        description='Åäö ÅÄÖ é – "citat"; semikolon\noch ny rad',
        location={"lat": 55.7, "lon": 13.3, "accuracy_m": 5.0},
        place="Kärrbäcksvägen",
    )
    push(client, dev, *reports, swedish)
    login(client, who)
    rows = read_csv(client.get("/workspace/export/reports.csv"))
    header, data = rows[0], rows[1:]
    col = header.index("Beskrivning")
    place = header.index("Plats")
    descriptions = {r[col] for r in data}
    for text in INJECTIONS:
        assert "'" + text in descriptions, text
        assert text not in descriptions
    assert {r[place] for r in data} >= {"'" + t for t in INJECTIONS}
    assert 'Åäö ÅÄÖ é – "citat"; semikolon\noch ny rad' in descriptions
    assert "Kärrbäcksvägen" in {r[place] for r in data}
    # Every cell of every row starts harmlessly.
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    incidents = read_csv(client.get("/workspace/export/incidents.csv"))
    for row in incidents:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\r=1", "'\r=1"),
        ("vanlig text", "vanlig text"),
        ("", ""),
        (None, ""),
        (3, "3"),
        (-13.25, "-13,25"),  # numbers are written by us, never by a reporter
        (True, "ja"),
    ],
)
def test_cell(app: Flask, value: object, expected: str) -> None:
    with app.test_request_context("/workspace/export/incidents.csv"):
        assert cell(value) == expected


def test_exports_hold_no_names(app: Flask, client) -> None:
    org = factories.make_org()
    who = factories.make_person(org, email="samordnare@example.se")
    dev = factories.make_device(org, name="Väktarbil Kalle Karlsson")
    body = factories.night_report(20, 0)
    push(client, dev, body)
    login(client, who)
    assert "Kalle" not in client.get("/workspace/").get_data(as_text=True)
    for url in (
        "/workspace/export/incidents.csv",
        "/workspace/export/reports.csv",
        "/workspace/export/incidents.geojson",
    ):
        data = client.get(url).get_data().decode("utf-8-sig")
        assert "Kalle" not in data and "Väktarbil" not in data
        assert "samordnare@example.se" not in data


def test_geojson(logged_in, scene: Scene) -> None:
    resp = logged_in.get("/workspace/export/incidents.geojson")
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
    doc = json.loads(resp.get_data(as_text=True))
    assert doc["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in doc["features"]}
    assert set(by_id) == {str(scene.first), str(scene.second)}
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert set(feature) == {"type", "id", "geometry", "properties"}
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        lon, lat = geometry["coordinates"]  # RFC 7946: longitude first
        assert -180 <= lon <= 180 and -90 <= lat <= 90
    first = by_id[str(scene.first)]
    assert first["geometry"]["coordinates"] == [13.2083, 55.6398]
    props = first["properties"]
    assert props["category"] == "skadegorelse" and props["category_label"] == "Skadegörelse"
    assert props["report_count"] == 2 and props["device_kinds"] == ["vaktare"]
    assert props["url"] == f"/workspace/incidents/{scene.first}"
    assert props["summary"] == "Krossad ruta i busskuren."
    # Swedish characters travel as UTF-8, not escapes.
    assert "Skadegörelse".encode() in resp.get_data()


def test_geojson_incident_without_position_has_null_geometry(app: Flask, client) -> None:
    org = factories.make_org()
    who = factories.make_person(org)
    dev = factories.make_device(org)
    push(client, dev, factories.night_report(20, 0, location=None, place="Okänd plats"))
    login(client, who)
    doc = client.get("/workspace/export/incidents.geojson").get_json(force=True)
    assert [f["geometry"] for f in doc["features"]] == [None]


def test_every_export_is_audited(logged_in, scene: Scene) -> None:
    for url in (
        "/workspace/export/incidents.csv?category=miljo",
        "/workspace/export/reports.csv",
        "/workspace/export/incidents.geojson?status=ny",
    ):
        assert logged_in.get(url).status_code == 200
    actions = [a for a in audit_actions(scene.who.person.id) if a[0].startswith("export.")]
    assert [a for a, _ in actions] == [
        "export.incidents_csv",
        "export.reports_csv",
        "export.incidents_geojson",
    ]
    assert "category=miljo" in actions[0][1]
    assert "status=ny" in actions[2][1]


def test_exports_need_a_login(client, scene: Scene) -> None:
    for url in ("/workspace/export/incidents.csv", "/workspace/export/incidents.geojson"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/workspace/login" in resp.location


def test_exports_hold_only_the_own_organisation(logged_in, scene: Scene) -> None:
    other = make_scene()
    data = logged_in.get("/workspace/export/reports.csv").get_data().decode("utf-8-sig")
    for rid in [*other.first_reports, other.second_report]:
        assert rid not in data
    assert str(uuid.UUID(scene.first_reports[0])) in data

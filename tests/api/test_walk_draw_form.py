"""The walk form's route map, server side: its tiles, its policy, its areas' boxes, its texts.

The drawing itself is tests/browser/test_walk_draw.py; here the page gives the map what it
needs, and what the map writes into the fields is stored by the one parsing path.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask

from server.extensions import db
from server.walks.models import Walk
from server.workspace.walk_views import area_bounds
from tests.support import factories
from tests.support.walks import area_of, make_walk
from tests.support.workspace import cheap_hashing, login, post  # noqa: F401

pytestmark = pytest.mark.usefixtures("cheap_hashing")

OWN_TILES = "https://kartor.mjolby.example/tiles/{z}/{x}/{y}.png"
CREDIT = "© Mjölby kommun <b>Lantmäteriet</b>"


@pytest.fixture
def coordinator(client, org):
    who = factories.make_person(org, "coordinator", email="samordnare@mjolby.example")
    assert login(client, who).status_code == 302
    return who


@pytest.mark.parametrize("page", ["list", "edit", "refused"])
def test_the_walk_form_has_the_route_map_with_the_configured_tiles(
    app: Flask, client, org, coordinator, page: str
) -> None:
    app.config.update(MAP_TILE_URL=OWN_TILES, MAP_ATTRIBUTION=CREDIT)
    area = area_of(org)
    walk = make_walk(org)
    if page == "list":
        resp = client.get("/workspace/walks")
    elif page == "edit":
        resp = client.get(f"/workspace/walks/{walk.id}")
    else:  # a refused plan comes back with its map too
        resp = post(client, "/workspace/walks", {"area": str(area.id), "date": "igår"})
    assert resp.status_code == (400 if page == "refused" else 200)
    html = resp.get_data(as_text=True)
    assert 'id="walk-draw" hidden' in html and f'data-tiles="{OWN_TILES}"' in html
    assert "&lt;b&gt;Lantmäteriet&lt;/b&gt;" in html and "<b>Lantmäteriet" not in html
    for label in ("Lägg till stopp", "Ångra punkt", "Rensa", 'data-label-stop="Stopp {n}"'):
        assert label in html
    assert 'type="module" src="/workspace/static/walk-draw.js"' in html
    assert f'value="{area.id}" data-bounds="13.2,55.6,13.3,55.7"' in html
    csp = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://kartor.mjolby.example;" in csp
    assert "script-src 'self';" in csp


def test_the_map_texts_are_english_on_request(client, org, coordinator) -> None:
    area_of(org)
    html = client.get("/workspace/walks?lang=en").get_data(as_text=True)
    for label in ("Add stops", "Undo point", "Clear", 'data-label-stop="Stop {n}"'):
        assert label in html


def test_without_areas_there_is_no_form_and_no_map(client, org, coordinator) -> None:
    html = client.get("/workspace/walks").get_data(as_text=True)
    assert 'id="walk-draw"' not in html and "walk-draw.js" not in html


def test_what_the_map_writes_is_stored_in_order(client, org, coordinator) -> None:
    # The fields exactly as walk-draw-fields.js writes them: a LineString of six-decimal
    # [lon, lat] points and "name; lat; lon" lines.
    area = area_of(org)
    route = {
        "type": "LineString",
        "coordinates": [[13.21, 55.63], [13.215123, 55.632], [13.22, 55.635], [13.23, 55.64]],
    }
    body = {
        "area": str(area.id),
        "date": "2026-12-10",
        "route": json.dumps(route),
        "stops": "Stopp 1; 55.631; 13.212\nTorget, norra; 55.638; 13.225",
    }
    resp = post(client, "/workspace/walks", body)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    walk = db.session.query(Walk).one()
    assert walk.route == route
    assert walk.stops == [
        {"name": "Stopp 1", "lat": 55.631, "lon": 13.212},
        {"name": "Torget, norra", "lat": 55.638, "lon": 13.225},
    ]


@pytest.mark.parametrize(
    ("geometry", "box"),
    [
        (
            {"type": "Polygon", "coordinates": [[[13.2, 55.6], [13.3, 55.6], [13.3, 55.7]]]},
            "13.2,55.6,13.3,55.7",
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[13.0, 55.0], [13.1, 55.0], [13.1, 55.1]]],
                    [[[14.0, 56.0], [14.5, 56.0], [14.5, 56.2]]],
                ],
            },
            "13.0,55.0,14.5,56.2",
        ),
        ({"type": "Polygon", "coordinates": []}, ""),
        ({"type": "GeometryCollection", "geometries": []}, ""),
        (None, ""),
    ],
)
def test_an_areas_box_for_the_map(geometry: object, box: str) -> None:
    assert area_bounds(geometry) == box

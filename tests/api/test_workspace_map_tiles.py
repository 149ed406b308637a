"""The maps' tile server is a setting: every map page loads it and its CSP allows its origin."""

from __future__ import annotations

import pytest
from flask import Flask

from server.config import ConfigError, Settings, flask_config
from server.workspace.tiles import tile_source
from tests.support import factories
from tests.support.workspace import login, push

OWN_TILES = "https://kartor.mjolby.example/tiles/{z}/{x}/{y}.png"
CREDIT = "© Mjölby kommun <b>Lantmäteriet</b>"


def _incident_page(app: Flask) -> tuple[object, str]:
    """Log a coordinator in and return the client and an incident's address (with a map)."""
    org = factories.make_org("Mjölby kommun")
    who = factories.make_person(org)
    dev = factories.make_device(org)
    client = app.test_client()
    (report_id,) = push(client, dev, factories.night_report(21))
    login(client, who)
    return client, f"/workspace/incidents/{report_id}"


@pytest.mark.parametrize("path", ["/workspace/map", "incident"])
def test_every_map_uses_the_configured_tile_server(app: Flask, path: str) -> None:
    app.config.update(MAP_TILE_URL=OWN_TILES, MAP_ATTRIBUTION=CREDIT)
    client, incident = _incident_page(app)
    resp = client.get(incident if path == "incident" else path)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'data-tiles="{OWN_TILES}"' in html
    # The credit is text: escaped into the page, never markup.
    assert "&lt;b&gt;Lantmäteriet&lt;/b&gt;" in html and "<b>Lantmäteriet" not in html
    assert "openstreetmap" not in html.lower()
    csp = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://kartor.mjolby.example;" in csp
    assert "openstreetmap" not in csp


def test_the_default_is_openstreetmap(app: Flask) -> None:
    client, incident = _incident_page(app)
    resp = client.get(incident)
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in resp.get_data(
        as_text=True
    )
    assert (
        "img-src 'self' data: blob: https://tile.openstreetmap.org;"
        in (resp.headers["Content-Security-Policy"])
    )


def test_tiles_on_this_server_need_only_self(app: Flask) -> None:
    app.config.update(MAP_TILE_URL="/tiles/{z}/{x}/{y}.png")
    client, incident = _incident_page(app)
    csp = client.get(incident).headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in csp


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tiles.example:8443/{z}/{x}/{y}.png", "https://*.tiles.example:8443"),
        ("/tiles/{z}/{x}/{y}.png", ""),
    ],
)
def test_tile_source(url: str, source: str) -> None:
    assert tile_source(url) == source


@pytest.mark.parametrize(
    "bad",
    [
        "https://tiles.example/{z}/{x}.png",  # no {y}
        "ftp://tiles.example/{z}/{x}/{y}.png",
        "//tiles.example/{z}/{x}/{y}.png",  # scheme-relative: neither a path nor an origin
        "https://tiles.example/{z}/{x}/{y}.png; script-src *",
        "https://{z}.tiles.example/{z}/{x}/{y}.png",
    ],
)
def test_a_bad_tile_url_stops_the_start(monkeypatch, tmp_path, bad: str) -> None:
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    monkeypatch.setenv("LAGESBILD_MAP_TILE_URL", bad)
    with pytest.raises(ConfigError, match="LAGESBILD_MAP_TILE_URL"):
        flask_config(Settings.from_env(), str(tmp_path))

"""Calm rounds are presence, not incidents: the incident list and the map leave them out
unless the category is chosen, and say where they are shown. Both lanes."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.incidents.models import Incident
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

LIST_ROW = re.compile(r'data-incident="([0-9a-f-]+)"')
MAP_ROW = re.compile(r'class="map-incident[^"]*" data-id="([0-9a-f-]+)"')


@pytest.fixture
def scene(app: Flask) -> tuple[FlaskClient, str, str]:
    """A coordinator's client, the id of a vandalism incident and of a calm round's."""
    org = factories.make_org("Lunds kommun")
    who = factories.make_person(org)
    dev = factories.make_device(org)
    client = app.test_client()
    push(
        client,
        dev,
        factories.night_report(22, 10, category="skadegorelse", description="Krossad ruta."),
        factories.night_report(
            23, 40, category="lugnt", location={"lat": 55.71, "lon": 13.19, "accuracy_m": 8.0}
        ),
    )
    login(client, who)
    ids = {i.category_code: str(i.id) for i in db.session.scalars(select(Incident))}
    return client, ids["skadegorelse"], ids["lugnt"]


@pytest.mark.parametrize(
    ("path", "row"), [("/workspace/incidents", LIST_ROW), ("/workspace/map", MAP_ROW)]
)
def test_calm_rounds_are_left_out_unless_their_category_is_chosen(
    scene: tuple[FlaskClient, str, str], path: str, row: re.Pattern[str]
) -> None:
    client, real, calm = scene
    html = client.get(path).get_data(as_text=True)
    assert set(row.findall(html)) == {real}
    chosen = client.get(f"{path}?category=lugnt").get_data(as_text=True)
    assert set(row.findall(chosen)) == {calm}


def test_the_list_says_where_calm_rounds_are(scene: tuple[FlaskClient, str, str]) -> None:
    client, _real, _calm = scene
    html = client.get("/workspace/incidents").get_data(as_text=True)
    assert 'id="calm-hidden"' in html and "Lugna pass visas inte här" in html
    chosen = client.get("/workspace/incidents?category=skadegorelse").get_data(as_text=True)
    assert 'id="calm-hidden"' not in chosen


def test_trend_counts_leave_calm_rounds_out(scene: tuple[FlaskClient, str, str]) -> None:
    from datetime import timedelta

    from server.incidents import queries
    from sync.clock import utcnow

    incident = db.session.scalars(select(Incident)).first()
    assert incident is not None
    today = utcnow().date()
    counts = queries.daily_counts(
        incident.org_id, today - timedelta(days=3), today + timedelta(days=1)
    )
    assert sum(counts.total.values()) == 1
    assert {category for category, _day in counts.by_category} == {"skadegorelse"}

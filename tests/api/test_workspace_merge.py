"""Merging in the workspace: a confirmation that names the result, and no calm-round title."""

from __future__ import annotations

import uuid

import pytest
from flask import current_app
from flask.testing import FlaskClient

from server.extensions import db
from server.incidents import service as incidents
from server.incidents.models import Incident
from server.reports.models import Report
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    cheap_hashing,
    login,
    make_scene,
    post,
    push,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture
def scene(app) -> Scene:
    """Last night's scene, plus a calm round reported at 21:00."""
    return make_scene()


def _calm_round(scene: Scene) -> uuid.UUID:
    """Push a calm round ("lugnt") from the scene's device; return its incident."""
    calm = factories.night_report(
        21, 0, category="lugnt", description="Lugn runda, inget att rapportera.", place="Torget"
    )
    push(_client(), scene.device, calm)
    found = db.session.get(Report, uuid.UUID(calm["id"])).incident_id
    assert found is not None
    return found


def _client() -> FlaskClient:
    """Return a test client of the current app."""
    return current_app.test_client()


def test_merging_a_real_incident_into_a_calm_round_keeps_the_real_name(scene: Scene) -> None:
    calm = _calm_round(scene)
    merged = incidents.merge(scene.org.id, calm, scene.first, None)
    assert merged.id == calm  # the target keeps its id (links stay valid)
    db.session.expire_all()
    row = db.session.get(Incident, calm)
    assert row.category_code == "skadegorelse"
    assert row.place == "Busskuren Malmövägen"
    assert row.summary == "Krossad ruta i busskuren."
    assert row.report_count == 3


def test_merge_asks_first_and_names_the_result(scene: Scene) -> None:
    calm = _calm_round(scene)
    client = _client()
    login(client, scene.who)
    page = client.get(f"/workspace/incidents/{calm}").get_data(as_text=True)
    assert f'<option value="{scene.first}">' in page
    before = snapshot(scene)

    # The first press only shows what will happen: nothing is merged yet.
    resp = post(client, f"/workspace/incidents/{calm}/merge", {"source": str(scene.first)})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Bekräfta sammanslagningen" in html
    assert "Skadegörelse – Busskuren Malmövägen" in html  # what it will be called
    assert 'name="confirm" value="yes"' in html
    assert f'value="{scene.first}"' in html
    assert snapshot(scene) == before

    # Confirmed: merged, and called what the confirmation said.
    resp = post(
        client,
        f"/workspace/incidents/{calm}/merge",
        {"source": str(scene.first), "confirm": "yes"},
    )
    assert resp.status_code == 302 and resp.location.endswith(str(calm))
    after = client.get(resp.location).get_data(as_text=True)
    assert "Händelserna är ihopslagna" in after
    assert "<h1>" in after and "Skadegörelse – Busskuren Malmövägen" in after
    db.session.expire_all()
    assert db.session.get(Incident, scene.first) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [("self", "Det är samma händelse"), ("missing", "finns inte (längre)")],
)
def test_a_confirmation_that_cannot_be_made_says_why(
    scene: Scene, source: str, expected: str
) -> None:
    client = _client()
    login(client, scene.who)
    value = str(scene.first) if source == "self" else str(uuid.uuid4())
    before = snapshot(scene)
    resp = post(client, f"/workspace/incidents/{scene.first}/merge", {"source": value})
    assert resp.status_code == 302
    assert expected in client.get(resp.location).get_data(as_text=True)
    assert snapshot(scene) == before

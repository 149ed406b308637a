"""Shared incidents in the night view, the incident list and an incident's page.

The shared scene (tests/support/sharing.py): the guard company shares everything with the
municipality, the housing company only damage without free text, the municipality only
counts with the housing company, and a fourth organisation nothing. Every free text
carries its organisation's marker, so each test can tell exactly what leaked.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.extensions import db
from server.incidents.models import Incident
from server.reports.models import Report, ReportComment
from server.sharing import service as sharing
from tests.support import factories
from tests.support.sharing import MARK, SharedScene, make_shared_scene
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    post,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

LISTS = ("/workspace/", "/workspace/incidents")


@pytest.fixture
def scene(app: Flask) -> SharedScene:
    """Build the four organisations and their agreements."""
    return make_shared_scene()


def as_person(app: Flask, scene: SharedScene, org: str, role: str = "coordinator") -> FlaskClient:
    """Return a client logged in as a person of the organisation with the role."""
    client = app.test_client()
    assert login(client, scene.party(org).persons[role]).status_code == 302
    return client


def link(incident: uuid.UUID) -> str:
    """Return the workspace link of an incident."""
    return f"/workspace/incidents/{incident}"


def status_of(incident: uuid.UUID) -> str:
    """Read an incident's status afresh."""
    db.session.expire_all()
    status = db.session.scalar(select(Incident.status).where(Incident.id == incident))
    db.session.commit()
    return str(status)


@pytest.mark.parametrize("page", LISTS)
def test_a_coordinator_sees_what_is_shared_and_nothing_else(
    app: Flask, scene: SharedScene, page: str
) -> None:
    client = as_person(app, scene, "kommun")
    html = client.get(page).get_data(as_text=True)
    # Own and the guard company's (full): every incident, with free text.
    for party in (scene.kommun, scene.vakt):
        for incident in party.incidents.values():
            assert link(incident) in html, (page, party.org.name)
    assert MARK["kommun"] in html and MARK["vakt"] in html
    # The housing company: damage only, without its free text.
    assert link(scene.hus.incidents["skadegorelse"]) in html
    assert link(scene.hus.incidents["miljo"]) not in html
    assert MARK["hus"] not in html
    # Shared items are named as their owner's, with its kind.
    assert f"Delad av {scene.vakt.org.name}, vaktbolag" in html
    assert f"Delad av {scene.hus.org.name}, bostadsbolag" in html
    # The organisation that shares nothing: not a trace.
    assert scene.annan.org.name not in html and MARK["annan"] not in html
    for incident in scene.annan.incidents.values():
        assert link(incident) not in html


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_viewers_read_their_own_only_admins_read_shared(
    app: Flask, scene: SharedScene, role: str
) -> None:
    client = as_person(app, scene, "kommun", role)
    html = client.get("/workspace/").get_data(as_text=True)
    assert link(scene.kommun.incidents["miljo"]) in html
    shared = link(scene.vakt.incidents["miljo"]) in html
    assert shared is (role == "admin")
    answer = client.get(link(scene.vakt.incidents["miljo"])).status_code
    assert answer == (200 if role == "admin" else 404)


def test_counts_give_no_incidents(app: Flask, scene: SharedScene) -> None:
    # The municipality shares only counts with the housing company.
    client = as_person(app, scene, "hus")
    html = client.get("/workspace/incidents").get_data(as_text=True)
    assert link(scene.hus.incidents["miljo"]) in html
    assert MARK["kommun"] not in html and scene.kommun.org.name not in html
    for incident in scene.kommun.incidents.values():
        assert link(incident) not in html
        assert client.get(link(incident)).status_code == 404


def test_sharing_is_directional(app: Flask, scene: SharedScene) -> None:
    client = as_person(app, scene, "vakt")
    html = client.get("/workspace/").get_data(as_text=True)
    assert MARK["kommun"] not in html
    assert client.get(link(scene.kommun.incidents["skadegorelse"])).status_code == 404


def test_a_full_share_shows_free_text_and_allows_a_comment_only(
    app: Flask, scene: SharedScene
) -> None:
    client = as_person(app, scene, "kommun")
    target = scene.vakt.incidents["skadegorelse"]
    html = client.get(link(target)).get_data(as_text=True)
    assert MARK["vakt"] in html
    assert f"Delad av {scene.vakt.org.name}, vaktbolag" in html
    assert f"/workspace/incidents/{target}/comment" in html
    assert f"/workspace/incidents/{target}/status" not in html
    assert f"/workspace/incidents/{target}/merge" not in html

    # Status and responsibility stay with the owner.
    before = status_of(target)
    assert post(client, f"{link(target)}/status", {"status": "bedomd"}).status_code == 403
    assert post(client, f"{link(target)}/responsible", {"responsible": "polis"}).status_code == 403
    report = scene.vakt.reports["skadegorelse"]
    assert post(client, f"{link(target)}/reports/{report}/split").status_code == 403
    assert status_of(target) == before

    # A comment goes on the owner's incident; the owner sees it as the municipality's.
    resp = post(client, f"{link(target)}/comment", {"body": "Polisen är informerad."})
    assert resp.status_code == 302 and resp.location.endswith(link(target))
    bodies = db.session.scalars(
        select(ReportComment.body).where(ReportComment.incident_id == target)
    ).all()
    db.session.commit()
    assert bodies == ["Polisen är informerad."]
    owner_view = as_person(app, scene, "vakt").get(link(target)).get_data(as_text=True)
    assert "Polisen är informerad." in owner_view
    assert f"{scene.kommun.org.name}, kommun" in owner_view
    assert scene.kommun.persons["coordinator"].email not in owner_view


def test_a_reports_share_hides_free_text_photos_and_comments(
    app: Flask, scene: SharedScene
) -> None:
    client = as_person(app, scene, "kommun")
    target = scene.hus.incidents["skadegorelse"]
    # The owner's comment is free text: it must not travel under `reports`.
    owner = as_person(app, scene, "hus")
    assert post(owner, f"{link(target)}/comment", {"body": "HUSKOMMENTAR"}).status_code == 302

    resp = client.get(link(target))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert MARK["hus"] not in html and "HUSKOMMENTAR" not in html
    assert scene.hus.device.device.display_name not in html
    assert f"Delad av {scene.hus.org.name}, bostadsbolag" in html
    assert "/comment" not in html and "/status" not in html
    before = status_of(target)
    assert post(client, f"{link(target)}/comment", {"body": "Får vi?"}).status_code == 403
    assert post(client, f"{link(target)}/status", {"status": "bedomd"}).status_code == 403
    assert status_of(target) == before
    assert (
        db.session.scalars(select(ReportComment.body).where(ReportComment.body == "Får vi?")).all()
        == []
    )


@pytest.mark.parametrize("category", ["miljo", "skadegorelse"])
def test_what_is_not_shared_answers_as_missing(
    app: Flask, scene: SharedScene, category: str
) -> None:
    client = as_person(app, scene, "kommun")
    hidden = [scene.annan.incidents[category]]
    if category == "miljo":
        hidden.append(scene.hus.incidents["miljo"])  # outside the agreement's categories
    for incident in hidden:
        assert client.get(link(incident)).status_code == 404
        before = status_of(incident)
        # A decision on it answers as on a missing incident: back to the list.
        resp = post(client, f"{link(incident)}/status", {"status": "bedomd"})
        assert resp.status_code == 302 and resp.location.endswith("/workspace/incidents")
        assert status_of(incident) == before


def test_revoking_takes_effect_on_the_next_request(app: Flask, scene: SharedScene) -> None:
    client = as_person(app, scene, "kommun")
    target = scene.vakt.incidents["miljo"]
    assert client.get(link(target)).status_code == 200
    sharing.revoke(scene.agreements["vakt_full"].id)
    assert client.get(link(target)).status_code == 404
    html = client.get("/workspace/").get_data(as_text=True)
    assert link(target) not in html and MARK["vakt"] not in html
    # The housing company's agreement is untouched.
    assert link(scene.hus.incidents["skadegorelse"]) in html


def test_reading_a_shared_incident_is_in_both_audit_logs(app: Flask, scene: SharedScene) -> None:
    client = as_person(app, scene, "kommun")
    target = scene.vakt.incidents["miljo"]
    assert client.get(link(target)).status_code == 200
    reader = scene.kommun.persons["coordinator"].person.id
    logged = db.session.execute(
        select(AuditEntry.org_id, AuditEntry.action).where(
            AuditEntry.person_id == reader, AuditEntry.target == str(target)
        )
    ).all()
    db.session.commit()
    assert sorted(logged) == sorted(
        [(scene.kommun.org.id, "incident.view"), (scene.vakt.org.id, "incident.view")]
    )


def test_only_the_covered_reports_of_a_shared_incident_are_shown(
    app: Flask, scene: SharedScene
) -> None:
    # A gathering (samling) that turned violent (brott) is one incident; the fourth
    # organisation shares gatherings only.
    sharing.share(scene.annan.org, scene.kommun.org, "full", categories=["samling"])
    where = {"lat": 55.70, "lon": 13.40, "accuracy_m": 5.0}
    gathering = factories.night_report(
        18, 30, category="samling", description="SAMLINGTEXT", location=where
    )
    crime = factories.night_report(
        18, 40, category="brott", description="BROTTTEXT", location=where
    )
    push(app.test_client(), scene.annan.device, gathering, crime)
    db.session.expire_all()
    first = db.session.get(Report, uuid.UUID(gathering["id"]))
    second = db.session.get(Report, uuid.UUID(crime["id"]))
    assert first.incident_id == second.incident_id  # grouped as one scene
    incident = first.incident_id
    db.session.commit()

    client = as_person(app, scene, "kommun")
    page = client.get(link(incident)).get_data(as_text=True)
    assert "SAMLINGTEXT" in page and "BROTTTEXT" not in page
    assert crime["id"] not in page
    listed = client.get("/workspace/incidents").get_data(as_text=True)
    assert link(incident) in listed and "BROTTTEXT" not in listed
    # The owner sees both.
    owner = as_person(app, scene, "annan").get(link(incident)).get_data(as_text=True)
    assert "SAMLINGTEXT" in owner and "BROTTTEXT" in owner

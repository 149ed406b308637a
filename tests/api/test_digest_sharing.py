"""The morning digest and the weekly/monthly lägesbild honour sharing agreements.

The shared scene (tests/support/sharing.py): the municipality sees the guard company in
full, the housing company's damage without free text, nothing of the housing company's
environment report and nothing of the fourth organisation; it gives the housing company
counts only. Every free text carries its organisation's marker, so each assertion says
exactly what reached the digest — its content, its HTML and plain text in both languages,
the e-mail, the workspace pages and the archived copy — and what did not.
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.digest import render, scheduler
from server.digest import service as digest_settings
from server.digest.content import Digest, IncidentItem, build_digest
from server.digest.models import DigestRun
from server.extensions import db
from server.incidents import areas
from server.reports.models import Report
from server.sharing import service as sharing
from server.sharing.rules import Scope
from tests.support import factories
from tests.support.digest import due
from tests.support.photos import STORED, jpeg, put, sha
from tests.support.sharing import MARK, SharedScene, make_shared_scene
from tests.support.smtp import (  # noqa: F401  (fixtures)
    SmtpServer,
    smtp_cert_fixture,
    smtp_server_fixture,
)
from tests.support.workspace import cheap_hashing, login, push  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

BASE = "https://lagesbild.test"
RECIPIENTS = ["samordnare@kommun.test"]
KINDS = ("night", "week", "month")
REPORTS_ONLY = "Delad utan fritext, foton eller enhetsnamn."
REBUILT = "Den här kopian är återskapad"


def items_of(digest: Digest) -> list[IncidentItem]:
    """Every incident the digest lists, in any section."""
    listed = [i for group in digest.areas for i in group.incidents]
    return [*digest.action, *listed, *digest.followups.items]


def everything(digest: Digest) -> str:
    """The digest rendered every way: subject, HTML and text, both languages, both modes."""
    out: list[str] = []
    for lang in ("sv", "en"):
        for mode in ("cid", "url"):
            done = render.render(digest, lang, base_url=BASE, image_mode=mode)
            out += [done.subject, done.html, done.text]
    return "\n".join(out)


def ids(*incidents: uuid.UUID) -> set[str]:
    """Incident ids as the digest writes them."""
    return {str(i) for i in incidents}


def mail_parts(msg: EmailMessage) -> tuple[str, list[EmailMessage]]:
    """Return the message's text and HTML bodies together, and its inline images."""
    plain, second = list(msg.iter_parts())
    if second.get_content_type() == "text/html":
        return plain.get_content() + second.get_content(), []
    html, *images = list(second.iter_parts())
    return plain.get_content() + html.get_content(), images


def as_person(app: Flask, who: factories.Login) -> FlaskClient:
    """Return a client logged in to the workspace as `who`."""
    client = app.test_client()
    assert login(client, who).status_code == 302
    return client


def send_night(org_id: int) -> DigestRun:
    """Send last night's digest now (forced: the night may still be in progress)."""
    digest_settings.configure(org_id, recipients=RECIPIENTS)
    outcome = scheduler.send_now(org_id, "night", due("night"), force=True)
    assert outcome.status == "sent", outcome.error
    run = db.session.get(DigestRun, outcome.run_id, populate_existing=True)
    assert run is not None and run.html
    db.session.commit()
    return run


@pytest.fixture
def scene(app: Flask) -> SharedScene:
    return make_shared_scene()


@pytest.fixture
def mail(app: Flask, smtp_server: SmtpServer) -> SmtpServer:
    """Point the app at the test SMTP server."""
    app.config.update(smtp_server.app_config())
    return smtp_server


# --- content and rendering ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_digest_lists_shared_incidents_by_their_level_of_detail(
    scene: SharedScene, kind: str
) -> None:
    kommun, vakt, hus = scene.kommun, scene.vakt, scene.hus
    digest = build_digest(kommun.org.id, kind, due(kind))
    items = {i.id: i for i in items_of(digest)}
    assert set(items) == ids(
        *kommun.incidents.values(), *vakt.incidents.values(), hus.incidents["skadegorelse"]
    )
    for incident in kommun.incidents.values():
        assert items[str(incident)].owner is None and items[str(incident)].detail == "full"
    for category, incident in vakt.incidents.items():
        item = items[str(incident)]
        assert (item.owner, item.detail) == (vakt.org.id, "full")
        assert item.text == f"{MARK['vakt']} {category} beskrivning."
        assert item.place.startswith(MARK["vakt"])
    damage = items[str(hus.incidents["skadegorelse"])]
    assert (damage.owner, damage.detail) == (hus.org.id, "reports")
    assert (damage.text, damage.place, damage.photos, damage.more_photos) == ("", "", (), 0)

    # Own 2, the guard company's 2, the housing company's damage: its environment report
    # and the fourth organisation count nowhere.
    assert digest.reports == 5 and digest.incidents == 5
    assert digest.trends.totals[0] == 5
    assert {r.key: r.count for r in digest.trends.by_category} == {"skadegorelse": 3, "miljo": 2}
    assert {(o.id, o.detail) for o in digest.owners} == {
        (vakt.org.id, "full"),
        (hus.org.id, "reports"),
    }

    text = everything(digest)
    assert MARK["kommun"] in text and MARK["vakt"] in text
    assert MARK["hus"] not in text and MARK["annan"] not in text
    assert scene.annan.org.name not in text
    assert f"{vakt.org.name}, vaktbolag" in text and f"{vakt.org.name}, guard company" in text
    assert f"Delad av {hus.org.name}, bostadsbolag" in text and REPORTS_ONLY in text
    for party in (kommun, vakt, hus, scene.annan):
        assert party.device.device.display_name not in text


def test_the_organisations_own_items_stay_as_they_were(scene: SharedScene) -> None:
    kommun = scene.kommun
    shared = build_digest(kommun.org.id, "night", due("night"))
    own = build_digest(kommun.org.id, "night", due("night"), scope=Scope.own(kommun.org.id))
    assert [i for i in items_of(shared) if i.owner is None] == items_of(own)
    assert shared.reporting == own.reporting and shared.followups == own.followups
    assert own.owners == () and own.scope_key is None
    assert MARK["vakt"] not in everything(own)


def test_a_counts_share_only_adds_to_the_numbers(scene: SharedScene) -> None:
    hus, kommun = scene.hus, scene.kommun
    digest = build_digest(hus.org.id, "night", due("night"))
    assert {i.id for i in items_of(digest)} == ids(*hus.incidents.values())
    assert all(i.owner is None for i in items_of(digest))
    assert digest.reports == 2 and digest.incidents == 2
    # Its own two reports and the municipality's two, as numbers only.
    assert digest.trends.totals[0] == 4
    assert {r.key: r.count for r in digest.trends.by_category} == {"skadegorelse": 2, "miljo": 2}
    text = everything(digest)
    assert MARK["hus"] in text and f"{kommun.org.name}, kommun: bara antal" in text
    for other in ("kommun", "vakt", "annan"):
        assert MARK[other] not in text


def test_who_shares_nothing_gets_nothing(scene: SharedScene) -> None:
    for party in (scene.vakt, scene.annan):
        digest = build_digest(party.org.id, "night", due("night"))
        assert {i.id for i in items_of(digest)} == ids(*party.incidents.values())
        assert digest.trends.totals[0] == 2 and digest.owners == () and digest.scope_key is None
        text = everything(digest)
        assert [m for m in MARK.values() if m in text] == [MARK[party_name(scene, party)]]


def party_name(scene: SharedScene, party: object) -> str:
    """Return the short name of one of the scene's parties."""
    return next(name for name in MARK if scene.party(name) is party)


def test_an_area_limit_covers_only_items_in_its_areas(scene: SharedScene) -> None:
    hus, kommun = scene.hus, scene.kommun

    def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
        return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]

    # The housing company's damage lies in "Syd", its environment report in "Norr".
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Syd", "code": "syd"},
                "geometry": {"type": "Polygon", "coordinates": square(13.09, 55.59, 13.11, 55.61)},
            },
            {
                "type": "Feature",
                "properties": {"name": "Norr", "code": "norr"},
                "geometry": {"type": "Polygon", "coordinates": square(13.14, 55.64, 13.16, 55.66)},
            },
        ],
    }
    areas.import_areas(hus.org.id, doc, code_property="code")
    sharing.share(hus.org, kommun.org, "full", areas=["syd"])
    digest = build_digest(kommun.org.id, "night", due("night"))
    items = {i.id: i for i in items_of(digest)}
    # The most generous agreement wins: the damage in Syd is now shared in full.
    damage = items[str(hus.incidents["skadegorelse"])]
    assert damage.detail == "full" and damage.area == f"Syd ({hus.org.name})"
    assert str(hus.incidents["miljo"]) not in items
    text = everything(digest)
    assert f"{MARK['hus']} skadegorelse" in text
    assert f"{MARK['hus']} miljo" not in text and "Norr" not in text
    assert digest.trends.totals[0] == 5


# --- the e-mail -----------------------------------------------------------------------------


def test_the_mail_carries_shared_photos_only_under_a_full_agreement(
    app: Flask, scene: SharedScene, mail: SmtpServer
) -> None:
    client = app.test_client()
    photos: dict[str, str] = {}
    for name, seed in (("vakt", 11), ("hus", 12)):
        party = scene.party(name)
        data = jpeg(seed=seed)
        assert put(client, party.device, data).status_code in STORED
        photos[name] = sha(data)
        body = factories.night_report(
            23,
            0,
            category="skadegorelse",
            description=f"{MARK[name]} med foto.",
            place=f"{MARK[name]} fotoplats",
            photos=[photos[name]],
            location={"lat": 55.70, "lon": 13.30, "accuracy_m": 10.0},
        )
        push(client, party.device, body)
        db.session.expire_all()
        assert db.session.get(Report, uuid.UUID(body["id"])).incident_id is not None
    db.session.commit()

    send_night(scene.kommun.org.id)
    [received] = mail.messages
    body, images = mail_parts(received.message)
    assert MARK["kommun"] in body and MARK["vakt"] in body
    assert MARK["hus"] not in body and MARK["annan"] not in body
    assert f"{scene.vakt.org.name}, vaktbolag" in body and REPORTS_ONLY in body
    cids = [str(image["Content-ID"]) for image in images]
    assert any(photos["vakt"][:24] in cid for cid in cids)
    assert not any(photos["hus"][:24] in cid for cid in cids)
    assert photos["hus"] not in body
    for party in (scene.kommun, scene.vakt, scene.hus, scene.annan):
        assert party.device.device.display_name not in body


# --- the workspace pages --------------------------------------------------------------------


def test_the_workspace_lagesbild_follows_the_persons_scope(app: Flask, scene: SharedScene) -> None:
    coordinator = as_person(app, scene.kommun.persons["coordinator"])
    viewer = as_person(app, scene.kommun.persons["viewer"])
    for kind in KINDS:
        url = f"/workspace/lagesbild?kind={kind}&date={due(kind).isoformat()}"
        page = coordinator.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert MARK["kommun"] in html and MARK["vakt"] in html
        assert MARK["hus"] not in html and MARK["annan"] not in html
        assert f"{scene.hus.org.name}, bostadsbolag" in html
        # A viewer reads its own organisation only, in the digest as everywhere else.
        own = viewer.get(url).get_data(as_text=True)
        assert MARK["kommun"] in own and MARK["vakt"] not in own
        assert scene.vakt.org.name not in own and scene.hus.org.name not in own
    home = coordinator.get("/workspace/digest")
    assert home.status_code == 200 and MARK["hus"] not in home.get_data(as_text=True)


def test_a_revoked_agreement_stops_sharing_at_the_next_build(
    app: Flask, scene: SharedScene
) -> None:
    kommun, vakt = scene.kommun, scene.vakt
    client = as_person(app, kommun.persons["coordinator"])
    url = f"/workspace/lagesbild?kind=night&date={due('night').isoformat()}"
    assert MARK["vakt"] in client.get(url).get_data(as_text=True)
    sharing.revoke(scene.agreements["vakt_full"].id)

    after = client.get(url).get_data(as_text=True)
    assert MARK["kommun"] in after and MARK["vakt"] not in after
    assert vakt.org.name not in after
    digest = build_digest(kommun.org.id, "night", due("night"))
    assert all(i.owner != vakt.org.id for i in items_of(digest))
    assert digest.trends.totals[0] == 3  # own 2 and the housing company's damage


def test_an_archived_copy_is_rebuilt_once_its_agreements_changed(
    app: Flask, scene: SharedScene, mail: SmtpServer
) -> None:
    run = send_night(scene.kommun.org.id)
    stored = run.html
    assert stored is not None and MARK["vakt"] in stored and MARK["hus"] not in stored
    coordinator = as_person(app, scene.kommun.persons["coordinator"])
    document = f"/workspace/digest/{run.id}/document"
    # Agreements unchanged: the copy is served exactly as it was stored.
    assert coordinator.get(document).get_data(as_text=True) == stored
    page = coordinator.get(f"/workspace/digest/{run.id}").get_data(as_text=True)
    assert REBUILT not in page and run.subject in page

    # A viewer may not read shared items: the copy is rebuilt with its own items only.
    viewer = as_person(app, scene.kommun.persons["viewer"])
    own = viewer.get(document).get_data(as_text=True)
    assert MARK["kommun"] in own and MARK["vakt"] not in own and REBUILT in own

    sharing.revoke(scene.agreements["vakt_full"].id)
    resp = coordinator.get(document)
    assert resp.status_code == 200
    rebuilt = resp.get_data(as_text=True)
    assert MARK["kommun"] in rebuilt and REBUILT in rebuilt
    assert MARK["vakt"] not in rebuilt and scene.vakt.org.name not in rebuilt
    assert MARK["hus"] not in rebuilt and f"{scene.hus.org.name}, bostadsbolag" in rebuilt
    page = coordinator.get(f"/workspace/digest/{run.id}").get_data(as_text=True)
    assert REBUILT in page and run.subject not in page
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]

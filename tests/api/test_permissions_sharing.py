"""The permission matrix across organisations: owning, sharing, shared-with and unrelated.

Every role of each of the four organisations of the shared scene (tests/support/sharing.py)
tries every workspace route that takes an object, with objects of every organisation
(and of a category an agreement leaves out), and expects exactly what the sharing rules
say: allowed, refused (403) for a shared incident it may read but not decide on, or an
answer identical to that for an object that does not exist. Then every page without an
object is searched for free text it must not show. The routes come from the URL map, so a
new object route without a rule here fails the test.

The expected levels below are written out from the scene's agreements, not computed by the
code under test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from flask import Flask, current_app, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from server.auth.models import ROLES
from server.extensions import db
from server.reports.models import Report
from server.sharing import service as sharing
from server.workspace import access
from tests.support import factories
from tests.support.digest import sent_night_run
from tests.support.photos import STORED, jpeg, put, sha
from tests.support.sharing import MARK, SharedScene, make_shared_scene
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    LOGIN,
    cheap_hashing,
    login,
    post,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

PARTIES = ("kommun", "vakt", "hus", "annan")
# What a viewing organisation may see of an owner's items, by category ("own" for its own),
# as the scene's agreements say: vakt -> kommun full; hus -> kommun reports for damage;
# kommun -> hus counts; nothing else.
LEVEL = {
    ("kommun", "vakt", "skadegorelse"): "full",
    ("kommun", "vakt", "miljo"): "full",
    ("kommun", "hus", "skadegorelse"): "reports",
    ("hus", "kommun", "skadegorelse"): "counts",
    ("hus", "kommun", "miljo"): "counts",
}
# Roles that read what other organisations share; analysts and viewers read their own only.
SHARED_READERS = {"admin", "coordinator"}
DECISIONS = {
    "workspace.set_status",
    "workspace.set_responsible",
    "workspace.merge",
    "workspace.split",
    "workspace.move",
}
# Object routes whose objects are never shared: digest runs and agreements are per
# organisation (another's answers as missing).
PER_ORGANISATION = {
    "workspace.digest_run",
    "workspace.digest_run_document",
    "workspace.digest_send",
    "workspace.revoke_share",
}
FORMS = {
    "workspace.set_status": {"status": "bedomd"},
    "workspace.set_responsible": {"responsible": "polis"},
    "workspace.comment": {"body": "Vi har sett det."},
    "workspace.merge": {"source": str(uuid.uuid4())},
    "workspace.move": {"target": str(uuid.uuid4())},
    "workspace.erase_report": {"reason": "erasure", "confirm": "yes"},
}
OBJECT_ARGS = ("incident_id", "report_id", "sha256", "run_id", "agreement_id")


@dataclass
class Objects:
    """One organisation's objects of one category, to fill into URLs."""

    owner: str
    category: str
    incident: uuid.UUID
    report: str
    photo: str
    run: int
    agreement: int


def _photo_objects(client: FlaskClient, scene: SharedScene, owner: str, category: str) -> Objects:
    """Push a report with a photo (its own incident) and return its objects."""
    party = scene.party(owner)
    # One image per owner and category: a seed from hash() differs per process (string
    # hashing is salted) and two owners drew the same image now and then, one photo.
    data = jpeg(seed=PARTIES.index(owner) * 10 + (category == "miljo"))
    assert put(client, party.device, data).status_code in STORED
    body = factories.night_report(
        23,
        PARTIES.index(owner) * 10 + (category == "miljo"),
        category=category,
        description=f"{MARK[owner]} foto",
        photos=[sha(data)],
        # Far from every other report: its own incident.
        location={"lat": 56.0 + PARTIES.index(owner) * 0.1, "lon": 14.0, "accuracy_m": 5.0},
    )
    push(client, party.device, body)
    db.session.expire_all()
    incident = db.session.get(Report, uuid.UUID(body["id"])).incident_id
    db.session.commit()
    assert incident is not None
    return Objects(owner, category, incident, body["id"], sha(data), 0, 0)


@dataclass
class World:
    """The scene and objects of every organisation and category, plus missing ones."""

    scene: SharedScene
    objects: list[Objects]
    missing: Objects


def make_world(app: Flask) -> World:
    """Build the scene through the real device API, with a photo per owner and category."""
    client = app.test_client()
    scene = make_shared_scene()
    # An agreement each organisation gives (kommun and vakt and hus have theirs already).
    given = {
        "kommun": scene.agreements["kommun_counts"].id,
        "vakt": scene.agreements["vakt_full"].id,
        "hus": scene.agreements["hus_reports"].id,
        "annan": sharing.share(scene.annan.org, scene.vakt.org, "counts").id,
    }
    objects = []
    for owner in PARTIES:
        run = sent_night_run(scene.party(owner).org.id)
        for category in ("skadegorelse", "miljo"):
            found = _photo_objects(client, scene, owner, category)
            found.run, found.agreement = run, given[owner]
            objects.append(found)
    missing = Objects(
        "nobody", "skadegorelse", uuid.uuid4(), str(uuid.uuid4()), "ab" * 32, 2_000_000_000, 0
    )
    missing.agreement = 2_000_000_000
    return World(scene, objects, missing)


def level(viewer: str, role: str, objects: Objects) -> str | None:
    """Return what the viewer's person of `role` may see of the objects ("own" for own)."""
    if objects.owner == viewer:
        return "own"
    if role not in SHARED_READERS:
        return None
    return LEVEL.get((viewer, objects.owner, objects.category))


def expected(role: str, endpoint: str, method: str, seen: str | None) -> str:
    """Return "allow", "403" or "missing" for a route and an object seen at `seen`."""
    if not access.allowed(role, endpoint, method):
        return "403"
    if seen == "own":
        return "allow"
    readable = seen in ("reports", "full")
    if endpoint in PER_ORGANISATION:
        return "missing"
    if endpoint == "workspace.incident":
        return "allow" if readable else "missing"
    if endpoint == "workspace.photo":
        return "allow" if seen == "full" else "missing"
    if endpoint == "workspace.comment":
        return "allow" if seen == "full" else ("403" if readable else "missing")
    if endpoint in DECISIONS:
        return "403" if readable else "missing"
    if endpoint == "workspace.erase_report":
        # Only the owner erases its reports: a shared incident the admin reads is refused
        # like a decision on it, one it cannot read answers as missing.
        return "403" if readable else "missing"
    raise AssertionError(f"no sharing rule for the object route {endpoint} {method}")


def url(rule: Rule, objects: Objects) -> str:
    """The rule's URL with the objects filled in."""
    values = {
        "incident_id": objects.incident,
        "report_id": objects.report,
        "sha256": objects.photo,
        "run_id": objects.run,
        "agreement_id": objects.agreement,
    }
    with current_app.test_request_context():
        return url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})


def call(client: FlaskClient, rule: Rule, method: str, target: str) -> TestResponse:
    """GET, or POST the route's form with the session's CSRF token."""
    if method == "GET":
        return client.get(target)
    return post(client, target, FORMS.get(rule.endpoint, {}))


def object_routes(app: Flask) -> list[tuple[Rule, str]]:
    """The workspace's routes that take an object, GETs first (POSTs change things)."""
    found = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("workspace.") and any(a in rule.arguments for a in OBJECT_ARGS)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    return sorted(found, key=lambda rm: (rm[1] != "GET", rm[0].endpoint))


def _masked(resp: TestResponse, target: str, objects: Objects) -> str | None:
    """The redirect target with the request's own address and ids masked."""
    if resp.location is None:
        return None
    masked = resp.location.replace(target, "URL")
    return masked.replace(str(objects.incident), "ID").replace(objects.report, "ID")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("viewer", PARTIES)
def test_the_cross_organisation_matrix(app: Flask, viewer: str, role: str) -> None:
    world = make_world(app)
    client = app.test_client()
    assert login(client, world.scene.party(viewer).persons[role]).status_code == 302
    foreign = [o for o in world.objects if o.owner != viewer]
    own = [o for o in world.objects if o.owner == viewer]
    checked = 0
    for rule, method in object_routes(app):
        # Others' objects first: a decision on an own object may change what follows.
        for objects in [*foreign, *own]:
            seen = level(viewer, role, objects)
            want = expected(role, rule.endpoint, method, seen)
            target = url(rule, objects)
            resp = call(client, rule, method, target)
            what = f"{objects.owner} {objects.category}, {seen}"
            where = f"{viewer}/{role} {method} {target} ({what})"
            if want == "allow":
                assert resp.status_code < 400, f"{where}: {resp.status_code}"
                assert not resp.location or "/workspace/login" not in resp.location, where
            elif want == "403":
                assert resp.status_code == 403, f"{where}: {resp.status_code}"
            else:
                missing_url = url(rule, world.missing)
                gone = call(client, rule, method, missing_url)
                assert resp.status_code == gone.status_code, f"{where}: {resp.status_code}"
                assert _masked(resp, target, objects) == _masked(
                    gone, missing_url, world.missing
                ), where
                assert resp.status_code in ((404,) if method == "GET" else (302, 404)), where
            checked += 1
    assert checked >= len(world.objects) * 10


def _forbidden_marks(viewer: str, role: str) -> list[str]:
    """Return the free-text markers the person must never see: all but full and own."""
    allowed = {viewer}
    if role in SHARED_READERS:
        allowed |= {o for (v, o, _c), d in LEVEL.items() if v == viewer and d == "full"}
    return [MARK[p] for p in PARTIES if p not in allowed]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("viewer", PARTIES)
def test_no_page_shows_free_text_it_may_not(app: Flask, viewer: str, role: str) -> None:
    world = make_world(app)
    client = app.test_client()
    assert login(client, world.scene.party(viewer).persons[role]).status_code == 302
    forbidden = _forbidden_marks(viewer, role)
    opened = 0
    for rule in app.url_map.iter_rules():
        if (
            not rule.endpoint.startswith("workspace.")
            or rule.arguments
            or "GET" not in (rule.methods or set())
            or not access.allowed(role, rule.endpoint, "GET")
            or rule.endpoint in ("workspace.login", "workspace.static", "workspace.vendor")
        ):
            continue
        resp = client.get(rule.rule)
        assert resp.status_code == 200, f"{viewer}/{role} {rule.rule}: {resp.status_code}"
        body = resp.get_data(as_text=True)
        for mark in forbidden:
            assert mark not in body, f"{viewer}/{role} {rule.rule} shows {mark}"
        opened += 1
    assert opened >= 3


def test_a_device_gets_no_photo_of_another_organisation(app: Flask) -> None:
    world = make_world(app)
    client = app.test_client()
    kommun = world.scene.kommun.device
    for objects in world.objects:
        resp = client.get(f"/api/v1/photos/{objects.photo}", headers=kommun.headers)
        assert resp.status_code == (200 if objects.owner == "kommun" else 404), objects

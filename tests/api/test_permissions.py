"""The permission matrix: every route of the app, for every role, against one access table.

The routes come from the app's URL map, so a new route fails `test_every_route_is_classified`
until it has a line in server.workspace.access (or, outside the workspace, in OUTSIDE
below). Each role (and a visitor who is not logged in) then tries every workspace route
with real objects of its own organisation and of another one.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask, current_app, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from server.actions import service as actions
from server.actions.schemas import action_in
from server.alerts.models import Alert
from server.audit.service import CLI
from server.auth.models import ROLES
from server.extensions import db
from server.rounds import service as rounds
from server.rounds.models import Checkpoint
from server.sharing import service as sharing
from server.workspace import access
from tests.support import factories
from tests.support.alerts import configure_vapid
from tests.support.digest import sent_night_run
from tests.support.photos import STORED, jpeg, put, sha
from tests.support.pushservice import make_subscriber
from tests.support.rounds import checkpoint, round_over
from tests.support.walks import area_of, make_walk
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    LOGIN,
    Scene,
    cheap_hashing,
    login,
    make_scene,
    post,
    push,
    session_token,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

# Routes outside the workspace: who may call them.
DEVICE = "device"  # the device API: a bearer token, 401 without one
PUBLIC = "public"  # anybody (the field app, the API description, enrolment with a code)
OUTSIDE = {
    ("devices.enrol", "POST"): PUBLIC,
    ("devices.wiped", "POST"): DEVICE,
    ("sync.push", "POST"): DEVICE,
    ("sync.pull", "GET"): DEVICE,
    ("photos.upload", "PUT"): DEVICE,
    ("photos.download", "GET"): DEVICE,
    ("categories.categories", "GET"): DEVICE,
    ("openapi.openapi", "GET"): PUBLIC,
    ("pwa.index", "GET"): PUBLIC,
    ("pwa.service_worker", "GET"): PUBLIC,
    ("pwa.asset", "GET"): PUBLIC,
    ("pwa.vendor", "GET"): PUBLIC,  # the face detector of the redaction editor
}
# Requests that end the session run last, the login form's just before them.
LAST = ("workspace.login", "workspace.logout", "workspace.logout_everywhere")
FORMS = {
    "workspace.set_status": lambda w: {"status": "bedomd"},
    "workspace.set_responsible": lambda w: {"responsible": "polis"},
    "workspace.comment": lambda w: {"body": "Vi har sett det."},
    "workspace.merge": lambda w: {"source": str(w.scene.second)},
    "workspace.move": lambda w: {"target": str(w.scene.second)},
    "workspace.share": lambda w: {"to_org": str(w.other_org), "detail": "counts"},
    "workspace.erase_report": lambda w: {"reason": "erasure", "confirm": "yes"},
    "workspace.walk_create": lambda w: walk_form(w.own_area),
    "workspace.walk_update": lambda w: walk_form(w.own_area),
    "workspace.walk_status": lambda w: {"status": "done"},
    "workspace.action_create": lambda w: {"text": "Klipp buskarna", "owner_kind": "kommun"},
    "workspace.action_status": lambda w: {"status": "beslutad"},
    "workspace.action_edit": lambda w: {
        "text": "Klipp buskarna",
        "owner_kind": "kommun",
        "priority": "hog",
    },
    "workspace.checkpoint_create": lambda w: {"name": "Port B", "lat": "55.64", "lon": "13.2"},
    "workspace.round_create": lambda w: {
        "name": "Nattrond",
        "window": "22:00-02:00",
        "weekday": "4",
        **{f"pos_{c.id}": "1" for c in rounds.checkpoints(w.scene.org.id)[:1]},
    },
    "workspace.checkpoint_update": lambda w: {"name": "Port C", "lat": "55.64", "lon": "13.2"},
    "workspace.checkpoint_active": lambda w: {"active": "1"},
    "workspace.round_update": lambda w: {
        "name": "Nattrond",
        "window": "22:00-02:00",
        "weekday": "4",
        **{f"pos_{c.id}": "1" for c in rounds.checkpoints(w.scene.org.id)[:1]},
    },
    "workspace.round_active": lambda w: {"active": "1"},
    "workspace.oncall_save": lambda w: {"minutes_1": "5", "persons_1": str(w.scene.who.person.id)},
    "workspace.name_place": lambda w: {
        "name": "Stationen",
        "radius": "100",
        "lat": "55.6398",
        "lon": "13.2083",
    },
}
# The push-subscription endpoints take the browser's PushSubscription as JSON.
JSON_BODIES = {
    "workspace.push_subscribe": lambda w: w.browser,
    "workspace.push_unsubscribe": lambda w: {"endpoint": w.browser["endpoint"]},
}
OBJECT_ARGS = (
    "alert_id",
    "incident_id",
    "report_id",
    "sha256",
    "run_id",
    "agreement_id",
    "walk_id",
    "action_id",
    "checkpoint_id",
    "round_id",
)


def walk_form(area_id: int) -> dict[str, str]:
    """A valid walk plan in the organisation's area."""
    return {"area": str(area_id), "date": "2026-12-10", "stops": "Stationen\nTorget"}


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the app, HEAD and OPTIONS aside."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]


def workspace_routes(app: Flask) -> list[tuple[Rule, str]]:
    """The workspace's routes: GETs first, then POSTs, those ending the session last."""
    found = [(r, m) for r, m in routes(app) if r.endpoint.startswith("workspace.")]
    return sorted(
        found,
        key=lambda rm: (
            rm[0].endpoint in LAST,
            LAST.index(rm[0].endpoint) if rm[0].endpoint in LAST else 0,
            rm[1] != "GET",
        ),
    )


@dataclass
class Objects:
    """One organisation's objects to fill into URLs."""

    incident: uuid.UUID
    report: str
    photo: str
    run: int
    agreement: int  # one the organisation gives (only its own may be revoked)
    walk: int = 0
    action: int = 2_000_000_000  # an action of the åtgärdsplan
    alert: int = 2_000_000_000  # an urgent alert of one of its incidents
    checkpoint: int = 2_000_000_000  # a guard round checkpoint
    round: int = 2_000_000_000  # a guard round


@dataclass
class World:
    """Our organisation (a scene with a person of the role) and another one."""

    scene: Scene
    own: Objects
    other: Objects
    missing: Objects
    other_org: int
    own_area: int = 0
    browser: dict = None  # type: ignore[assignment]  # a PushSubscription's JSON


def _photo_report(client: FlaskClient, dev: factories.EnrolledDevice, seed: int) -> str:
    """Upload a photo from the device and name it in a report; return its hash."""
    data = jpeg(seed=seed)
    assert put(client, dev, data).status_code in STORED
    push(client, dev, factories.night_report(21, photos=[sha(data)]))
    return sha(data)


def make_world(app: Flask, role: str) -> World:
    """Build both organisations through the real device API."""
    client = app.test_client()
    scene = make_scene(role)
    own = Objects(
        scene.first,
        scene.first_reports[1],
        _photo_report(client, scene.device, 1),
        sent_night_run(scene.org.id),
        0,
    )
    other_scene = make_scene("coordinator")
    own.agreement = sharing.share(scene.org, other_scene.org, "counts").id
    other = Objects(
        other_scene.first,
        other_scene.first_reports[1],
        _photo_report(client, other_scene.device, 2),
        sent_night_run(other_scene.org.id),
        sharing.share(other_scene.org, scene.org, "counts").id,
    )
    missing = Objects(
        uuid.uuid4(),
        str(uuid.uuid4()),
        "ab" * 32,
        2_000_000_000,
        2_000_000_000,
        2_000_000_000,
        2_000_000_000,
    )
    own.walk = make_walk(scene.org).id
    other.walk = make_walk(other_scene.org).id
    own.action = _action(scene.org.id)
    own.checkpoint = checkpoint(scene.org.id).id
    other.checkpoint = checkpoint(other_scene.org.id).id
    own.round = round_over(scene.org.id, [db.session.get(Checkpoint, own.checkpoint)]).id
    other.round = round_over(other_scene.org.id, [db.session.get(Checkpoint, other.checkpoint)]).id
    other.action = _action(other_scene.org.id)
    own.alert = _alert(scene.org.id, scene.first)
    other.alert = _alert(other_scene.org.id, other_scene.first)
    configure_vapid(current_app)
    browser = make_subscriber("p", "https://push.example.net/p").subscription_json()  # never sent
    return World(scene, own, other, missing, other_scene.org.id, area_of(scene.org).id, browser)


def _alert(org_id: int, incident_id: uuid.UUID) -> int:
    """Open an alert on the incident (as the alerts job would) and return its id."""
    from server.extensions import db

    alert = Alert(org_id=org_id, incident_id=incident_id, category_code="brand", level=1)
    db.session.add(alert)
    db.session.commit()
    return alert.id


def _action(org_id: int) -> int:
    """Propose an action of the organisation's (with no source) and return its id."""
    return actions.create(org_id, action_in("Belysning vid stationen", "kommun"), CLI).id


def url(rule: Rule, objects: Objects) -> str:
    """The rule's URL with the objects (and fixed values for files) filled in."""
    values = {
        "incident_id": objects.incident,
        "report_id": objects.report,
        "sha256": objects.photo,
        "run_id": objects.run,
        "agreement_id": objects.agreement,
        "walk_id": objects.walk,
        "action_id": objects.action,
        "alert_id": objects.alert,
        "checkpoint_id": objects.checkpoint,
        "round_id": objects.round,
        "package": "leaflet",
        "filename": "leaflet.js" if rule.endpoint == "workspace.vendor" else "workspace.css",
    }
    with current_app.test_request_context():
        return url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})


def call(client: FlaskClient, world: World, rule: Rule, method: str, target: str) -> TestResponse:
    """GET, or POST the route's form with the session's CSRF token."""
    if method == "GET":
        return client.get(target)
    with client.session_transaction() as sess:
        fresh = "csrf_token" not in sess
    if fresh:  # logged out: the login page gives the session a CSRF secret
        client.get(LOGIN)
    if rule.endpoint in JSON_BODIES:
        body = JSON_BODIES[rule.endpoint](world)
        return client.post(target, json=body, headers={"X-CSRFToken": session_token(client)})
    form = FORMS.get(rule.endpoint, lambda w: {})(world)
    return post(client, target, form)


def expect(resp: TestResponse, role: str | None, rule: Rule, method: str) -> None:
    """Assert the access table's answer."""
    where = f"{role} {method} {rule.rule}: {resp.status_code}"
    found = access.rule(rule.endpoint, method)
    if rule.endpoint == "workspace.alert_ack" and role not in (None, *access.EDITORS):
        # Acknowledging is the editors' and the rota's (tests/api/test_alerts_ack.py): the
        # world's reader is not on the rota.
        assert resp.status_code == 403, where
        return
    if access.allowed(role, rule.endpoint, method):
        assert resp.status_code < 400, where
        if found not in (access.PUBLIC, access.SESSION):
            assert not resp.location or "/workspace/login" not in resp.location, where
    elif role is None:
        assert resp.status_code == 302, where
        assert resp.location.startswith("/workspace/login?next="), where
    else:
        assert resp.status_code == 403, where
        assert resp.mimetype == "text/html", where


def _masked(resp: TestResponse, target: str, objects: Objects) -> str | None:
    """The redirect target with the request's own address and ids masked (they differ)."""
    if resp.location is None:
        return None
    masked = resp.location.replace(target, "URL")
    return masked.replace(str(objects.incident), "ID").replace(objects.report, "ID")


# --- the tests ------------------------------------------------------------------------------


def test_every_route_is_classified(app: Flask) -> None:
    seen = set()
    for rule, method in routes(app):
        key = (rule.endpoint, method)
        seen.add(key)
        if rule.endpoint.startswith("workspace."):
            assert access.rule(*key) is not None, f"no access rule for {key}"
        else:
            assert key in OUTSIDE, f"{key} is neither a workspace route nor classified here"
    assert set(access.ACCESS) <= seen, "the access table names routes that do not exist"
    assert set(OUTSIDE) <= seen


@pytest.mark.parametrize("role", [*ROLES, None])
def test_the_permission_matrix(app: Flask, role: str | None) -> None:
    world = make_world(app, role or "viewer")
    client = app.test_client()
    if role is None:
        client.get(LOGIN)  # a session holding a CSRF secret, not a login
    else:
        assert login(client, world.scene.who).status_code == 302
    for rule, method in workspace_routes(app):
        if any(a in rule.arguments for a in OBJECT_ARGS):
            # Another organisation's object answers exactly as one that does not exist:
            # 404 for a role that may use the route, the same refusal otherwise.
            foreign_url, missing_url = url(rule, world.other), url(rule, world.missing)
            foreign = call(client, world, rule, method, foreign_url)
            missing = call(client, world, rule, method, missing_url)
            where = f"{role} {method} {rule.rule}"
            assert foreign.status_code == missing.status_code, where
            assert _masked(foreign, foreign_url, world.other) == _masked(
                missing, missing_url, world.missing
            ), where
            if access.allowed(role, rule.endpoint, method) and role is not None:
                # A decision on a missing incident says so on the list (POST-redirect-GET).
                # (the digest's resend is a plain 404).
                assert foreign.status_code in ((404,) if method == "GET" else (302, 404)), where
            elif role is not None:
                assert foreign.status_code == 403, where
        resp = call(client, world, rule, method, url(rule, world.own))
        expect(resp, role, rule, method)


def test_the_device_api_wants_a_token_not_a_login(app: Flask) -> None:
    world = make_world(app, "admin")
    client = app.test_client()
    login(client, world.scene.who)
    for rule, method in routes(app):
        if OUTSIDE.get((rule.endpoint, method)) != DEVICE:
            continue
        target = url(rule, world.own)
        resp = client.open(target, method=method, json={} if method != "GET" else None)
        assert resp.status_code == 401, f"{method} {target}: {resp.status_code}"


def test_an_analyst_gets_no_free_text(app: Flask) -> None:
    world = make_world(app, "analyst")
    client = app.test_client()
    login(client, world.scene.who)
    free = ("Krossad ruta", "Busskuren igen", "Gångvägen vid skolan", world.own.photo)
    for target in (
        "/workspace/export/incidents.csv",
        "/workspace/export/reports.csv",
        "/workspace/export/incidents.geojson",
        "/workspace/map",
        "/workspace/map/data.json",
        "/workspace/trends",
        "/workspace/places",
    ):
        resp = client.get(target)
        assert resp.status_code == 200, target
        body = resp.get_data(as_text=True)
        assert not any(text in body for text in free), target
        assert f"/workspace/incidents/{world.own.incident}" not in body, target
    reports = client.get("/workspace/export/reports.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(reports.lstrip("\ufeff")), delimiter=";"))
    assert "Beskrivning" not in header and "Foton" not in header
    rows = list(csv.reader(io.StringIO(reports.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 1 + 4 and all(len(r) == len(header) for r in rows)
    geo = json.loads(client.get("/workspace/export/incidents.geojson").get_data(as_text=True))
    props = geo["features"][0]["properties"]
    assert "summary" not in props and "place" not in props and "url" not in props


def test_a_coordinator_gets_the_free_text(app: Flask) -> None:
    world = make_world(app, "coordinator")
    client = app.test_client()
    login(client, world.scene.who)
    body = client.get("/workspace/export/reports.csv").get_data(as_text=True)
    assert "Krossad ruta" in body and "Gångvägen vid skolan" in body


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            "analyst",
            ["/workspace/map", "/workspace/trends", "/workspace/places"],
            ['href="/workspace/incidents"', 'href="/workspace/digest"'],
        ),
        (
            "viewer",
            ['href="/workspace/incidents"', 'href="/workspace/digest"'],
            ["/workspace/map", "/workspace/trends", "/workspace/places", "/export/"],
        ),
    ],
)
def test_the_nav_and_the_role_label(
    app: Flask, role: str, shown: list[str], hidden: list[str]
) -> None:
    world = make_world(app, role)
    client = app.test_client()
    login(client, world.scene.who)
    page = "/workspace/trends" if role == "analyst" else "/workspace/"
    html = client.get(page).get_data(as_text=True)
    label = {"analyst": "(analytiker)", "viewer": "(läsare)"}[role]
    assert label in html
    for text in shown:
        assert text in html, text
    for text in hidden:
        assert text not in html, text


@pytest.mark.parametrize(
    ("role", "home", "forbidden"),
    [("admin", "/workspace/", None), ("coordinator", "/workspace/", "/workspace/sharing"),
     ("viewer", "/workspace/", "/workspace/map"), ("analyst", "/workspace/map", "/workspace/")],
)  # fmt: skip
def test_each_role_lands_on_a_page_it_may_open(
    app: Flask, role: str, home: str, forbidden: str | None
) -> None:
    client = app.test_client()
    resp = login(client, factories.make_person(factories.make_org(), role=role))
    assert resp.status_code == 302 and resp.location == home
    assert client.get(home).status_code == 200
    if forbidden is not None:
        # The 403 page leads back to that page, not to one the role may not open either.
        refused = client.get(forbidden)
        assert refused.status_code == 403
        assert f'href="{home}"' in refused.get_data(as_text=True)

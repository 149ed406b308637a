"""Editing, deactivating and activating checkpoints and rounds in the workspace."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.rounds.models import Checkpoint, CheckpointScan, Round, RoundCheckpoint, RoundRun
from server.rounds.status import statuses
from tests.support import factories
from tests.support.rounds import (
    BEFORE_CUTOFF,
    NIGHT,
    checkpoint,
    round_over,
    stored_run,
    utc,
)
from tests.support.walks import area_of
from tests.support.workspace import cheap_hashing, login, post  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("cheap_hashing")
PULL = "/api/v1/sync/pull"
LATER = date(2026, 5, 8)  # the Friday after NIGHT


def logged_in(app: Flask, org, role: str = "coordinator") -> FlaskClient:
    client = app.test_client()
    assert login(client, factories.make_person(org, role=role)).status_code == 302
    return client


def pulled(app: Flask, device) -> dict:
    return app.test_client().get(PULL, headers=device.headers).get_json()


def test_a_coordinator_edits_a_checkpoint_and_keeps_its_label(app: Flask, org) -> None:
    cp = checkpoint(org.id, "Port A")
    token, code = cp.token, cp.short_code
    area = area_of(org)
    client = logged_in(app, org)
    page = client.get(f"/workspace/rounds/checkpoints/{cp.id}").get_data(as_text=True)
    assert 'value="Port A"' in page and code in page
    form = {
        "name": "Port B",
        "lat": "55,7",
        "lon": "13.3",
        "radius": "80",
        "area": str(area.id),
        "instructions": "Känn på dörren.",
    }
    assert post(client, f"/workspace/rounds/checkpoints/{cp.id}", form).status_code == 302
    db.session.expire_all()
    got = db.session.get(Checkpoint, cp.id)
    assert (got.name, got.lat, got.lon, got.radius_m) == ("Port B", 55.7, 13.3, 80)
    assert (got.area_id, got.instructions) == (area.id, "Känn på dörren.")
    assert (got.token, got.short_code) == (token, code)


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"name": "A", "lat": "95", "lon": "13"}, "latitude"),
        ({"name": "", "lat": "55", "lon": "13"}, "name"),
        ({"name": "A", "lat": "55", "lon": "13", "radius": "0"}, "radius"),
        ({"name": "A", "lat": "55", "lon": "13", "area": "x"}, "not a number"),
        # Beyond the database's integers, and a NUL PostgreSQL cannot store (both were 500s).
        ({"name": "A", "lat": "55", "lon": "13", "area": "9" * 23}, "no area"),
        ({"name": "A\x00", "lat": "55", "lon": "13"}, "NUL"),
        ({"name": "A", "lat": "55", "lon": "13", "instructions": "\x00"}, "NUL"),
    ],
)
def test_a_bad_checkpoint_edit_is_shown_again(app: Flask, org, form, words) -> None:
    cp = checkpoint(org.id, "Port A")
    resp = post(logged_in(app, org), f"/workspace/rounds/checkpoints/{cp.id}", form)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Checkpoint, cp.id).name == "Port A"


def test_a_coordinator_edits_a_round(app: Flask, org, device) -> None:
    a, b, c = (checkpoint(org.id, n) for n in "ABC")
    rnd = round_over(org.id, [a, b])
    client = logged_in(app, org)
    page = client.get(f"/workspace/rounds/rounds/{rnd.id}").get_data(as_text=True)
    assert f'name="pos_{a.id}" type="number" min="1" max="100" value="1"' in page
    form = {
        "name": "Kvällsrond",
        "window": "21:00-23:30",
        "grace": "5",
        "every": "",
        "weekday": ["0", "6"],
        "ordered": "on",
        "req_present": "1",
        f"pos_{c.id}": "1",
        f"req_{c.id}": "on",
        f"pos_{a.id}": "2",  # A left optional; B taken off the round
    }
    assert post(client, f"/workspace/rounds/rounds/{rnd.id}", form).status_code == 302
    db.session.expire_all()
    got = db.session.get(Round, rnd.id)
    assert (got.name, got.window, got.grace_minutes, got.weekdays, got.ordered) == (
        "Kvällsrond",
        "21:00-23:30",
        5,
        [0, 6],
        True,
    )
    stops = db.session.query(RoundCheckpoint).filter_by(round_id=rnd.id).order_by("position")
    assert [(s.checkpoint_id, s.required) for s in stops] == [(c.id, True), (a.id, False)]
    assert pulled(app, device)["rounds"][0]["checkpoints"] == [
        {"id": c.id, "required": True},
        {"id": a.id, "required": False},
    ]


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"window": "22-02"}, "HH:MM-HH:MM"),
        ({"pos": ""}, "different checkpoints"),
        ({"weekday": []}, "weekday"),
        ({"grace": "999"}, "grace"),
        ({"every": "x"}, "not a number"),
        ({"name": "R\x00"}, "NUL"),
    ],
)
def test_a_bad_round_edit_is_shown_again(app: Flask, org, form, words) -> None:
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])
    data = {"name": "R", "window": "22:00-02:00", "weekday": ["1"], "pos": "1", **form}
    data[f"pos_{cp.id}"] = data.pop("pos")
    resp = post(logged_in(app, org), f"/workspace/rounds/rounds/{rnd.id}", data)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).name == "Nattrond"
    assert db.session.query(RoundCheckpoint).filter_by(round_id=rnd.id).count() == 1


def test_a_deactivated_round_leaves_the_pull_and_the_schedule(app: Flask, org, device) -> None:
    cp = checkpoint(org.id)
    walked, idle = round_over(org.id, [cp], name="Gången"), round_over(org.id, [cp], name="Tom")
    run = stored_run(device.device, walked, utc(20, 5), [(cp, utc(20, 10))], ended=utc(20, 30))
    client = logged_in(app, org)
    for rnd in (walked, idle):
        resp = post(client, f"/workspace/rounds/rounds/{rnd.id}/active", {"active": "0"})
        assert resp.status_code == 302
    assert pulled(app, device)["rounds"] == []
    assert "Inaktiv" in client.get("/workspace/rounds").get_data(as_text=True)
    # No run of it is missed any more; the walked one and its scan stay.
    rows = statuses(org.id, NIGHT, LATER, BEFORE_CUTOFF.replace(day=9))
    assert [(r.round_name, r.status, r.run_id) for r in rows] == [("Gången", "completed", run.id)]
    assert db.session.query(CheckpointScan).count() == 1
    assert db.session.query(RoundRun).count() == 1


def test_an_activated_round_is_planned_again_from_then_on(app: Flask, org, device) -> None:
    rnd = round_over(org.id, [checkpoint(org.id)])
    client = logged_in(app, org)
    post(client, f"/workspace/rounds/rounds/{rnd.id}/active", {"active": "0"})
    assert statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF) == []
    assert post(client, f"/workspace/rounds/rounds/{rnd.id}/active", {"active": "1"}).status_code
    assert [r["id"] for r in pulled(app, device)["rounds"]] == [rnd.id]
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).active
    # The nights it was inactive are not missed (its nights before now are not planned).
    assert statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF) == []


def test_a_deactivated_checkpoint_leaves_the_pull_and_the_rounds(app: Flask, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    both, only_b = round_over(org.id, [a, b], name="Båda"), round_over(org.id, [b], name="B")
    client = logged_in(app, org)
    assert (
        post(client, f"/workspace/rounds/checkpoints/{b.id}/active", {"active": "0"}).status_code
        == 302
    )
    body = pulled(app, device)
    assert [c["id"] for c in body["checkpoints"]] == [a.id]
    assert body["rounds"] == [
        {**body["rounds"][0], "id": both.id, "checkpoints": [{"id": a.id, "required": True}]}
    ]
    # B is no longer asked for: the round with A scanned is complete, the B round not planned.
    stored_run(device.device, both, utc(20, 5), [(a, utc(20, 10))], ended=utc(20, 30))
    rows = statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF)
    assert [(r.round_name, r.status) for r in rows] == [("Båda", "completed")]
    assert only_b.id not in {r.round_id for r in rows}
    # The label sheet leaves it out; the form to create a round does not offer it.
    assert b.short_code not in client.get("/workspace/rounds/labels").get_data(as_text=True)
    page = client.get("/workspace/rounds").get_data(as_text=True)
    assert f'name="pos_{b.id}"' not in page
    post(client, f"/workspace/rounds/checkpoints/{b.id}/active", {"active": "1"})
    assert len(pulled(app, device)["checkpoints"]) == 2


@pytest.mark.parametrize("value", ["", "yes", "2"])
@pytest.mark.parametrize("kind", ["checkpoints", "rounds"])
def test_a_bad_active_value_is_a_400(app: Flask, org, kind, value) -> None:
    cp = checkpoint(org.id)
    target = cp.id if kind == "checkpoints" else round_over(org.id, [cp]).id
    resp = post(logged_in(app, org), f"/workspace/rounds/{kind}/{target}/active", {"active": value})
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(Checkpoint, cp.id).active


def test_the_forms_need_the_csrf_token(app: Flask, org) -> None:
    cp = checkpoint(org.id)
    client = logged_in(app, org)
    resp = client.post(f"/workspace/rounds/checkpoints/{cp.id}/active", data={"active": "0"})
    assert resp.status_code == 400
    resp = client.post(f"/workspace/rounds/checkpoints/{cp.id}", data={"name": "X"})
    assert resp.status_code == 400
    db.session.expire_all()
    got = db.session.get(Checkpoint, cp.id)
    assert (got.active, got.name) == (True, "Port A")


ROUTES = [
    ("GET", "/workspace/rounds/checkpoints/{cp}", None),
    ("POST", "/workspace/rounds/checkpoints/{cp}", {"name": "X", "lat": "55", "lon": "13"}),
    ("POST", "/workspace/rounds/checkpoints/{cp}/active", {"active": "0"}),
    ("GET", "/workspace/rounds/rounds/{rnd}", None),
    ("POST", "/workspace/rounds/rounds/{rnd}", {"name": "X", "window": "22:00-02:00"}),
    ("POST", "/workspace/rounds/rounds/{rnd}/active", {"active": "0"}),
]


@pytest.mark.parametrize("role", ["admin", "coordinator", "analyst", "viewer", "stranger"])
@pytest.mark.parametrize(("method", "url", "form"), ROUTES)
def test_who_may_edit_and_deactivate(app: Flask, org, role, method, url, form) -> None:
    own_cp = checkpoint(org.id, "Egen")
    own = round_over(org.id, [own_cp], name="Egen")
    other = factories.make_org()
    their_cp = checkpoint(other.id, "Deras")
    theirs = round_over(other.id, [their_cp], name="Deras")
    stranger = role == "stranger"
    cp, rnd = (their_cp, theirs) if stranger else (own_cp, own)
    client = logged_in(app, org, "coordinator" if stranger else role)
    target = url.format(cp=cp.id, rnd=rnd.id)
    resp = client.get(target) if method == "GET" else post(client, target, form)
    if stranger:
        expected = {404}
    elif role in ("admin", "coordinator"):
        expected = {200} if method == "GET" else {302, 400}
    else:
        expected = {403}
    assert resp.status_code in expected, (role, target, resp.status_code)
    db.session.expire_all()
    assert db.session.get(Checkpoint, their_cp.id).name == "Deras"
    assert db.session.get(Checkpoint, their_cp.id).active
    got = db.session.get(Round, theirs.id)
    assert (got.active, got.name) == (True, "Deras")
    if role in ("analyst", "viewer"):
        assert db.session.get(Checkpoint, own_cp.id).active and db.session.get(Round, own.id).active


def test_a_deactivated_checkpoint_needs_no_end_reason(client, org, device) -> None:
    from server.rounds import edit
    from tests.support.rounds import at, push, run, scan

    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [a, b])
    edit.set_checkpoint_active(org.id, b.id, False)
    r = {**run(rnd.id), "ended_at": at()}
    got = push(client, device, round_runs=[r], scans=[scan(a, round_run=r["id"])])
    assert got["round_run_results"][0]["status"] == "created", got

"""Workspace pages of guard rounds: checkpoints, rounds, QR labels and the shared week view."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.rounds import service as rounds
from server.rounds.models import Checkpoint, Round
from server.sharing import service as sharing
from tests.support import factories
from tests.support.rounds import checkpoint, four_rounds
from tests.support.walks import area_of
from tests.support.workspace import cheap_hashing, login, post  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("cheap_hashing")
WEEK = "/workspace/rounds/week?week=2026-W18"  # Monday 27 April: holds Friday 1 May


def logged_in(app: Flask, org, role: str = "coordinator") -> FlaskClient:
    client = app.test_client()
    assert login(client, factories.make_person(org, role=role)).status_code == 302
    return client


def test_a_coordinator_creates_a_checkpoint_and_a_round(app: Flask, org) -> None:
    client = logged_in(app, org)
    resp = post(
        client,
        "/workspace/rounds/checkpoints",
        {"name": "Port A", "lat": "55,641", "lon": "13.206"},
    )
    assert resp.status_code == 302
    cp = db.session.query(Checkpoint).filter_by(org_id=org.id).one()
    assert (cp.name, cp.lat, cp.radius_m) == ("Port A", 55.641, 50)
    resp = post(
        client,
        "/workspace/rounds/rounds",
        {
            "name": "Natt",
            "window": "22:00-02:00",
            "weekday": ["4", "5"],
            "ordered": "on",
            f"pos_{cp.id}": "1",
        },
    )
    assert resp.status_code == 302
    rnd = db.session.query(Round).filter_by(org_id=org.id).one()
    assert (rnd.weekdays, rnd.ordered) == ([4, 5], True)
    page = client.get("/workspace/rounds").get_data(as_text=True)
    assert "Port A" in page and cp.short_code in page and "Natt" in page


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"name": "A", "lat": "95", "lon": "13"}, "latitude"),
        ({"name": "A", "lat": "x", "lon": "13"}, "not a number"),
        ({"name": "", "lat": "55", "lon": "13"}, "name"),
        ({"name": "A", "lat": "55", "lon": "13", "area": "999999"}, "no area"),
        # Beyond the database's integers: no area either (was a 500).
        ({"name": "A", "lat": "55", "lon": "13", "area": "9" * 23}, "no area"),
        # PostgreSQL cannot store a NUL (was a 500 there).
        ({"name": "A\x00B", "lat": "55", "lon": "13"}, "NUL"),
        ({"name": "A", "lat": "55", "lon": "13", "instructions": "x\x00"}, "NUL"),
    ],
)
def test_a_bad_checkpoint_form_is_shown_again(app: Flask, org, form, words) -> None:
    resp = post(logged_in(app, org), "/workspace/rounds/checkpoints", form)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)
    assert db.session.query(Checkpoint).count() == 0


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"name": "R", "window": "22-02", "pos": "1"}, "HH:MM-HH:MM"),
        ({"name": "R", "window": "22:00-02:00"}, "different checkpoints"),
        ({"name": "R", "window": "22:00-02:00", "pos": "x"}, "not a number"),
        ({"name": "R", "window": "22:00-02:00", "pos": "1", "weekday": []}, "weekday"),
        ({"name": "R", "window": "22:00-02:00", "pos": "1", "grace": "999"}, "grace"),
        ({"name": "N\x00", "window": "22:00-02:00", "pos": "1"}, "NUL"),
    ],
)
def test_a_bad_round_form_is_shown_again(app: Flask, org, form, words) -> None:
    cp = checkpoint(org.id)
    data = {"weekday": ["0", "1"], **form}
    if "pos" in data:
        data[f"pos_{cp.id}"] = data.pop("pos")
    resp = post(logged_in(app, org), "/workspace/rounds/rounds", data)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)
    assert db.session.query(Round).count() == 0


def test_the_label_sheet_has_a_qr_code_name_short_code_and_url(app: Flask, org) -> None:
    cp = checkpoint(org.id, "Källardörren")
    page = logged_in(app, org).get("/workspace/rounds/labels").get_data(as_text=True)
    assert page.count("<svg") == 1 and "<path" in page
    assert "Källardörren" in page and cp.short_code in page
    # No LAGESBILD_BASE_URL of its own in the tests: the address the page was asked at.
    assert f"http://localhost/#scan={cp.token}" in page
    assert 'aria-label="Källardörren"' in page


def test_the_qr_url_uses_lagesbild_base_url_when_set(app: Flask, org) -> None:
    cp = checkpoint(org.id)
    app.config["BASE_URL"] = "https://lagesbild.example.se"
    page = (
        logged_in(app, org)
        .get(f"/workspace/rounds/labels?checkpoint={cp.id}")
        .get_data(as_text=True)
    )
    assert f"https://lagesbild.example.se/#scan={cp.token}" in page


@pytest.mark.parametrize("role", ["admin", "coordinator", "analyst", "viewer", "stranger"])
@pytest.mark.parametrize(
    "page",
    ["/workspace/rounds", "/workspace/rounds/labels", "label-of-other", WEEK, "area-of-other"],
)
def test_who_may_open_the_round_pages(app: Flask, org, role, page) -> None:
    other = factories.make_org()
    theirs = checkpoint(other.id)
    area = area_of(other)
    checkpoint(org.id)
    client = logged_in(app, org, "coordinator" if role == "stranger" else role)
    target = {
        "label-of-other": f"/workspace/rounds/labels?checkpoint={theirs.id}",
        "area-of-other": f"{WEEK}&area={area.id}",
    }.get(page, page)
    status = client.get(target).status_code
    editor = role in ("admin", "coordinator", "stranger")
    if page in ("label-of-other", "area-of-other") and (editor or page == "area-of-other"):
        expected = 404 if role != "analyst" else 403
    elif page == WEEK:
        expected = 403 if role == "analyst" else 200
    else:
        expected = 200 if editor else 403
    assert status == expected, (role, page, status)


def test_the_week_view_shows_each_status(app: Flask, org) -> None:
    four_rounds(org.id, area_of(org).id)
    page = logged_in(app, org).get(WEEK).get_data(as_text=True)
    assert "Centrum" in page
    for name in ("Rond Centrum", "Rond Hamnen", "Rond Skolan", "Rond Torget"):
        assert name in page
    assert "status-completed" in page and "status-missed" in page and "status-incomplete" in page
    assert "saknas: Förråd, Gård" in page and "Taket var avspärrat." in page


@pytest.mark.parametrize("week", ["1999-X", "0001-W01", "9999-W52", "1999-W52", "2026-W54"])
def test_a_bad_week_is_a_400(app: Flask, org, week: str) -> None:
    # The calendar's ends overflowed the nights around the week (a 500).
    resp = logged_in(app, org).get(f"/workspace/rounds/week?week={week}")
    assert resp.status_code == 400
    assert "2026-W49" in resp.get_data(as_text=True)


def test_the_last_and_first_weeks_allowed_are_shown(app: Flask, org) -> None:
    client = logged_in(app, org)
    for week in ("2000-W01", "9998-W52"):
        assert client.get(f"/workspace/rounds/week?week={week}").status_code == 200, week


def test_a_customer_sees_the_shared_rounds_and_the_reason_only_at_full(app: Flask) -> None:
    guards = factories.make_org("Väktarbolaget", "vaktbolag")
    customer = factories.make_org("Bostadsbolaget", "bostadsbolag")
    four_rounds(guards.id, area_of(guards).id)
    client = logged_in(app, customer)
    assert "Rond Hamnen" not in client.get(WEEK).get_data(as_text=True)
    # An agreement about some categories only says nothing about rounds.
    sharing.share(guards, customer, "full", categories=["brand"])
    assert "Rond Hamnen" not in client.get(WEEK).get_data(as_text=True)
    agreement = sharing.share(guards, customer, "reports")
    page = client.get(WEEK).get_data(as_text=True)
    assert "Rond Hamnen" in page and "Väktarbolaget" in page and "saknas: Tak" in page
    assert "Taket var avspärrat." not in page
    sharing.revoke(agreement.id)
    sharing.share(guards, customer, "full")
    assert "Taket var avspärrat." in client.get(WEEK).get_data(as_text=True)


def test_the_menu_shows_rounds_only_when_the_organisation_has_checkpoints(app: Flask, org) -> None:
    client = logged_in(app, org)
    assert 'href="/workspace/rounds/week"' not in client.get("/workspace/").get_data(as_text=True)
    rounds.create_checkpoint(org.id, rounds.CheckpointPlan(name="A", lat=55.6, lon=13.2))
    assert 'href="/workspace/rounds/week"' in client.get("/workspace/").get_data(as_text=True)


def test_the_week_defaults_to_the_week_of_last_night() -> None:
    from datetime import date

    from server.rounds.week import parse_week

    assert parse_week(None, date(2026, 12, 7)) == date(2026, 11, 30)  # a Monday: last week
    assert parse_week(None, date(2026, 12, 9)) == date(2026, 12, 7)
    assert parse_week("2026-W18", date(2026, 12, 9)) == date(2026, 4, 27)

"""Planning a follow-up walk: `lagesbild walk create --follows` and the workspace's form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server.extensions import db
from server.walks.models import Walk
from tests.api.test_cli import assert_clear_failure, cli, ok_json
from tests.support import factories
from tests.support.walks import STOPS, area_of, make_walk, today
from tests.support.workspace import cheap_hashing, login, post  # noqa: F401

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def _create(runner, org, day: str, *more: str):
    area_of(org)
    args = ["walk", "create", "--org", org.slug, "--area", "centrum", "--date", day, *more]
    return cli(runner, *args)


def test_walk_create_follows_an_earlier_walk_with_its_route_and_stops(runner, org) -> None:
    first = make_walk(org, on=today() - timedelta(days=30))
    data = ok_json(_create(runner, org, today().isoformat(), "--follows", str(first.id), "--json"))
    assert data["follows"] == first.id
    walk = db.session.get(Walk, data["id"])
    assert walk.follows_walk_id == first.id
    assert [s["name"] for s in walk.stops] == [s["name"] for s in STOPS]
    assert walk.route == first.route


def test_walk_create_without_follows_prints_what_it_did_before(runner, org) -> None:
    data = ok_json(_create(runner, org, "2026-12-10", "--json"))
    assert set(data) == {"id", "org", "area", "date", "dark", "status"}


def test_walk_create_refuses_a_follow_up_of_a_later_walk(runner, org) -> None:
    later = make_walk(org, on=today() + timedelta(days=5))
    result = _create(runner, org, today().isoformat(), "--follows", str(later.id), "--json")
    assert_clear_failure(result, "comes later")


@pytest.mark.parametrize("follows", ["999999", "0", "x"])
def test_walk_create_refuses_an_unknown_walk_to_follow(runner, org, follows: str) -> None:
    result = _create(runner, org, today().isoformat(), "--follows", follows)
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_walk_create_refuses_another_organisations_walk(runner, org) -> None:
    foreign = make_walk(factories.make_org("Grannkommunen"), on=today() - timedelta(days=3))
    result = _create(runner, org, today().isoformat(), "--follows", str(foreign.id))
    assert_clear_failure(result, "no walk")


# --- the workspace -----------------------------------------------------------------------


@pytest.fixture
def coordinator(client, org):
    who = factories.make_person(org, "coordinator", email="zebulon.quarfordt@example.se")
    assert login(client, who).status_code == 302
    return who


def _hidden(page: str, name: str) -> str | None:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return found.group(1) if found else None


def test_a_walk_page_offers_to_plan_a_follow_up_prefilled(client, org, coordinator) -> None:
    first = make_walk(org, on=today() - timedelta(days=30))
    page = client.get(f"/workspace/walks/{first.id}").get_data(as_text=True)
    assert f'href="/workspace/walks/{first.id}/follow-up"' in page
    assert "Planera uppföljande vandring" in page
    form = client.get(f"/workspace/walks/{first.id}/follow-up")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert _hidden(html, "follows") == str(first.id)
    assert f'value="{today().isoformat()}"' in html  # a later day, not in the past
    assert "Gångtunneln; 55.635; 13.22" in html and "13.21, 55.63" in html
    counted = re.search(r'name="count_residents"[^>]*value="(\d+)"', html)
    assert counted is not None and counted.group(1) == "0"  # who takes part is counted anew


def test_the_follow_up_form_plans_a_walk_that_follows(client, org, coordinator) -> None:
    first = make_walk(org, on=today() - timedelta(days=30))
    body = {
        "area": str(first.area_id),
        "date": (today() + timedelta(days=2)).isoformat(),
        "stops": "Stationen\nParken",
        "follows": str(first.id),
    }
    resp = post(client, "/workspace/walks", body)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    created = db.session.query(Walk).filter(Walk.id != first.id).one()
    assert created.follows_walk_id == first.id
    page = client.get(f"/workspace/walks/{created.id}").get_data(as_text=True)
    assert _hidden(page, "follows") == str(first.id)  # an edit keeps it
    assert f"Följer upp vandringen {first.walk_date.isoformat()}." in page


@pytest.mark.parametrize(
    "follows,words",
    [
        ("abc", "not a walk number"),
        ("1234567890", "not a walk number"),
        ("999999", "no walk 999999"),
    ],
)
def test_a_bad_follows_field_is_shown_again(client, org, coordinator, follows, words) -> None:
    area = area_of(org)
    body = {"area": str(area.id), "date": today().isoformat(), "follows": follows}
    resp = post(client, "/workspace/walks", body)
    assert resp.status_code == 400
    assert words in resp.get_data(as_text=True)


def test_a_follow_up_of_another_organisations_walk_is_a_404(client, org, coordinator) -> None:
    foreign = make_walk(factories.make_org("Grannkommunen"), on=today() - timedelta(days=3))
    assert client.get(f"/workspace/walks/{foreign.id}/follow-up").status_code == 404
    body = {"area": str(area_of(org).id), "date": today().isoformat(), "follows": str(foreign.id)}
    resp = post(client, "/workspace/walks", body)
    assert resp.status_code == 400 and "no walk" in resp.get_data(as_text=True)


def test_a_viewer_may_not_plan_a_follow_up(client, org) -> None:
    first = make_walk(org, on=today() - timedelta(days=30))
    viewer = factories.make_person(org, "viewer", email="v@example.se")
    assert login(client, viewer).status_code == 302
    assert client.get(f"/workspace/walks/{first.id}/follow-up").status_code == 403


def test_a_follow_up_cannot_be_moved_before_the_walk_it_follows(client, org, coordinator) -> None:
    first = make_walk(org, on=today() - timedelta(days=30))
    second = make_walk(org, follows=first.id)
    body = {
        "area": str(second.area_id),
        "date": (today() - timedelta(days=31)).isoformat(),
        "follows": str(first.id),
    }
    resp = post(client, f"/workspace/walks/{second.id}", body)
    assert resp.status_code == 400
    assert "a follow-up comes later" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Walk, second.id).walk_date == today()

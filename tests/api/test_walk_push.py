"""Walk observations in the push: stored with their walk fields, refused item by item."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.walks import service as walks
from tests.support import factories
from tests.support.push import assert_readable, push_ok, push_one, stored
from tests.support.walks import make_walk, observation, today


def test_an_observation_is_stored_with_its_walk_stop_and_feeling(client, org, device) -> None:
    walk = make_walk(org)
    body = observation(walk, stop=3, feeling="safe")
    assert push_one(client, device, body)["status"] == "created"
    row = stored(body["id"])
    assert (row.walk_id, row.walk_stop, row.feeling) == (walk.id, 3, "safe")
    assert row.category_code == "vandring_belysning"


def test_a_plain_report_has_no_walk(client, org, device) -> None:
    body = factories.report()
    assert push_one(client, device, body)["status"] == "created"
    row = stored(body["id"])
    assert (row.walk_id, row.walk_stop, row.feeling) == (None, None, None)


def test_an_observation_without_a_stop_is_stored(client, org, device) -> None:
    walk = make_walk(org)
    body = observation(walk, stop=None, feeling="neutral")
    assert push_one(client, device, body)["status"] == "created"
    assert stored(body["id"]).walk_stop is None


def test_a_resend_keeps_the_walk_fields_and_stores_once(client, org, device) -> None:
    walk = make_walk(org)
    body = observation(walk, stop=2)
    assert push_one(client, device, body)["status"] == "created"
    assert push_one(client, device, body)["status"] == "duplicate"
    assert stored(body["id"]).walk_stop == 2


def _rejected(client, device, body, field: str) -> None:
    """Push a good report beside the bad one: only the bad one is rejected, readably."""
    good = factories.report()
    bad, fine = push_ok(client, device, body, good)
    assert bad["status"] == "rejected", bad
    assert_readable(bad["errors"], field)
    assert fine["status"] == "created"
    assert stored(body["id"]) is None


def test_an_unknown_walk_is_refused_alone(client, org, device) -> None:
    walk = make_walk(org)
    body = observation(walk)
    body["walk_id"] = walk.id + 1000
    _rejected(client, device, body, "walk_id")


def test_another_organisations_walk_is_refused_as_unknown(client, org, device) -> None:
    other = factories.make_org("Grannkommunen")
    walk = make_walk(other)
    _rejected(client, device, observation(walk), "walk_id")


@pytest.mark.parametrize("days", [2, -2, 8])
def test_a_walk_on_another_day_is_refused(client, org, device, days: int) -> None:
    walk = make_walk(org, on=today() + timedelta(days=days))
    _rejected(client, device, observation(walk), "walk_id")


@pytest.mark.parametrize("days", [1, -1])
def test_a_walk_one_day_off_is_accepted(client, org, device, days: int) -> None:
    walk = make_walk(org, on=today() + timedelta(days=days))
    assert push_one(client, device, observation(walk))["status"] == "created"


@pytest.mark.parametrize("stop", [5, 0, 1000, "2"])
def test_a_bad_stop_number_is_refused(client, org, device, stop) -> None:
    walk = make_walk(org)
    _rejected(client, device, observation(walk, stop=stop), "walk_stop")


def test_a_stop_on_a_walk_without_stops_is_refused(client, org, device) -> None:
    walk = make_walk(org, stops=())
    _rejected(client, device, observation(walk, stop=1), "walk_stop")


@pytest.mark.parametrize("feeling", ["scary", "", "Safe", 1])
def test_a_bad_feeling_is_refused(client, org, device, feeling) -> None:
    walk = make_walk(org)
    _rejected(client, device, observation(walk, feeling=feeling), "feeling")


@pytest.mark.parametrize("field,value", [("walk_stop", 1), ("feeling", "safe")])
def test_a_stop_or_feeling_without_a_walk_is_refused(client, org, device, field, value) -> None:
    body = factories.report(**{field: value})
    _rejected(client, device, body, field)


def test_a_done_walk_still_takes_its_late_observations(client, org, device) -> None:
    walk = make_walk(org)
    walks.set_status(org.id, walk.id, "done")
    assert push_one(client, device, observation(walk))["status"] == "created"


# --- the pull lists the planned walks ----------------------------------------------------

PULL = "/api/v1/sync/pull"


def test_the_pull_lists_planned_walks_with_route_and_stops(client, org, device) -> None:
    walk = make_walk(org)
    body = client.get(PULL, headers=device.headers).get_json()
    (listed,) = body["walks"]
    assert listed["id"] == walk.id
    assert listed["area"] == "Centrum"
    assert listed["date"] == walk.walk_date.isoformat()
    assert listed["dark"] is True
    assert listed["route"]["type"] == "LineString"
    assert [s["number"] for s in listed["stops"]] == [1, 2, 3, 4]
    assert listed["stops"][1]["name"] == "Gångtunneln"
    assert "participants" not in listed


def test_the_pull_leaves_out_done_far_and_foreign_walks(client, org, device) -> None:
    soon = make_walk(org, on=today() + timedelta(days=6))
    make_walk(org, on=today() + timedelta(days=10))
    make_walk(org, on=today() - timedelta(days=3))
    done = make_walk(org)
    walks.set_status(org.id, done.id, "done")
    make_walk(factories.make_org("Grannkommunen"))
    listed = client.get(PULL, headers=device.headers).get_json()["walks"]
    assert [w["id"] for w in listed] == [soon.id]

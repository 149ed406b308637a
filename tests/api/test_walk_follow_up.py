"""Follow-up walks: planned after an earlier walk, its open observations pulled and marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.walks import service as walks
from server.walks.models import Walk
from server.walks.protocol import build
from tests.support import factories
from tests.support.push import assert_readable, push_ok, push_one, stored
from tests.support.walks import area_of, made_on_walk, make_walk, mark, observation, today

PULL = "/api/v1/sync/pull"
LONG = "Lampan vid gångtunneln är trasig och " * 8  # longer than the phone's 140 characters


@dataclass
class Earlier:
    """A walk four weeks ago with four observations, and its follow-up today."""

    walk: Walk
    follow_up: Walk
    unsafe: str  # stop 1, unsafe, long text
    neutral: str  # stop 2, neutral
    safe: str  # stop 3, safe: nothing to follow up
    no_feeling: str  # no stop, no feeling


@pytest.fixture
def earlier(client, org, device) -> Earlier:
    walk = make_walk(org, on=today() - timedelta(days=28))
    bodies = [
        observation(walk, stop=1, feeling="unsafe", description=LONG),
        observation(walk, stop=2, feeling="neutral", category="vandring_skrap"),
        observation(walk, stop=3, feeling="safe", category="vandring_ode"),
        observation(walk, stop=None, feeling=None, category="vandring_ovrigt"),
    ]
    for n, body in enumerate(bodies):
        body["created_at"] = made_on_walk(walk, 10 * n)
    assert [r["status"] for r in push_ok(client, device, *bodies)] == ["created"] * 4
    walks.set_status(org.id, walk.id, "done")
    follow_up = make_walk(org, follows=walk.id)
    return Earlier(walk, follow_up, *(b["id"] for b in bodies))


def _pulled(client, device, walk_id: int) -> dict:
    body = client.get(PULL, headers=device.headers).get_json()
    return next(w for w in body["walks"] if w["id"] == walk_id)


def _rejected(client, device, body: dict, field: str) -> None:
    """Push a good report beside the bad one: only the bad one is rejected, readably."""
    good = factories.report()
    bad, fine = push_ok(client, device, body, good)
    assert bad["status"] == "rejected", bad
    assert_readable(bad["errors"], field)
    assert fine["status"] == "created"
    assert stored(body["id"]) is None


# --- planning ----------------------------------------------------------------------------


def test_a_walk_follows_an_earlier_walk_of_the_same_area(org, earlier) -> None:
    assert earlier.follow_up.follows_walk_id == earlier.walk.id


def test_a_follow_up_of_a_later_or_same_day_walk_is_refused(org) -> None:
    later = make_walk(org, on=today() + timedelta(days=3))
    with pytest.raises(Invalid, match="comes later"):
        make_walk(org, follows=later.id)
    same_day = make_walk(org)
    with pytest.raises(Invalid, match="comes later"):
        make_walk(org, follows=same_day.id)


def test_a_follow_up_in_another_area_is_refused(org) -> None:
    from server.incidents import areas as area_service

    area_of(org)
    other = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Norr", "code": "norr"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[13, 56], [13.1, 56], [13.1, 56.1], [13, 56.1], [13, 56]]],
                },
            }
        ],
    }
    area_service.import_areas(org.id, other, code_property="code")
    first = make_walk(org, on=today() - timedelta(days=20))
    plan = walks.WalkPlan(
        area_id=walks.find_area(org.id, "norr").id, walk_date=today(), follows=first.id
    )
    with pytest.raises(Invalid, match="another area"):
        walks.create_walk(org.id, plan)


def test_a_follow_up_of_another_organisations_walk_is_unknown(org) -> None:
    foreign = make_walk(factories.make_org("Grannkommunen"), on=today() - timedelta(days=9))
    with pytest.raises(NotFound, match="no walk"):
        make_walk(org, follows=foreign.id)
    with pytest.raises(NotFound):
        make_walk(org, follows=2**31)


def test_a_walk_cannot_follow_itself_nor_move_past_its_follow_up(org, earlier) -> None:
    first = earlier.walk
    itself = walks.WalkPlan(area_id=first.area_id, walk_date=first.walk_date, follows=first.id)
    with pytest.raises(Invalid, match="itself"):
        walks.update_walk(org.id, first.id, itself)
    db.session.rollback()
    moved = walks.WalkPlan(area_id=first.area_id, walk_date=today() + timedelta(days=2))
    with pytest.raises(Invalid, match="follows this walk up"):
        walks.update_walk(org.id, first.id, moved)


# --- the pull ----------------------------------------------------------------------------


def test_the_pull_lists_the_open_observations_of_the_earlier_walk(client, device, earlier) -> None:
    listed = _pulled(client, device, earlier.follow_up.id)
    assert listed["follows"] == earlier.walk.id
    items = listed["open_observations"]
    # Stop order, then no stop; the safe place is not followed up.
    assert [o["id"] for o in items] == [earlier.unsafe, earlier.neutral, earlier.no_feeling]
    first = items[0]
    assert set(first) == {"id", "category", "stop", "feeling", "text", "lat", "lon", "photo"}
    assert (first["category"], first["stop"], first["feeling"]) == (
        "vandring_belysning",
        1,
        "unsafe",
    )
    assert len(first["text"]) == 140 and first["text"].endswith("…")
    assert first["lat"] == pytest.approx(55.6398) and first["photo"] is None
    assert items[2]["stop"] is None and items[2]["feeling"] is None


def test_a_plain_walk_follows_none_and_has_nothing_open(client, org, device) -> None:
    walk = make_walk(org)
    listed = _pulled(client, device, walk.id)
    assert (listed["follows"], listed["open_observations"]) == (None, [])


def test_the_pull_gives_the_hash_of_a_stored_photo_only(client, org, device) -> None:
    from tests.support.push import add_photo

    walk = make_walk(org, on=today() - timedelta(days=7))
    body = observation(walk, photos=["a" * 64, "b" * 64])
    body["created_at"] = made_on_walk(walk)
    push_one(client, device, body)
    add_photo(org.id, "b" * 64)
    follow_up = make_walk(org, follows=walk.id)
    (item,) = _pulled(client, device, follow_up.id)["open_observations"]
    assert item["photo"] == "b" * 64


def test_an_observation_stays_open_until_a_follow_up_marks_it_atgardat(
    client, org, device, earlier
) -> None:
    second = earlier.follow_up
    own = observation(second, stop=4, feeling="unsafe", description="Ny skadegörelse.")
    pushed = push_ok(
        client,
        device,
        mark(second, earlier.unsafe, "atgardat"),
        mark(second, earlier.neutral, "kvarstar"),
        own,
    )
    assert [r["status"] for r in pushed] == ["created"] * 3
    third = make_walk(org, on=today() + timedelta(days=1), follows=second.id)
    listed = _pulled(client, device, third.id)["open_observations"]
    assert [o["id"] for o in listed] == [earlier.neutral, own["id"], earlier.no_feeling]


# --- the push ----------------------------------------------------------------------------


def test_a_mark_on_an_open_observation_is_stored(client, device, earlier) -> None:
    body = mark(earlier.follow_up, earlier.unsafe, "atgardat", stop=1)
    assert push_one(client, device, body)["status"] == "created"
    row = stored(body["id"])
    assert (str(row.follows), row.follow_up, row.walk_id) == (
        earlier.unsafe,
        "atgardat",
        earlier.follow_up.id,
    )
    assert push_one(client, device, body)["status"] == "duplicate"


def test_a_mark_on_a_safe_observation_is_refused_alone(client, device, earlier) -> None:
    _rejected(client, device, mark(earlier.follow_up, earlier.safe, "kvarstar"), "follows")


def test_a_mark_on_an_unknown_observation_is_refused(client, device, earlier) -> None:
    body = mark(earlier.follow_up, "0f8fad5b-d9cb-469f-a165-70867728950e", "kvarstar")
    _rejected(client, device, body, "follows")


def test_a_mark_on_an_observation_already_atgardat_is_refused(client, org, device, earlier) -> None:
    second = earlier.follow_up
    push_one(client, device, mark(second, earlier.unsafe, "atgardat"))
    third = make_walk(org, on=today() + timedelta(days=1), follows=second.id)
    body = mark(third, earlier.unsafe, "kvarstar", created_at=factories.report()["created_at"])
    _rejected(client, device, body, "follows")


def test_a_mark_on_a_walk_that_follows_none_is_refused(client, org, device, earlier) -> None:
    plain = make_walk(org)
    _rejected(client, device, mark(plain, earlier.unsafe, "atgardat"), "follows")


def test_a_mark_on_another_organisations_observation_is_refused(client, device, earlier) -> None:
    other = factories.make_org("Grannkommunen")
    their_device = factories.make_device(other)
    first = make_walk(other, on=today() - timedelta(days=5))
    theirs = observation(first)
    theirs["created_at"] = made_on_walk(first)
    push_one(client, their_device, theirs)
    assert stored(theirs["id"]) is not None
    _rejected(client, device, mark(earlier.follow_up, theirs["id"], "kvarstar"), "follows")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"follow_up": None}, "follow_up"),  # follows without follow_up
        ({"follows": None}, "follows"),  # follow_up without follows
        ({"follow_up": "klar"}, "follow_up"),
        ({"follow_up": "Åtgärdat"}, "follow_up"),
        ({"follows": "not-a-uuid"}, "follows"),
        ({"follows": 17}, "follows"),
        ({"walk_id": None, "walk_stop": None, "feeling": None}, "follows"),
    ],
)
def test_a_malformed_mark_is_refused_alone(client, device, earlier, change, field) -> None:
    body = {**mark(earlier.follow_up, earlier.unsafe, "atgardat"), **change}
    _rejected(client, device, body, field)


# --- the protocol ------------------------------------------------------------------------


def test_the_protocol_counts_the_marks_latest_first(client, runner, device, earlier, tmp_path):
    second = earlier.follow_up
    results = push_ok(
        client,
        device,
        mark(second, earlier.unsafe, "atgardat", minutes=1),
        # Marked twice: the later mark wins, whatever order the phone sends them in.
        mark(second, earlier.neutral, "kvarstar", minutes=9),
        mark(second, earlier.neutral, "atgardat", minutes=2),
    )
    assert [r["status"] for r in results] == ["created"] * 3
    protocol = build(None, second.id)
    assert protocol.observations == []  # marks are not observations of their own
    assert protocol.follow_up is not None
    assert protocol.follow_up.earlier_date == earlier.walk.walk_date
    assert protocol.follow_up.counts() == {"atgardat": 1, "kvarstar": 1, "unchecked": 1}
    marks = {str(o.report_id): m for o, m in protocol.follow_up.items}
    assert marks == {
        earlier.unsafe: "atgardat",
        earlier.neutral: "kvarstar",
        earlier.no_feeling: None,
    }

    from tests.api.test_cli import cli

    target = tmp_path / "uppfoljning.html"
    result = cli(runner, "walk", "protocol", str(second.id), "--html", str(target))
    assert result.exit_code == 0, result.output
    html = target.read_text(encoding="utf-8")
    heading = f"Uppföljning av vandringen {earlier.walk.walk_date.isoformat()}"
    assert heading in html
    assert "Åtgärdat 1 · Kvarstår 1 · Ej kontrollerade 1" in html


def test_a_plain_walk_protocol_has_no_follow_up_section(runner, org, tmp_path) -> None:
    walk = make_walk(org)
    assert build(org.id, walk.id).follow_up is None


def test_a_mark_is_no_row_of_the_weekly_est_export(client, org, device, earlier) -> None:
    from server.actions.est import est_rows, row_kind

    new = observation(
        earlier.follow_up, stop=2, created_at=mark(earlier.follow_up, "", "")["created_at"]
    )
    marked = mark(earlier.follow_up, earlier.unsafe, "kvarstar", minutes=5)
    assert [r["status"] for r in push_ok(client, device, new, marked)] == ["created"] * 2
    iso = today().isocalendar()
    walk_rows = [r for r in est_rows(org.id, iso.year, iso.week) if r.kind == row_kind("walk")]
    # The re-check of an earlier observation is not a new one: only the new observation counts.
    assert len(walk_rows) == 1


def test_the_phone_gets_the_open_list_only_around_the_walks_day(client, org, device, earlier):
    later = make_walk(org, on=today() + timedelta(days=5), follows=earlier.walk.id)
    pulled = _pulled(client, device, later.id)
    assert pulled["follows"] == earlier.walk.id and pulled["open_observations"] == []
    assert _pulled(client, device, earlier.follow_up.id)["open_observations"] != []


def test_numbers_in_an_open_observations_text_are_masked_for_the_phone(client, org, device):
    walk = make_walk(org, on=today() - timedelta(days=28))
    said = observation(walk, description="Kille ringde 070-123 45 67 och 19991231-1234, lampa 12")
    said["created_at"] = made_on_walk(walk, 5)
    push_ok(client, device, said)
    walks.set_status(org.id, walk.id, "done")
    follow_up = make_walk(org, follows=walk.id)
    (item,) = _pulled(client, device, follow_up.id)["open_observations"]
    assert item["text"] == "Kille ringde ••• och •••, lampa 12"

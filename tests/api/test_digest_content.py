"""What the morning digest and the weekly/monthly lägesbild contain, on both databases.

Reports are pushed through the real push API by devices of different kinds, so the real
grouping makes the incidents; coordinator decisions go through `server.incidents.service`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from analysis.calendar import STOCKHOLM, period_for
from server.devices.models import Device
from server.digest import content
from server.digest.content import build_digest, followups
from server.extensions import db
from server.incidents import areas
from server.incidents import service as incidents
from server.reports.models import Report
from tests.support import factories

PUSH = "/api/v1/sync/push"
# The night of Thursday 19 to Friday 20 November 2026 (CET, +01:00).
DAY = date(2026, 11, 20)


def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    """Return a GeoJSON polygon ring of a lon/lat box."""
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


STATION = (55.6398, 13.2083)  # in "Centrum"
SQUARE = (55.6700, 13.1400)  # in "Hjärup"
FAR = (55.6000, 13.3500)  # outside both areas
AREAS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum", "code": "centrum"},
            "geometry": {
                "type": "Polygon",
                "coordinates": square(13.20, 55.63, 13.22, 55.645),
            },
        },
        {
            "type": "Feature",
            "properties": {"name": "Hjärup", "code": "hjarup"},
            "geometry": {
                "type": "Polygon",
                "coordinates": square(13.13, 55.66, 13.15, 55.68),
            },
        },
    ],
}
HOSTILE = "<script>alert(1)</script> vid <img src=x onerror=alert(1)>"
NAMES = ("Kalle Väktarsson", "Anna Fältarsdotter", "Nattis Nilsson", "Bil 2 Bertil")


def local(day: date, hhmm: str) -> datetime:
    """Return a Stockholm wall-clock time on `day` ("23:10")."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def night_at(hhmm: str, day: date = DAY) -> datetime:
    """Return a time in the night ending on `day`: evening hours belong to the day before."""
    hour = int(hhmm.split(":")[0])
    return local(day - timedelta(days=1) if hour >= 12 else day, hhmm)


def length(start: datetime, end: datetime) -> timedelta:
    """Return the real duration between two aware times (not the wall-clock difference)."""
    # Python subtracts two datetimes with the same tzinfo as wall-clock times: 12 hours
    # for every night. Real durations need UTC.
    return end.astimezone(UTC) - start.astimezone(UTC)


def near(point: tuple[float, float], metres_north: float = 0.0) -> dict[str, float]:
    """Return a location this many metres north of a point."""
    return {"lat": point[0] + metres_north / 111_320, "lon": point[1], "accuracy_m": 10.0}


def rep(when: datetime, category: str, point=STATION, metres: float = 0.0, **extra: Any):
    """Build a report payload at a time and place."""
    extra.setdefault("description", f"{category} rapport")
    extra.setdefault("place", "")
    return factories.report(
        created_at=when.isoformat(), category=category, location=near(point, metres), **extra
    )


def push(client, dev: factories.EnrolledDevice, *reports: dict[str, Any]) -> None:
    """Push reports (in batches of 100) and require every one to be accepted."""
    items = list(reports)
    for first in range(0, len(items), 100):
        resp = client.post(PUSH, json={"reports": items[first : first + 100]}, headers=dev.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert all(r["status"] == "created" for r in resp.get_json()["results"])


def incident_of(report: dict[str, Any]) -> uuid.UUID:
    """Return the incident a pushed report is in."""
    iid = db.session.scalar(select(Report.incident_id).where(Report.id == uuid.UUID(report["id"])))
    assert iid is not None
    return iid


def set_device(dev: factories.EnrolledDevice, **values: Any) -> None:
    """Overwrite device columns (last seen, outbox) as if the phone had been heard then."""
    db.session.execute(update(Device).where(Device.id == dev.device.id).values(**values))
    db.session.commit()


@dataclass
class Scene:
    """A synthetic night in one organisation (and a neighbour with the same places)."""

    org: Any
    guard: factories.EnrolledDevice
    outreach: factories.EnrolledDevice
    walker: factories.EnrolledDevice
    guard2: factories.EnrolledDevice
    fire: dict[str, Any]
    gathering: dict[str, Any]
    hostile: dict[str, Any]
    calm: dict[str, Any]
    litter: dict[str, Any]
    followup: dict[str, Any]
    closed: dict[str, Any]
    ancient: dict[str, Any]
    other_org: Any = None
    other_report: dict[str, Any] = field(default_factory=dict)


def build_scene(client) -> Scene:
    """Push a night with every section's material; see the assertions for what is where."""
    org = factories.make_org("Digestkommun")
    areas.import_areas(org.id, AREAS, code_property="code")
    guard = factories.make_device(org, NAMES[0], "vaktare")
    outreach = factories.make_device(org, NAMES[1], "faltare")
    walker = factories.make_device(org, NAMES[2], "nattvandrare")
    guard2 = factories.make_device(org, NAMES[3], "vaktare")

    fire = rep(night_at("23:10"), "brand", STATION, severity=2, place="Busskuren Stationen")
    gathering = rep(night_at("02:00"), "samling", SQUARE, severity=3, place="Torget")
    hostile = rep(night_at("01:20"), "skadegorelse", FAR, severity=1, description=HOSTILE)
    calm = rep(night_at("03:00"), "lugnt", SQUARE, 300, severity=None, description="Lugnt")
    # Vandalism up: 5 tonight (far apart: separate incidents) against 0, 0, 1, 0.
    vandalism = [
        rep(night_at(f"0{h}:15"), "skadegorelse", STATION, m)
        for h, m in enumerate((-600, -400, -200, 200))
    ]
    earlier_vandalism = rep(night_at("22:00", DAY - timedelta(weeks=3)), "skadegorelse", FAR)
    # Traffic down: 0 tonight against 4 on each of the four previous same nights.
    traffic = [
        rep(night_at(f"2{k}:30", DAY - timedelta(weeks=w)), "trafik", SQUARE, 2000 + 500 * k)
        for w in range(1, 5)
        for k in range(4)
    ]
    # A recurring place: two reports ten days ago and one tonight within 100 m (Centrum).
    litter_old = [
        rep(local(DAY - timedelta(days=10), h), "miljo", STATION, m)
        for h, m in (("20:00", -900), ("21:30", -880))
    ]
    litter = rep(night_at("04:40"), "miljo", STATION, -870, place="Parkeringen")
    # A recurring place with nothing new tonight is not listed.
    quiet_place = [
        rep(local(DAY - timedelta(days=d), "20:00"), "miljo", FAR, 2_000 + d) for d in (5, 6, 7)
    ]
    # Outside the window: before 18:00 and after 06:00.
    outside = [
        rep(local(DAY - timedelta(days=1), "17:59"), "brott", STATION, 8_000),
        rep(local(DAY, "06:00"), "brott", STATION, 9_000),
    ]
    # Follow-ups: open (with responsible), closed, and too old to list.
    followup = rep(local(DAY - timedelta(days=5), "22:00"), "otrygg_plats", SQUARE, 4_000)
    closed = rep(local(DAY - timedelta(days=3), "22:00"), "otrygg_plats", SQUARE, 6_000)
    ancient = rep(local(DAY - timedelta(days=120), "22:00"), "otrygg_plats", SQUARE, 7_000)

    push(client, guard, fire, *vandalism[:2], litter, *outside, followup, closed, ancient)
    push(client, outreach, hostile, *vandalism[2:], *litter_old, earlier_vandalism, *quiet_place)
    push(client, walker, gathering, calm, *traffic)
    incidents.set_status(org.id, incident_of(followup), "atgard_pagar", None)
    incidents.set_responsible(org.id, incident_of(followup), "polis", None)
    incidents.set_status(org.id, incident_of(closed), "atgardad", None)

    # Devices: the guard was heard at 05:50 (fine); the outreach worker last at 23:40
    # (silent); the second guard car holds 3 unsent reports and went quiet at 01:10; the
    # second walker phone reported two nights ago only and was last heard then (silent);
    # the walker pushed after the night (its last-seen is the push), so it is not silent.
    set_device(guard, last_seen_at=night_at("05:50"))
    set_device(outreach, last_seen_at=night_at("23:40"))
    set_device(
        guard2,
        last_seen_at=night_at("01:10"),
        outbox_pending=3,
        outbox_reported_at=night_at("01:10"),
    )
    walker2 = factories.make_device(org, "Nattvandrarna lånetelefon", "nattvandrare")
    walker_old = rep(night_at("22:00", DAY - timedelta(days=2)), "lugnt", FAR, 9_500)
    push(client, walker2, walker_old)
    set_device(walker2, last_seen_at=night_at("22:05", DAY - timedelta(days=2)))
    # A revoked phone with unsent reports, and an idle phone: neither is listed.
    revoked = factories.make_device(org, "Borttappad", "vaktare")
    set_device(
        revoked,
        outbox_pending=9,
        outbox_reported_at=night_at("20:00"),
        revoked_at=night_at("21:00"),
    )
    factories.make_device(org, "Oanvänd", "faltare")

    # A neighbour organisation reporting at the same places the same night.
    other = factories.make_org("Grannkommun")
    areas.import_areas(other.id, AREAS, code_property="code")
    stranger = factories.make_device(other, "Främling", "vaktare")
    other_report = rep(night_at("23:30"), "brand", STATION, 20, description="Grannens brand")
    push(client, stranger, other_report)
    set_device(stranger, outbox_pending=5, outbox_reported_at=night_at("02:00"))
    return Scene(
        org=org,
        guard=guard,
        outreach=outreach,
        walker=walker,
        guard2=guard2,
        fire=fire,
        gathering=gathering,
        hostile=hostile,
        calm=calm,
        litter=litter,
        followup=followup,
        closed=closed,
        ancient=ancient,
        other_org=other,
        other_report=other_report,
    )


MORNING = datetime(2026, 11, 20, 6, 5, tzinfo=STOCKHOLM)


@pytest.fixture
def scene(client) -> Scene:
    """The synthetic night."""
    return build_scene(client)


# --- the synthetic night --------------------------------------------------------------------------


def test_the_night_window_and_who_reported(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert d.kind == "night" and d.day == DAY
    assert (d.start, d.end) == period_for("night", DAY)
    # 4 named reports + 4 vandalism + litter; not the 17:59 and 06:00 ones, nor the neighbour's;
    # the calm round is counted apart (presence, not an incident's report).
    assert d.reports == 8 and d.calm.calm_reports == 1
    kinds = {k.kind: (k.devices, k.reports) for k in d.reporting}
    assert kinds == {"vaktare": (1, 4), "faltare": (1, 3), "nattvandrare": (1, 2)}


def test_devices_with_unsent_reports_and_silent_devices_are_listed_by_kind(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert [(a.kind, a.unsent, a.silent) for a in d.unsent] == [("vaktare", 3, True)]
    assert d.unsent[0].counted_at == night_at("01:10")
    silent = sorted((a.kind, a.last_seen_at) for a in d.silent)
    assert silent == sorted(
        [
            ("faltare", night_at("23:40")),
            ("nattvandrare", night_at("22:05", DAY - timedelta(days=2))),
        ]
    )
    # Kinds only: no device name and no device id anywhere in the digest.
    text = repr(d)
    for name in (*NAMES, "Borttappad", "Oanvänd", "Främling", "lånetelefon"):
        assert name not in text
    assert "device_id" not in text and "display_name" not in text


def test_a_device_heard_after_the_night_is_not_silent(scene):
    set_device(scene.outreach, last_seen_at=local(DAY, "06:02"))
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert "faltare" not in {a.kind for a in d.silent}


def test_an_outbox_count_after_now_is_not_known_yet(scene):
    d = build_digest(scene.org.id, "night", DAY, now=night_at("01:00"))
    assert d.unsent == ()


def test_action_lists_urgent_categories_then_severity(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert [i.id for i in d.action] == [
        str(incident_of(scene.fire)),  # brand: an urgent category
        str(incident_of(scene.gathering)),  # samling with severity 3
    ]
    assert d.action_total == 2
    fire = d.action[0]
    assert fire.category == "brand" and fire.urgent
    assert fire.place == "Busskuren Stationen" and fire.area == "Centrum"
    assert fire.at == night_at("23:10")
    assert fire.kinds == ("vaktare",)
    assert fire.text == "brand rapport"


def test_counts_per_category_and_area_against_the_same_night_of_four_weeks(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    tr = d.trends
    assert len(tr.periods) == 5
    assert tr.periods[0] == content.Period(*period_for("night", DAY))
    assert tr.totals == (8, 4, 4, 5, 4)  # the calm round is presence, counted apart
    by_cat = {r.key: r for r in tr.by_category}
    assert (by_cat["skadegorelse"].count, by_cat["skadegorelse"].previous) == (5, (0, 0, 1, 0))
    assert by_cat["skadegorelse"].direction == "up"
    assert (by_cat["trafik"].count, by_cat["trafik"].previous) == (0, (4, 4, 4, 4))
    assert by_cat["trafik"].direction == "down"
    assert by_cat["brand"].direction == "same"  # 1 against 0: noise, not a trend
    by_area = {r.name: r for r in tr.by_area}
    assert by_area["Centrum"].count == 6  # the fire, four vandalism reports and the litter
    assert by_area["Hjärup"].count == 1  # the gathering (the calm round is counted apart)
    assert "lugnt" not in by_cat
    assert by_area[None].key == "0"  # outside every area, listed last
    assert tr.by_area[-1].name is None


def test_recurring_places_with_new_reports_tonight(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert d.places_total == 1
    (place,) = d.places
    assert place.count == 3 and place.new_in_period == 1
    assert place.place == "Parkeringen"
    assert place.incident_ids == (str(incident_of(scene.litter)),)
    assert place.categories == (("miljo", 3),)


def test_incidents_grouped_by_area_with_kinds_and_no_calm_rounds(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    names = [g.name for g in d.areas]
    assert names == ["Centrum", "Hjärup", None]
    listed = [i for g in d.areas for i in g.incidents]
    assert d.incidents == len(listed) == 8  # 9 reports, minus the calm round
    assert all(i.category != "lugnt" for i in listed)
    centrum = d.areas[0].incidents
    assert [i.at for i in centrum] == sorted(i.at for i in centrum)
    hostile = next(i for i in listed if i.id == str(incident_of(scene.hostile)))
    assert hostile.text == " ".join(HOSTILE.split())
    assert hostile.kinds == ("faltare",) and hostile.area is None
    assert d.unlisted == 0


def test_follow_ups_are_open_incidents_from_before_with_their_owner(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    f = d.followups
    ids = [i.id for i in f.items]
    assert str(incident_of(scene.followup)) == ids[0]  # owned: listed first
    assert str(incident_of(scene.closed)) not in ids  # closed
    assert str(incident_of(scene.ancient)) not in ids  # older than 90 days
    assert f.items[0].responsible == "polis" and f.items[0].status == "atgard_pagar"
    assert f.total == len(ids)
    assert ("polis", 1) in f.by_responsible
    # Nothing from tonight, and only the organisation's own.
    tonight = {i.id for g in d.areas for i in g.incidents}
    assert not tonight & set(ids)
    assert f.since == d.start - timedelta(days=90)


def test_an_old_incident_with_news_tonight_is_listed_tonight_not_as_a_follow_up(client, org):
    device = factories.make_device(org)
    before = rep(local(DAY - timedelta(days=3), "22:00"), "otrygg_plats", SQUARE)
    push(client, device, before)
    incidents.set_responsible(org.id, incident_of(before), "kommun", None)
    again = rep(night_at("23:00"), "otrygg_plats", SQUARE, 20)
    push(client, device, again)
    assert incident_of(again) == incident_of(before)
    d = build_digest(org.id, "night", DAY, now=MORNING)
    (item,) = [i for g in d.areas for i in g.incidents]
    assert item.id == str(incident_of(before)) and item.responsible == "kommun"
    assert (item.reports_in_period, item.report_count) == (1, 2)
    assert d.followups.total == 0 and d.followups.items == ()


def test_follow_ups_are_bounded(scene, monkeypatch):
    monkeypatch.setattr(followups, "FOLLOWUP_LIMIT", 2)
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert len(d.followups.items) == 2
    assert d.followups.total > 2


def test_an_organisation_sees_only_its_own(scene):
    mine = build_digest(scene.org.id, "night", DAY, now=MORNING)
    theirs = build_digest(scene.other_org.id, "night", DAY, now=MORNING)
    assert str(incident_of(scene.other_report)) not in {
        i.id for g in mine.areas for i in g.incidents
    }
    assert theirs.reports == 1 and theirs.incidents == 1
    assert [i.text for i in theirs.action] == ["Grannens brand"]
    assert [(a.kind, a.unsent) for a in theirs.unsent] == [("vaktare", 5)]
    assert theirs.followups.total == 0 and theirs.places == ()
    assert {r.name for r in theirs.trends.by_area} == {"Centrum"}
    assert theirs.org_name == "Grannkommun"


def test_the_calm_state_of_a_busy_night(scene):
    d = build_digest(scene.org.id, "night", DAY, now=MORNING)
    assert d.calm.state == "incidents" and not d.is_calm
    assert d.calm.calm_reports == 1
    assert [(k.kind, k.reports) for k in d.calm.calm_kinds] == [("nattvandrare", 1)]


# --- calm nights ----------------------------------------------------------------------------------


def test_a_night_without_reports_is_a_calm_night_with_no_reports(client, org):
    device = factories.make_device(org)
    push(client, device, rep(local(DAY - timedelta(days=3), "22:00"), "skadegorelse"))
    d = build_digest(org.id, "night", DAY, now=MORNING)
    assert d.is_calm and d.calm.state == "no_reports"
    assert d.reports == d.incidents == 0 and d.areas == () and d.action == ()
    assert d.calm.calm_reports == 0
    # The first report came three days ago: no comparison night lies within the history.
    assert d.trends.totals == (0,)


def test_a_night_with_only_calm_rounds_says_the_patrol_was_out(client, org):
    walker = factories.make_device(org, kind="nattvandrare")
    guard = factories.make_device(org, kind="vaktare")
    push(client, walker, rep(night_at("22:00"), "lugnt", description="Lugnt vid skolan"))
    push(client, guard, rep(night_at("03:30"), "lugnt", SQUARE, description="Lugnt"))
    d = build_digest(org.id, "night", DAY, now=MORNING)
    assert d.is_calm and d.calm.state == "calm_rounds"
    assert d.calm.calm_reports == 2 and d.reports == 0 and d.incidents == 0
    assert (d.calm.first_at, d.calm.last_at) == (night_at("22:00"), night_at("03:30"))
    assert [k.kind for k in d.calm.calm_kinds] == ["vaktare", "nattvandrare"]
    assert d.areas == ()


# --- daylight saving ------------------------------------------------------------------------------


def test_the_autumn_night_is_13_hours_and_keeps_the_report_after_the_change(client, org):
    device = factories.make_device(org)
    inside = [
        rep(datetime.fromisoformat("2026-10-24T18:00:00+02:00"), "skadegorelse", STATION, 0),
        # 02:30 CET, after the clocks went back (01:30 UTC).
        rep(datetime.fromisoformat("2026-10-25T02:30:00+01:00"), "skadegorelse", STATION, 900),
        rep(datetime.fromisoformat("2026-10-25T05:59:00+01:00"), "skadegorelse", STATION, 1800),
    ]
    outside = [
        rep(datetime.fromisoformat("2026-10-24T17:59:00+02:00"), "skadegorelse", STATION, 2700),
        rep(datetime.fromisoformat("2026-10-25T06:00:00+01:00"), "skadegorelse", STATION, 3600),
    ]
    push(client, device, *inside, *outside)
    d = build_digest(org.id, "night", date(2026, 10, 25), now=MORNING)
    assert length(d.start, d.end) == timedelta(hours=13)
    assert d.reports == 3
    times = sorted(i.at for g in d.areas for i in g.incidents)
    assert times[1] == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_the_spring_night_is_11_hours(app, client, org):
    app.config["FUTURE_SKEW_HOURS"] = 24 * 800  # the spring change of 2027 is in the future
    device = factories.make_device(org)
    inside = [
        rep(datetime.fromisoformat("2027-03-27T18:00:00+01:00"), "brott", STATION, 0),
        rep(datetime.fromisoformat("2027-03-28T03:30:00+02:00"), "brott", STATION, 900),
        rep(datetime.fromisoformat("2027-03-28T05:59:00+02:00"), "brott", STATION, 1800),
    ]
    outside = [
        rep(datetime.fromisoformat("2027-03-27T17:59:00+01:00"), "brott", STATION, 2700),
        # 04:15 UTC: inside if the night were 12 hours of +01:00.
        rep(datetime.fromisoformat("2027-03-28T06:15:00+02:00"), "brott", STATION, 3600),
    ]
    push(client, device, *inside, *outside)
    d = build_digest(org.id, "night", date(2027, 3, 28), now=MORNING)
    assert length(d.start, d.end) == timedelta(hours=11)
    assert d.reports == 3
    assert d.action_total == 3  # brott is urgent


# --- week and month -------------------------------------------------------------------------------


def test_a_synthetic_month(client, org):
    areas.import_areas(org.id, AREAS, code_property="code")
    guard = factories.make_device(org, kind="vaktare")
    walker = factories.make_device(org, kind="nattvandrare")
    october = [
        # The first evening of the month, the night of the clock change, the last night.
        rep(local(date(2026, 10, 1), "21:00"), "skadegorelse", STATION, 0),
        rep(datetime.fromisoformat("2026-10-25T02:30:00+01:00"), "skadegorelse", STATION, 900),
        rep(local(date(2026, 10, 31), "23:00"), "brand", SQUARE, 0),
        rep(local(date(2026, 11, 1), "05:00"), "skadegorelse", STATION, 1800),
        *[
            rep(local(date(2026, 10, d), "22:00"), "miljo", STATION, 5_000 + d)
            for d in (10, 12, 14, 16)
        ],
    ]
    not_october = [
        rep(local(date(2026, 10, 1), "05:00"), "skadegorelse", FAR, 0),  # September's night
        rep(local(date(2026, 11, 1), "07:00"), "skadegorelse", FAR, 900),
    ]
    earlier = [
        rep(local(date(2026, m, 15), "22:00"), "trafik", FAR, 1000 * k)
        for m in (6, 7, 8, 9)
        for k in range(5)
    ]
    open_before = rep(local(date(2026, 9, 20), "22:00"), "otrygg_plats", SQUARE, 3_000)
    push(client, guard, *october[:4], *not_october, open_before)
    push(client, walker, *october[4:], *earlier)
    incidents.set_responsible(org.id, incident_of(open_before), "kommun", None)
    d = build_digest(org.id, "month", date(2026, 11, 1), now=MORNING)
    assert d.start == local(date(2026, 10, 1), "06:00")
    assert d.end == local(date(2026, 11, 1), "06:00")
    assert d.reports == 8
    assert [i.category for i in d.action] == ["brand"]
    by_cat = {r.key: r for r in d.trends.by_category}
    # The first report came on 15 June: June is not a whole month of history, so it is left
    # out rather than counted from its 1st.
    assert by_cat["trafik"].previous == (5, 5, 5) and by_cat["trafik"].direction == "down"
    assert by_cat["skadegorelse"].count == 3
    assert d.trends.totals[1] == 5 + 1 + 1  # September: traffic, its night report, the open one
    assert [p.count for p in d.places] == [4]  # a month looks back over the whole month
    assert d.followups.items[0].responsible == "kommun"
    assert d.followups.items[0].id == str(incident_of(open_before))
    assert [(k.kind, k.reports) for k in d.reporting] == [("vaktare", 4), ("nattvandrare", 4)]
    assert d.unsent == () and d.silent == ()  # silence is a night's question


def test_a_week_compares_with_the_four_weeks_before(client, org):
    device = factories.make_device(org)
    monday = date(2026, 11, 16)
    push(
        client,
        device,
        *[
            rep(local(monday - timedelta(days=d), "22:00"), "narkotika", FAR, 300 * d)
            for d in (1, 3)
        ],
        *[
            rep(local(monday - timedelta(weeks=w, days=2), "22:00"), "narkotika", FAR, 50 * w)
            for w in (1, 2, 3, 4)
        ],
    )
    d = build_digest(org.id, "week", monday, now=MORNING)
    assert length(d.start, d.end) == timedelta(days=7)
    (row,) = d.trends.by_category
    # The first report fell two days into the fourth week back: that week is left out.
    assert (row.count, row.previous, row.direction) == (2, (1, 1, 1), "same")
    assert d.reports == 2


def test_an_unknown_organisation_or_kind_is_refused(app):
    with pytest.raises(LookupError):
        build_digest(999_999, "night", DAY)
    with pytest.raises(ValueError):
        build_digest(1, "year", DAY)

"""Reports become incidents as they arrive; coordinator decisions stick and reach devices."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from analysis.grouping import ReportPoint, group_reports
from analysis.grouping_rules import DEFAULT_RULES
from server.extensions import db
from server.incidents import feedback
from server.incidents import service as incidents
from server.incidents.grouping import assign_pending
from server.incidents.models import Incident, IncidentEvent
from server.orgs.counter import lock_counter
from server.reports.models import Report
from tests.support import factories

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
BASE = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
STATION = (55.6398, 13.2083)


def at(minutes: float) -> str:
    """Return BASE plus minutes as RFC 3339."""
    return (BASE + timedelta(minutes=minutes)).isoformat()


def near(metres_north: float) -> dict[str, float]:
    """Return a location this many metres north of the station."""
    return {"lat": STATION[0] + metres_north / 111_320, "lon": STATION[1], "accuracy_m": 10.0}


def push(client, dev, *reports: dict[str, Any]) -> list[dict[str, Any]]:
    """Push reports and return the results."""
    resp = client.post(PUSH, json={"reports": list(reports)}, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["results"]


def incident_of(report_id: str) -> uuid.UUID:
    """Return the incident a report is in (never None after a push)."""
    iid = db.session.scalar(select(Report.incident_id).where(Report.id == uuid.UUID(report_id)))
    assert iid is not None, "a pushed report must be in an incident"
    return iid


def key_of(report_id: str) -> str:
    """Return the grouping key of a report's incident: the id of its seed report."""
    seed = db.session.scalar(
        select(Incident.seed_id)
        .join(Report, Report.incident_id == Incident.id)
        .where(Report.id == uuid.UUID(report_id))
    )
    assert seed is not None, "a pushed report must be in an incident"
    return str(seed)


def fire(minutes: float, metres: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A car-fire report near the station."""
    return factories.report(
        category="brand", created_at=at(minutes), location=near(metres), **extra
    )


def test_three_guards_reporting_one_fire_make_one_incident(client, org):
    guards = [factories.make_device(org) for _ in range(3)]
    reports = [fire(0), fire(5, 40), fire(12, 80)]
    for guard, r in zip(guards, reports, strict=True):
        assert push(client, guard, r)[0]["status"] == "created"
    ids = {incident_of(r["id"]) for r in reports}
    assert ids == {uuid.UUID(reports[0]["id"])}
    incident = db.session.get(Incident, ids.pop())
    assert incident.report_count == 3
    assert incident.urgent  # brand is an urgent category
    assert incident.device_kinds == ["vaktare"]


def test_far_away_later_or_unrelated_reports_start_their_own_incidents(client, device):
    first = fire(0)
    far = fire(10, 5_000)
    late = fire(60 * 24)
    other = factories.report(category="narkotika", created_at=at(3), location=near(0))
    push(client, device, first, far, late, other)
    assert len({incident_of(r["id"]) for r in (first, far, late, other)}) == 4


def test_a_report_without_a_position_joins_by_place_text(client, device):
    a = factories.report(category="samling", created_at=at(0), location=None, place="Stationen")
    b = factories.report(category="samling", created_at=at(20), location=None, place=" stationen ")
    c = factories.report(category="samling", created_at=at(25), location=None, place="")
    push(client, device, a, b, c)
    assert incident_of(a["id"]) == incident_of(b["id"]) != incident_of(c["id"])


def test_arrival_order_does_not_change_the_incidents(app, client, org):
    reports = [fire(m, d) for m, d in ((0, 0), (30, 50), (70, 90), (100, 500), (110, 520))]
    first_dev, second_dev = factories.make_device(org), factories.make_device(org)
    push(client, first_dev, *reports[3:])
    push(client, second_dev, *reports[:3])
    late_first = {r["id"]: incident_of(r["id"]) for r in reports}

    other = factories.make_org()
    third = factories.make_device(other)
    fresh = [dict(r, id=str(uuid.uuid4())) for r in reports]
    push(client, third, *fresh)
    in_order = {r["id"]: incident_of(f["id"]) for r, f in zip(reports, fresh, strict=True)}

    # Same partition, whatever came first.
    def partition(mapping: dict[str, uuid.UUID]) -> set[frozenset[str]]:
        groups: dict[uuid.UUID, set[str]] = {}
        for rid, iid in mapping.items():
            groups.setdefault(iid, set()).add(rid)
        return {frozenset(g) for g in groups.values()}

    assert partition(late_first) == partition(in_order)
    assert len(partition(in_order)) == 2


def test_an_edited_position_regroups_the_report(client, device):
    a, b = fire(0), fire(5, 30)
    push(client, device, a, b)
    assert incident_of(a["id"]) == incident_of(b["id"])
    moved = dict(b, location=near(4_000), updated_at=at(30), revision=2)
    assert push(client, device, moved)[0]["status"] == "updated"
    assert incident_of(b["id"]) != incident_of(a["id"])
    assert db.session.get(Incident, incident_of(a["id"])).report_count == 1


def test_status_and_comment_reach_every_reporting_device(client, org):
    one, two = factories.make_device(org), factories.make_device(org)
    a, b = fire(0), fire(5, 30)
    push(client, one, a)
    push(client, two, b)
    iid = incident_of(a["id"])
    incidents.set_status(org.id, iid, "atgard_pagar", None)
    incidents.add_comment(org.id, iid, "Räddningstjänsten är informerad.", None)
    for dev, r in ((one, a), (two, b)):
        body = client.get(PULL, headers=dev.headers).get_json()
        item = next(i for i in body["reports"] if i["id"] == r["id"])
        assert item["status"] == "atgard_pagar"
        assert [c["body"] for c in item["comments"]] == ["Räddningstjänsten är informerad."]


def test_a_new_report_in_a_decided_incident_gets_its_status(client, device, org):
    a = fire(0)
    push(client, device, a)
    incidents.set_status(org.id, incident_of(a["id"]), "bedomd", None)
    b = fire(10, 20)
    push(client, device, b)
    assert incident_of(b["id"]) == incident_of(a["id"])
    body = client.get(PULL, headers=device.headers).get_json()
    assert {i["id"]: i["status"] for i in body["reports"]}[b["id"]] == "bedomd"


def test_a_closed_incident_takes_no_new_reports(client, device, org):
    a = fire(0)
    push(client, device, a)
    incidents.set_status(org.id, incident_of(a["id"]), "atgardad", None)
    b = fire(10, 20)
    push(client, device, b)
    assert incident_of(b["id"]) != incident_of(a["id"])


def test_merge_moves_reports_comments_and_timeline(client, device, org):
    a, b = fire(0), fire(10, 3_000)
    push(client, device, a, b)
    target, source = incident_of(a["id"]), incident_of(b["id"])
    incidents.add_comment(org.id, source, "Samma brand, sedd från motorvägen.", None)
    incidents.merge(org.id, target, source, None)
    assert incident_of(b["id"]) == target
    assert db.session.get(Incident, source) is None
    merged = db.session.get(Incident, target)
    assert merged.report_count == 2 and merged.frozen
    kinds = [e.kind for e in incidents.timeline(target)]
    assert "merged" in kinds and "comment" in kinds
    assert [c.body for c in incidents.comments(target)] == ["Samma brand, sedd från motorvägen."]


def test_split_and_move_are_never_undone_by_the_grouping(client, device, org):
    a, b, c = fire(0), fire(5, 20), fire(8, 40)
    push(client, device, a, b, c)
    iid = incident_of(a["id"])
    assert {incident_of(r["id"]) for r in (b, c)} == {iid}
    split = incidents.move(org.id, uuid.UUID(b["id"]), None, None)
    assert incident_of(b["id"]) == split.id != iid
    # More reports arrive and the grouping runs again: the split stands.
    d = fire(9, 10)
    push(client, device, d)
    lock_counter(org.id)
    assign_pending(org.id, [uuid.UUID(r["id"]) for r in (a, b, c, d)])
    db.session.commit()
    assert incident_of(b["id"]) == split.id
    # Move c into the split incident, then edit c from the phone: it stays there.
    incidents.move(org.id, uuid.UUID(c["id"]), split.id, None)
    push(client, device, dict(c, description="Ändrad", updated_at=at(60), revision=2))
    assert incident_of(c["id"]) == split.id


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (lambda org, i, j: incidents.set_status(org, i, "klar", None), "unknown_status"),
        (lambda org, i, j: incidents.set_responsible(org, i, "nato", None), "unknown_responsible"),
        (lambda org, i, j: incidents.add_comment(org, i, "   ", None), "empty_comment"),
        (lambda org, i, j: incidents.add_comment(org, i, "x" * 4001, None), "comment_too_long"),
        (lambda org, i, j: incidents.merge(org, i, i, None), "same_incident"),
        (lambda org, i, j: incidents.move(org, j, None, None), "already_alone"),
        (lambda org, i, j: incidents.move(org, j, i, None), "same_incident"),
    ],
)
def test_impossible_decisions_are_refused_with_a_reason(client, device, org, action, code):
    a = fire(0)
    push(client, device, a)
    iid = incident_of(a["id"])
    with pytest.raises(incidents.IncidentError) as err:
        action(org.id, iid, uuid.UUID(a["id"]))
    assert err.value.code == code
    db.session.rollback()
    assert db.session.get(Incident, iid).status == "ny"


def test_another_organisations_incident_is_not_found(client, device, org):
    a = fire(0)
    push(client, device, a)
    other = factories.make_org()
    with pytest.raises(LookupError):
        incidents.set_status(other.id, incident_of(a["id"]), "bedomd", None)


def test_deleting_the_last_report_removes_its_incident(client, device):
    a = fire(0)
    push(client, device, a)
    iid = incident_of(a["id"])
    feedback.delete_report(uuid.UUID(a["id"]), "erasure")
    assert db.session.get(Incident, iid) is None
    assert db.session.scalar(select(func.count(IncidentEvent.id))) == 0


def test_every_report_is_in_exactly_one_incident_after_a_busy_night(client, org):
    devs = [factories.make_device(org) for _ in range(3)]
    sent = []
    for i in range(60):
        r = factories.report(
            category=("brand", "skadegorelse", "samling")[i % 3],
            created_at=at(i * 7),
            location=near((i * 37) % 900),
        )
        sent.append(r)
    for i, dev in enumerate(devs):
        push(client, dev, *sent[i::3])
    rows = db.session.execute(select(Report.id, Report.incident_id)).all()
    assert len(rows) == 60 and all(iid is not None for _, iid in rows)
    counted = db.session.scalar(select(func.sum(Incident.report_count)))
    assert counted == 60


# --- the server's incremental grouping equals the pure grouping of everything -------------

_CATS = ("brand", "samling", "brott", "miljo", "otrygg_plats", "lugnt")
_report_strategy = st.builds(
    lambda minutes, metres, cat, placed: {
        "minutes": minutes,
        "metres": metres,
        "category": cat,
        "placed": placed,
    },
    st.integers(0, 60 * 30),
    st.integers(0, 600),
    st.sampled_from(_CATS),
    st.booleans(),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(_report_strategy, min_size=1, max_size=14),
    batches=st.lists(st.integers(1, 4), min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_incidents_equal_the_pure_grouping_whatever_the_arrival(client, specs, batches, order):
    org = factories.make_org()
    dev = factories.make_device(org)
    reports = [
        factories.report(
            category=s["category"],
            created_at=at(s["minutes"]),
            location=near(s["metres"]) if s["placed"] else None,
            place="Torget" if not s["placed"] else "",
        )
        for s in specs
    ]
    shuffled = list(reports)
    order.shuffle(shuffled)
    i = 0
    for size in itertools.cycle(batches):
        if i >= len(shuffled):
            break
        push(client, dev, *shuffled[i : i + size])
        i += size
    expected = group_reports(
        [
            ReportPoint(
                id=r["id"],
                created_at=datetime.fromisoformat(r["created_at"]),
                category=r["category"],
                lat=r["location"]["lat"] if r["location"] else None,
                lon=r["location"]["lon"] if r["location"] else None,
                place=r["place"],
            )
            for r in reports
        ],
        DEFAULT_RULES,
    )
    got = {r["id"]: key_of(r["id"]) for r in reports}
    assert got == expected
    # One incident per key, and the stored summaries agree with the members.
    incident_ids = {key: incident_of(r["id"]) for r in reports for key in [got[r["id"]]]}
    assert len(set(incident_ids.values())) == len(incident_ids)
    for key, iid in incident_ids.items():
        incident = db.session.get(Incident, iid)
        members = [r for r in reports if got[r["id"]] == key]
        assert incident.report_count == len(members)


def test_a_rules_file_changes_the_grouping_and_a_bad_one_stops_the_start(app, tmp_path):
    from server.app import create_app
    from server.config import ConfigError

    good = tmp_path / "rules.json"
    good.write_text('{"categories": {"brand": "never"}}', encoding="utf-8")
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "DATA_DIR", "SECRET_KEY")}
    strict = create_app(
        {**config, "TESTING": True, "LAGESBILD_ENV": "testing", "GROUPING_RULES_FILE": str(good)}
    )
    with strict.app_context():
        org = factories.make_org()
        dev = factories.make_device(org)
        client = strict.test_client()
        a, b = fire(0), fire(5, 20)
        push(client, dev, a, b)
        assert incident_of(a["id"]) != incident_of(b["id"])  # fires no longer group
        db.session.remove()

    bad = tmp_path / "bad.json"
    bad.write_text('{"default": {"radius_m": 10}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="LAGESBILD_GROUPING_RULES"):
        create_app(
            {**config, "TESTING": True, "LAGESBILD_ENV": "testing", "GROUPING_RULES_FILE": str(bad)}
        )

"""A new seed twin to the old one renames the incident: the same result as regrouping it.

`server.incidents.twins` lets a pass's shortcut take over an incident when a late report
sorts before the seed and matches it in everything the grouping reads. These tests run
nights with many twins twice, with and without the takeover, and compare every report's
incident; and they compare the renamed incident's summary with one computed afresh.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.extensions import db
from server.incidents import grouping, queue, summary, twins
from server.incidents.local import load_affected
from server.incidents.models import Incident
from server.reports.models import Report
from tests.api.test_grouping_local import _incident, night, nights
from tests.api.test_incidents import at, near, push
from tests.support import factories

# Few distinct values, so that many reports are twins of one another.
_twin_spec = st.fixed_dictionaries(
    {
        "minutes": st.sampled_from([0, 0, 0, 4]),
        "metres": st.sampled_from([0, 0, 0, 40]),
        "category": st.sampled_from(["brand"] * 5 + ["samling", "lugnt"]),
        "placed": st.sampled_from([True, True, False]),
        # The place text of a report with a position: twins by position may differ in it,
        # and a report without one ("Torget") may be named like one of them.
        "place": st.sampled_from(["", "", "Kiosken", "Torget"]),
    }
)

_SUMMARY = (
    "category_code",
    "first_at",
    "last_at",
    "report_count",
    "max_severity",
    "urgent",
    "lat",
    "lon",
    "area_id",
    "place_id",
    "place",
    "summary",
    "device_kinds",
)


def regroups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the passes that take the long way (regroup through `load_affected`)."""
    calls: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> tuple[list[Report], frozenset[uuid.UUID]]:
        calls.append(1)
        return load_affected(*args, **kwargs)

    monkeypatch.setattr(grouping, "load_affected", spy)
    return calls


def takeovers(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID | None]:
    """Record what each twin check answered: the old seed's id, or None."""
    taken: list[uuid.UUID | None] = []

    def spy(*args: Any, **kwargs: Any) -> Report | None:
        old = twins.take_over(*args, **kwargs)
        taken.append(None if old is None else old.id)
        return old

    monkeypatch.setattr(grouping, "take_over", spy)
    return taken


def assert_reads_as_if_summarised_afresh(org_id: int, incident: Incident) -> None:
    """Recompute the incident's summary and check that nothing in it changes."""
    kept = {name: getattr(incident, name) for name in _SUMMARY}
    summary.refresh_incidents(org_id, {incident.id})
    db.session.flush()
    assert {name: getattr(incident, name) for name in _SUMMARY} == kept


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=nights(spec=_twin_spec))
def test_a_night_with_twins_groups_as_without_the_takeover(client, app, monkeypatch, drawn):
    specs, steps = drawn
    app.config["GROUPING"] = "queue"
    tag = uuid.uuid4().int % 2**40
    taken: list[uuid.UUID] = []
    by_position = 0

    def spy(org_id: int, new: Report, *args: Any, **kwargs: Any) -> Report | None:
        nonlocal by_position
        old = twins.take_over(org_id, new, *args, **kwargs)
        if old is not None:
            taken.append(old.id)
            by_position += (old.place or "") != (new.place or "")
        return old

    with monkeypatch.context() as patch:
        patch.setattr(grouping, "take_over", spy)
        renamed = night(client, tag, specs, steps)
    event(f"takeovers: {min(len(taken), 3)}")
    event(f"takeovers with another place text: {min(by_position, 1)}")
    with monkeypatch.context() as patch:
        patch.setattr(grouping, "take_over", lambda *args, **kwargs: None)
        regrouped = night(client, tag + 1, specs, steps)
    assert renamed == regrouped


def late_twin_night(
    client, org, with_it: tuple[dict[str, Any], ...] = (), **twin: Any
) -> tuple[uuid.UUID, dict[str, Any]]:
    """Group a fire and its later reports, then send the seed's twin (and `with_it`)."""
    dev = factories.make_device(org)
    seed = factories.report(
        id="8" + str(uuid.uuid4())[1:],
        category="brand",
        created_at=at(0),
        location=near(0),
        place="Stationen",
        description="Bilen brinner",
        severity=2,
    )
    later = [
        factories.report(
            id="9" + str(uuid.uuid4())[1:],
            category="brand",
            created_at=at(minute),
            location=near(20.0 * minute),
            place="Stationsgatan",
            description=f"Rök, {minute} minuter",
            severity=1,
        )
        for minute in (0, 3, 8)
    ]
    push(client, dev, seed, *later)
    queue.drain()
    iid = db.session.get(Report, uuid.UUID(seed["id"])).incident_id
    fields = {"category": "brand", "created_at": at(0), "location": near(0), "place": "stationen"}
    new = factories.report(id="0" + str(uuid.uuid4())[1:], **{**fields, **twin})
    push(client, factories.make_device(org), new, *with_it)
    return iid, new


@pytest.mark.parametrize(
    "twin",
    [{"description": "Två bilar brinner", "severity": 3}, {"description": "", "severity": None}],
    ids=["with-text", "without-text"],
)
def test_the_renamed_incident_reads_as_if_summarised_afresh(client, app, org, twin):
    app.config["GROUPING"] = "queue"
    iid, new = late_twin_night(client, org, **twin)
    db.session.expunge_all()
    assert queue.drain().reseeded == 1
    incident = db.session.get(Incident, iid)
    assert incident.seed_id == uuid.UUID(new["id"])
    assert_reads_as_if_summarised_afresh(org.id, incident)


def test_a_newcomer_between_the_two_seeds_names_the_incident_after_the_new_one(client, app, org):
    # Title order is the new seed, then this second's reports by id, then the old seed:
    # the newcomer "5…" lies between "0…" and "8…" and has the first words.
    app.config["GROUPING"] = "queue"
    between = factories.report(
        id="5" + str(uuid.uuid4())[1:],
        category="brand",
        created_at=at(0),
        location=near(0),
        place="Perrongen",
        description="Bilen brinner fortfarande",
    )
    iid, new = late_twin_night(client, org, (between,), description="", place="stationen")
    db.session.expunge_all()
    assert queue.drain().reseeded == 1
    incident = db.session.get(Incident, iid)
    assert incident.seed_id == uuid.UUID(new["id"])
    assert (incident.summary, incident.place) == ("Bilen brinner fortfarande", "stationen")
    assert_reads_as_if_summarised_afresh(org.id, incident)


def on_the_square(prefix: str, minutes: float, place: str, text: str) -> dict[str, Any]:
    """Return a fire report without a position, named by its place, with an id prefix."""
    return factories.report(
        id=prefix + str(uuid.uuid4())[1:],
        category="brand",
        created_at=at(minutes),
        location=None,
        place=place,
        description=text,
    )


def test_a_twin_without_a_position_is_renamed_too(client, app, org, monkeypatch):
    app.config["GROUPING"] = "queue"
    dev = factories.make_device(org)
    seed = on_the_square("8", 0, "Torget", "Rök över torget")
    member = on_the_square("9", 4, "torget", "")
    org_id = org.id  # the session is emptied below
    push(client, dev, seed, member)
    queue.drain()
    iid = db.session.get(Report, uuid.UUID(seed["id"])).incident_id
    new = on_the_square("0", 0, " TORGET", "Brand på torget")
    push(client, dev, new)
    taken = takeovers(monkeypatch)
    db.session.expunge_all()
    assert queue.drain().reseeded == 1
    assert taken == [uuid.UUID(seed["id"])]
    incident = db.session.get(Incident, iid)
    assert (incident.seed_id, incident.report_count) == (uuid.UUID(new["id"]), 3)
    assert_reads_as_if_summarised_afresh(org_id, incident)
    assert incident.summary == "Brand på torget"


def test_a_pinned_member_sends_the_pass_the_long_way(client, app, org, monkeypatch):
    # A coordinator placed a report in the incident: its key is a decision, not renamed.
    app.config["GROUPING"] = "queue"
    iid, _ = late_twin_night(client, org)
    member = db.session.scalars(
        select(Report).where(Report.incident_id == iid).order_by(Report.created_at.desc())
    ).first()
    member.incident_pinned = True
    db.session.commit()
    calls = regroups(monkeypatch)
    assert queue.drain().grouped == 1
    assert calls == [1], "the pass took the long way"
    db.session.expunge_all()
    assert db.session.get(Report, member.id).incident_id == iid


def test_a_twin_at_the_seeds_position_with_another_place_text_is_renamed(
    client, app, org, monkeypatch
):
    # Both have a position, and no report without one is near in time: the place texts
    # are never compared, so the new seed is a twin whatever it calls the place.
    app.config["GROUPING"] = "queue"
    iid, new = late_twin_night(client, org, place="Perrongen", description="Två bilar")
    calls = regroups(monkeypatch)
    db.session.expunge_all()
    assert queue.drain().reseeded == 1
    assert calls == [], "the pass regrouped the incident"
    incident = db.session.get(Incident, iid)
    assert incident.seed_id == uuid.UUID(new["id"])
    assert (incident.place, incident.summary, incident.report_count) == (
        "Perrongen",
        "Två bilar",
        5,
    )
    assert_reads_as_if_summarised_afresh(org.id, incident)


# Within a fire's three hours before the scene (the edge included), or just after it (a
# grouped report more than ten minutes later sends every pass the long way anyway:
# `grouping.FAST_SLACK`).
@pytest.mark.parametrize("minutes", [-180, -170, 5])
def test_a_report_without_a_position_near_in_time_sends_another_place_text_the_long_way(
    client, app, org, monkeypatch, minutes
):
    # A fire reported by its place name alone, near the scene in time: the place texts
    # could now decide, so no rename.
    app.config["GROUPING"] = "queue"
    push(client, factories.make_device(org), on_the_square("4", minutes, "Kiosken", "Rök"))
    queue.drain()
    iid, new = late_twin_night(client, org, place="Perrongen")
    calls = regroups(monkeypatch)
    db.session.expunge_all()
    assert queue.drain().grouped == 1
    assert calls == [1], "the pass renamed the incident"
    assert _incident(new) == iid


def test_a_waiting_report_without_a_position_sends_it_the_long_way(client, app, org):
    # Pushed with the new seed and named like the old one: it joins the fire under either
    # name only by its place text, so it must be regrouped with the rest.
    app.config["GROUPING"] = "queue"
    waiting = on_the_square("5", 2, "Stationen", "Rök vid stationen")
    iid, new = late_twin_night(client, org, (waiting,), place="Perrongen")
    db.session.expunge_all()
    assert queue.drain().grouped == 2
    assert _incident(new) == iid
    # The full regroup: the new seed anchors as "Perrongen", and the waiting report, named
    # "Stationen" without a position, reaches no anchor of that name.
    assert _incident(waiting) not in (None, iid)


def test_a_related_category_without_a_position_counts(client, app, org, monkeypatch):
    # A crime (brott) at "Stationen", and five minutes later a gathering (samling, related
    # to it) known only by that name, which joins it. A new seed at the same spot named
    # "Perrongen" would not draw the gathering in: the full regroup leaves it on its own.
    app.config["GROUPING"] = "queue"
    dev = factories.make_device(org)
    seed = factories.report(
        id="8" + str(uuid.uuid4())[1:],
        category="brott",
        created_at=at(0),
        location=near(0),
        place="Stationen",
    )
    gathering = factories.report(
        id="9" + str(uuid.uuid4())[1:],
        category="samling",
        created_at=at(5),
        location=None,
        place="Stationen",
        description="Ett gäng",
    )
    push(client, dev, seed, gathering)
    queue.drain()
    assert _incident(seed) == _incident(gathering)
    new = factories.report(
        id="0" + str(uuid.uuid4())[1:],
        category="brott",
        created_at=at(0),
        location=near(0),
        place="Perrongen",
    )
    push(client, dev, new)
    taken = takeovers(monkeypatch)
    db.session.expunge_all()
    queue.drain()
    assert taken == [None]
    assert _incident(new) == _incident(seed) != _incident(gathering)

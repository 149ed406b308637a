"""Background grouping (LAGESBILD_GROUPING=background): a push queues, a pass groups.

The `app` fixture groups inline (the testing default); these tests switch the app to the
background path and drain the queue themselves, as the worker job does after a wake-up.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from analysis.grouping import ReportPoint, group_reports
from analysis.grouping_rules import DEFAULT_RULES
from server.extensions import db
from server.incidents import grouping, queue
from server.incidents import worker as grouping_worker
from server.incidents.models import Incident
from server.reports.models import Report
from tests.api.test_incidents import _report_strategy, at, fire, incident_of, key_of, near, push
from tests.support import factories


@pytest.fixture
def wakes(app, monkeypatch) -> list[int]:
    """Put the app in background mode and record the pushes' wake-ups of the job."""
    app.config["GROUPING"] = "background"
    calls: list[int] = []
    monkeypatch.setattr(grouping_worker, "wake", lambda: calls.append(1))
    return calls


def ungrouped(*reports: dict[str, Any]) -> list[str]:
    """Return the ids among these reports that wait in the queue."""
    ids = [uuid.UUID(r["id"]) for r in reports]
    rows = db.session.scalars(
        select(Report.id).where(Report.id.in_(ids), Report.incident_id.is_(None))
    )
    return sorted(str(i) for i in rows)


def test_a_background_push_answers_before_grouping_and_the_pass_groups(client, device, wakes):
    a, b = fire(0), fire(5, 30)
    results = push(client, device, a, b)
    assert [r["status"] for r in results] == ["created", "created"]
    assert ungrouped(a, b) == sorted([a["id"], b["id"]])
    assert wakes == [1]  # one wake-up per push that stored something
    assert db.session.scalar(select(Incident.id)) is None
    done = queue.drain()
    assert (done.grouped, done.created) == (2, 1)
    assert ungrouped(a, b) == []
    assert incident_of(a["id"]) == incident_of(b["id"]) == uuid.UUID(a["id"])
    assert db.session.get(Incident, uuid.UUID(a["id"])).report_count == 2
    assert queue.drain().grouped == 0  # an empty queue: nothing to do


def test_a_push_that_stores_nothing_wakes_no_one(client, device, wakes):
    a = fire(0)
    push(client, device, a)
    queue.drain()
    assert push(client, device, a)[0]["status"] == "duplicate"
    bad = push(client, device, factories.report(category="finns_inte"))
    assert bad[0]["status"] == "rejected"
    assert wakes == [1]


def test_queue_mode_stores_without_waking_and_a_later_pass_groups(client, device, app, wakes):
    app.config["GROUPING"] = "queue"
    a = fire(0)
    push(client, device, a)
    assert wakes == []
    assert ungrouped(a) == [a["id"]]
    queue.drain()
    assert incident_of(a["id"]) == uuid.UUID(a["id"])


def test_an_edit_is_regrouped_at_once_in_background_mode(client, device, wakes):
    a, b = fire(0), fire(5, 30)
    push(client, device, a, b)
    queue.drain()
    assert incident_of(a["id"]) == incident_of(b["id"])
    moved = dict(b, location=near(4_000), updated_at=at(30), revision=2)
    c = fire(7, 10)
    assert [r["status"] for r in push(client, device, moved, c)] == ["updated", "created"]
    # No pass ran: the edit left its old incident and the new report was grouped with it.
    assert incident_of(b["id"]) == uuid.UUID(b["id"]) != incident_of(a["id"])
    assert incident_of(c["id"]) == incident_of(a["id"])
    assert db.session.get(Incident, incident_of(a["id"])).report_count == 2
    assert wakes == [1]  # only the first push queued


def test_one_pass_drains_every_organisation(client, wakes):
    devices = [factories.make_device(factories.make_org()) for _ in range(3)]
    reports = [fire(i) for i in range(3)]
    for dev, r in zip(devices, reports, strict=True):
        push(client, dev, r)
    assert len(queue.pending_orgs()) == 3
    assert queue.drain().created == 3
    assert queue.pending_orgs() == []
    assert [incident_of(r["id"]) for r in reports] == [uuid.UUID(r["id"]) for r in reports]


def test_an_organisation_whose_pass_fails_holds_up_no_other(client, wakes, monkeypatch):
    devices = [factories.make_device(factories.make_org()) for _ in range(3)]
    reports = [fire(i) for i in range(3)]
    for dev, r in zip(devices, reports, strict=True):
        push(client, dev, r)
    broken = min(queue.pending_orgs())
    real = queue.apply_plan if db.engine.dialect.name == "sqlite" else queue.assign_pending
    name = real.__name__  # the step that writes: SQLite's planned pass, PostgreSQL's pass

    def failing(org_id, *args, **kwargs):
        if org_id == broken:
            raise RuntimeError("a report that makes grouping fail")
        return real(org_id, *args, **kwargs)

    monkeypatch.setattr(queue, name, failing)
    assert queue.drain().created == 2  # the others are grouped
    assert queue.pending_orgs() == [broken]  # its queue waits, nothing lost
    monkeypatch.setattr(queue, name, real)
    assert queue.drain().created == 1
    assert queue.pending_orgs() == []


def test_a_stopping_process_leaves_the_rest_of_the_queue_to_the_next_pass(client, wakes):
    import threading

    devices = [factories.make_device(factories.make_org()) for _ in range(2)]
    for dev in devices:
        push(client, dev, fire(0))
    stopping = threading.Event()
    stopping.set()
    assert queue.drain(stopping).grouped == 0
    assert len(queue.pending_orgs()) == 2
    assert queue.drain().grouped == 2


def test_the_queue_is_read_through_the_ungrouped_index(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the plan check reads SQLite's EXPLAIN QUERY PLAN")
    # Either index holding only or first the ungrouped rows serves; a table scan does not.
    for sql in (
        "SELECT DISTINCT org_id FROM reports WHERE incident_id IS NULL",
        "SELECT id FROM reports WHERE org_id = 1 AND incident_id IS NULL",
    ):
        plan = " ".join(
            str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql))
        )
        assert "SEARCH reports USING" in plan and "SCAN reports" not in plan, plan


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(_report_strategy, min_size=1, max_size=14),
    batches=st.lists(st.integers(1, 4), min_size=1, max_size=6),
    passes=st.lists(st.booleans(), min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_background_passes_equal_the_pure_grouping_whatever_the_arrival(
    client, app, specs, batches, passes, order
):
    app.config["GROUPING"] = "background"
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
    # Passes run after some pushes and not others, so a pass meets one batch or several.
    for size, drain_now in zip(itertools.cycle(batches), itertools.cycle(passes)):
        if i >= len(shuffled):
            break
        push(client, dev, *shuffled[i : i + size])
        i += size
        if drain_now:
            queue.drain()
    queue.drain()
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


def test_a_pass_loads_no_anchor_out_of_its_reports_reach(client, device, monkeypatch):
    # 40 fires 2 km apart in a row: 40 open single-report incidents.
    spread = [
        factories.report(place="", location={"lat": 55.0 + i * 0.02, "lon": 13.0, "accuracy_m": 10})
        for i in range(40)
    ]
    push(client, device, *spread)
    queue.drain()
    loaded: list[int] = []
    real = grouping._anchors

    def counting(*args, **kwargs):
        out = real(*args, **kwargs)
        loaded.append(len(out))
        return out

    monkeypatch.setattr(grouping, "_anchors", counting)
    far = factories.report(place="", location={"lat": 60.0, "lon": 18.0, "accuracy_m": 10})
    push(client, device, far)
    queue.drain()
    # None of the 40 seeds is within reach of the new report: none is loaded as a row.
    assert loaded and set(loaded) == {0}, loaded

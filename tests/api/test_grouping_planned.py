"""On SQLite a grouping pass plans outside the write lock and writes only if nothing moved.

`server.incidents.queue._planned_pass` reads and plans in a read transaction, so pushes of
new reports go through meanwhile; every writer that can move reports or decide on an
incident holds the grouping lock, which on SQLite bumps the grouping epoch, and a pass
whose epoch changed is planned again under the write lock. These tests make the other
writers act between a pass's plan and its write and compare with them acting first.
"""

from __future__ import annotations

import itertools
import types
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from sqlalchemy import func, select

from server.db import phase
from server.domain_errors import DomainError
from server.extensions import db
from server.incidents import queue, service
from server.incidents.models import Incident
from server.orgs.counter import grouping_epoch, lock_grouping
from server.reports.models import Report
from tests.api.test_grouping_local import index_of, nights, report_id
from tests.api.test_grouping_lock import WAIT, _Paused, in_thread, waiting
from tests.api.test_incidents import at, fire, near, push
from tests.support import factories


@pytest.fixture
def sqlite_only(app) -> None:
    """Skip on PostgreSQL, whose pass holds the grouping lock and plans under it."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the planned pass is SQLite's; PostgreSQL's pass holds its own lock")
    app.config["GROUPING"] = "queue"


@pytest.fixture
def paused(app, monkeypatch, sqlite_only) -> Iterator[_Paused]:
    """A pass stopped in its read phase; always let go, so a failing test cannot hang."""
    pass_ = _Paused(app, monkeypatch)
    yield pass_
    pass_.resume.set()
    pass_.thread.join(WAIT)


def test_lock_grouping_bumps_the_epoch_on_sqlite_and_takes_a_lock_on_postgres(app, org):
    before = grouping_epoch(org.id)
    lock_grouping(org.id)
    lock_grouping(org.id)
    db.session.commit()
    expected = before + 2 if db.engine.dialect.name == "sqlite" else before
    assert grouping_epoch(org.id) == expected
    lock_grouping(org.id)
    db.session.rollback()  # a writer that gave up leaves the epoch as it was
    assert grouping_epoch(org.id) == expected


def test_lock_grouping_in_a_read_transaction_is_a_clear_error_on_sqlite(app, org):
    with phase("read"):
        if db.engine.dialect.name == "sqlite":
            with pytest.raises(RuntimeError, match="needs a write transaction"):
                lock_grouping(org.id)
        else:
            lock_grouping(org.id)  # PostgreSQL's advisory lock: any transaction will do
    with phase("write"):
        lock_grouping(org.id)  # where writers take it


def test_a_push_of_new_reports_goes_through_while_a_pass_plans(app, client, device, paused):
    early = fire(0)
    push(client, device, early)
    paused.start()  # planning `early`, in a read transaction
    meanwhile = fire(1)
    done, out = in_thread(app, lambda: push(client, device, meanwhile))
    assert done.wait(WAIT), "the push waited for a pass that was only reading"
    assert [r["status"] for r in out[0]] == ["created"]
    paused.finish()
    db.session.rollback()  # a fresh snapshot after the other threads' commits
    # The plan still held (a push only adds to the queue) and was written; the report
    # pushed meanwhile waits for the next pass.
    assert waiting(early, meanwhile) == [meanwhile["id"]]
    queue.drain()
    assert waiting(early, meanwhile) == []
    rows = {str(r.id): r.incident_id for r in db.session.scalars(select(Report))}
    assert rows[meanwhile["id"]] == rows[early["id"]]


def test_an_edit_while_a_pass_plans_sends_the_pass_round_again(
    app, client, org, device, paused, monkeypatch
):
    first, second = fire(0), fire(2)
    push(client, device, first)
    queue.drain()
    push(client, device, second)
    replanned: list[int] = []
    original = queue.assign_pending

    def spy(org_id: int, *args: Any) -> Any:
        replanned.append(org_id)
        return original(org_id, *args)

    monkeypatch.setattr(queue, "assign_pending", spy)
    paused.start()  # planning `second` into `first`'s incident
    # The edit moves `first` far away and regroups the queue (`second` too) at once.
    moved = dict(first, created_at=at(300), location=near(5_000), revision=2)
    moved["updated_at"] = at(301)
    done, out = in_thread(app, lambda: push(client, device, moved))
    assert done.wait(WAIT), "an edit waited for a pass that was only reading"
    assert [r["status"] for r in out[0]] == ["updated"]
    paused.finish()
    db.session.rollback()
    assert replanned == [org.id], "a stale plan was written"
    _assert_consistent(org.id)
    keys = {r["id"]: str(db.session.get(Incident, _incident(r)).seed_id) for r in (first, second)}
    assert keys == {first["id"]: first["id"], second["id"]: second["id"]}


def test_an_incident_closed_while_a_pass_plans_takes_no_newcomer(app, client, org, device, paused):
    first, second = fire(0), fire(2)
    push(client, device, first)
    queue.drain()
    push(client, device, second)
    org_id, incident_id = org.id, _incident(first)  # read here, in the test's own session
    db.session.rollback()  # whose transaction (immediate outside a request) ends here
    paused.start()  # planning `second` into `first`'s open incident
    closing = in_thread(app, lambda: service.set_status(org_id, incident_id, "avslutad", None))[0]
    assert closing.wait(WAIT), "closing an incident waited for a pass that was only reading"
    paused.finish()
    db.session.rollback()
    _assert_consistent(org.id)
    # Planned before the close, `second` would have joined; the pass planned again.
    assert _incident(second) != _incident(first)
    assert db.session.get(Incident, _incident(first)).report_count == 1


def _incident(report: dict[str, Any]) -> uuid.UUID | None:
    """Return the incident a pushed report is in (None while it waits)."""
    return db.session.scalar(select(Report.incident_id).where(Report.id == uuid.UUID(report["id"])))


def _assert_consistent(org_id: int) -> None:
    """Every report in one existing incident, every incident's count its members'."""
    assert db.session.scalar(select(func.count()).where(Report.incident_id.is_(None))) == 0
    counts = dict(
        db.session.execute(
            select(Report.incident_id, func.count())
            .where(Report.org_id == org_id)
            .group_by(Report.incident_id)
        ).all()
    )
    stored = dict(
        db.session.execute(
            select(Incident.id, Incident.report_count).where(Incident.org_id == org_id)
        ).all()
    )
    assert counts == stored


def _decide(org_id: int, decision: tuple | None, reports: list[dict[str, Any]]) -> str:
    """Take one coordinator decision on grouped reports; say what it did."""
    # A round without a drawn decision closes an incident: the decision most likely to
    # change where the round's new reports go (a closed incident takes no newcomers).
    decision = decision or ("close", 0, 0)
    # Drawn among the reports grouped so far, so that most rounds decide something; both
    # runs see the same grouped reports here, so they pick the same two.
    grouped = [r for r in reports if _incident(r) is not None]
    if not grouped:
        return "nothing grouped yet"
    kind = decision[0]
    one, other = grouped[decision[1] % len(grouped)], grouped[decision[2] % len(grouped)]
    try:
        if kind == "close":
            service.set_status(org_id, _incident(one), "avslutad", None)
        elif kind == "split":
            service.move(org_id, uuid.UUID(one["id"]), None, None)
        elif kind == "move":
            service.move(org_id, uuid.UUID(one["id"]), _incident(other), None)
        else:
            service.merge(org_id, _incident(one), _incident(other), None)
    except DomainError as exc:
        db.session.rollback()
        return f"refused {exc}"
    return kind


def _night(
    app, client, tag: int, specs: list[dict[str, Any]], rounds: list[tuple], during: bool
) -> list[Any]:
    """Push each round, then decide and group: the decision first, or while the pass plans."""
    org = factories.make_org()
    dev = factories.make_device(org)
    reports = [
        factories.report(
            id=report_id(i, tag),
            category=s["category"],
            created_at=at(s["minutes"]),
            location=near(s["metres"]) if s["placed"] else None,
            place="Torget" if not s["placed"] else "",
        )
        for i, s in enumerate(specs)
    ]
    outcomes: list[str] = []
    plan = queue.plan_pending
    for batch, decision in rounds:
        push(client, dev, *(reports[i] for i in batch))
        if not during:
            outcomes.append(_decide(org.id, decision, reports))
            queue.drain()
            continue

        def planned(org_id: int, *args: Any, decision: tuple | None = decision) -> Any:
            result = plan(org_id, *args)
            _in_other_session(app, lambda: outcomes.append(_decide(org.id, decision, reports)))
            return result

        taken = len(outcomes)
        with mock.patch.object(queue, "plan_pending", planned):
            queue.drain()
        assert len(outcomes) == taken + 1, "every round's pass plans once (new reports)"
    db.session.rollback()
    _assert_consistent(org.id)
    result: list[Any] = [outcomes]
    for r in reports:
        incident = db.session.get(Incident, _incident(r))
        members = db.session.scalars(select(Report.id).where(Report.incident_id == incident.id))
        result.append(
            (index_of(incident.seed_id), sorted(index_of(m) for m in members), incident.status)
        )
    return result


def _in_other_session(app, work: Callable[[], Any]) -> None:
    """Run `work` in another thread's app context (its own connection) and wait for it."""

    def run() -> Any:
        with app.app_context():
            return work()

    with ThreadPoolExecutor(1) as pool:
        # result() raises what `work` raised; a timeout means it waited for the pass.
        pool.submit(run).result(timeout=WAIT)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=nights())
def test_a_decision_while_a_pass_plans_gives_what_deciding_first_gives(
    client, app, sqlite_only, drawn
):
    specs, steps = drawn
    tag = uuid.uuid4().int % 2**40
    results = []
    for offset, during in ((0, True), (1, False)):
        fresh = itertools.count()

        def uuid4(offset: int = offset, fresh: Iterator[int] = fresh) -> uuid.UUID:
            return uuid.UUID(f"ffffffff-{next(fresh):04x}-4000-8000-{tag + offset:012x}")

        stub = types.SimpleNamespace(UUID=uuid.UUID, uuid4=uuid4)
        with mock.patch.object(service, "uuid", stub):
            results.append(_night(app, client, tag + offset, specs, steps, during))
    during, first = results
    event(f"decisions taken while a pass planned: {sum(o in _KINDS for o in during[0])}")
    assert during == first


_KINDS = ("close", "split", "move", "merge")

"""The grouping queue: reports not in an incident yet (`incident_id IS NULL`), drained in passes.

A push stores its reports with no incident and answers; `drain` then groups each
organisation's queue under the organisation's grouping lock, the lock every writer that
moves reports between incidents takes, so one pass at a time groups an organisation
across workers and hosts. A push of new reports does not wait for it: on PostgreSQL the
pass is one write transaction under that lock; on SQLite, with its one write lock, the
pass plans in a read transaction and writes in a short write transaction after checking
that no holder of the grouping lock came in between (`_planned_pass`). Either way the
pass groups the reports it read at its start, and those pushed meanwhile wait for the
next pass. The queue is the reports
table itself (served by the partial index ix_reports_ungrouped), so a crash between store
and grouping loses nothing: the next pass anywhere finds the same rows.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from server.db import is_sqlite, phase
from server.extensions import db
from server.incidents.apply import GroupingResult, apply_plan
from server.incidents.grouping import assign_pending, plan_pending
from server.orgs.counter import grouping_epoch, lock_grouping
from server.reports.models import Report
from server.sqlite_gate import GROUPING_SUFFIX, gate_path, held

log = logging.getLogger("lagesbild.grouping")


def pending_orgs() -> list[int]:
    """Return the organisations with reports waiting for the grouping."""
    with phase("read"):
        return sorted(
            db.session.scalars(select(Report.org_id).where(Report.incident_id.is_(None)).distinct())
        )


def drain(stopping: threading.Event | None = None) -> GroupingResult:
    """Group every organisation's queue, one organisation per transaction."""
    total = GroupingResult()
    for org_id in pending_orgs():
        if stopping is not None and stopping.is_set():
            break  # the process is stopping; the next pass anywhere goes on from here
        try:
            result = _pass(org_id)
        # One organisation whose pass fails (bad data, a lock timeout) must not hold up the
        # others behind it: its transaction rolled back, its queue stays for the next pass.
        except Exception:
            log.exception(
                "grouping organisation %s failed; its queue waits for the next pass", org_id
            )
            continue
        total.add(result)
    return total


def _pass(org_id: int) -> GroupingResult:
    """Group one organisation's queue in its own transaction(s)."""
    if not is_sqlite():
        # PostgreSQL: the grouping lock holds up only the writers that move reports; a
        # push of new reports goes through meanwhile.
        with phase("write"):
            lock_grouping(org_id)
            return assign_pending(org_id)
    # SQLite has one write lock for everything: plan outside it, write under it. The
    # passes of all processes take turns, so two never plan on the same queue.
    # (Only work is saved: two passes planning at once are still exact, one plans again.)
    database = db.engine.dialect.create_connect_args(db.engine.url)[0][0]  # as sqlite3 gets it
    with held(gate_path(database, GROUPING_SUFFIX)):
        return _planned_pass(org_id)


def _planned_pass(org_id: int) -> GroupingResult:
    """Plan the pass in a read transaction, then write it if nothing it read has moved.

    The pushes meanwhile only add reports to the queue (the next pass takes them); every
    writer that can move a report or decide on an incident holds the grouping lock, which
    on SQLite bumps the grouping epoch. Same epoch: the plan still holds and is written.
    Another epoch: the pass is planned again under the write lock, as PostgreSQL does.
    """
    # Rows this session loaded earlier (a CLI run, a test) may be older than the snapshot;
    # the epoch can vouch only for what is read in it.
    db.session.expire_all()
    with phase("read"):
        epoch = grouping_epoch(org_id)  # the first read: the snapshot's own epoch
        plan = plan_pending(org_id)
    if plan is None:
        return GroupingResult()
    # The session keeps what it loaded across commits (expire_on_commit off), so the
    # planned rows are still there to write from.
    with phase("write"):
        unchanged = grouping_epoch(org_id) == epoch
        lock_grouping(org_id)
        if unchanged:
            return apply_plan(org_id, plan)
        log.info("grouping organisation %s: planned again under the lock", org_id)
        db.session.expire_all()  # what the plan loaded may be out of date now
        return assign_pending(org_id)

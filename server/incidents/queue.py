"""The grouping queue: reports not in an incident yet (`incident_id IS NULL`), drained in passes.

A push stores its reports with no incident and answers; `drain` then groups each
organisation's queue in one write transaction under the organisation's grouping lock, the
lock every writer that moves reports between incidents takes, so one pass at a time
groups an organisation across workers and hosts. A push of new reports does not wait
for it (on PostgreSQL; SQLite has one writer): the pass groups the reports it read at
its start, and those pushed meanwhile wait for the next pass. The queue is the reports
table itself (served by the partial index ix_reports_ungrouped), so a crash between store
and grouping loses nothing: the next pass anywhere finds the same rows.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from server.db import phase
from server.extensions import db
from server.incidents.grouping import GroupingResult, assign_pending
from server.orgs.counter import lock_grouping
from server.reports.models import Report

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
            with phase("write"):
                lock_grouping(org_id)
                result = assign_pending(org_id)
        # One organisation whose pass fails (bad data, a lock timeout) must not hold up the
        # others behind it: its transaction rolled back, its queue stays for the next pass.
        except Exception:
            log.exception(
                "grouping organisation %s failed; its queue waits for the next pass", org_id
            )
            continue
        total.add(result)
    return total

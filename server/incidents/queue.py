"""The grouping queue: reports not in an incident yet (`incident_id IS NULL`), drained in passes.

A push stores its reports with no incident and answers; `drain` then groups each
organisation's queue, in write transactions of at most `PASS_LIMIT` reports, under the
organisation's grouping lock, the
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

# Queued reports per transaction. On SQLite a pass holds the one write lock: a backlog of
# thousands (after a long pass, or a fleet syncing at once) grouped in one transaction
# kept every push waiting for it. In parts, pushes get in between, and a pass's memory
# stays bounded. The parts follow at once, so the backlog is not grouped later.
PASS_LIMIT = 500


def pending_orgs() -> list[int]:
    """Return the organisations with reports waiting for the grouping."""
    with phase("read"):
        return sorted(
            db.session.scalars(select(Report.org_id).where(Report.incident_id.is_(None)).distinct())
        )


def drain(stopping: threading.Event | None = None) -> GroupingResult:
    """Group every organisation's queue, one part per organisation and transaction in turn."""
    total = GroupingResult()
    busy = pending_orgs()
    while busy:
        left: list[int] = []
        # In turn, so one organisation's backlog does not keep the others waiting.
        for org_id in busy:
            if stopping is not None and stopping.is_set():
                return total  # the process is stopping; the next pass anywhere goes on
            result = _part(org_id)
            if result is None:
                continue
            total.add(result)
            if result.queued >= PASS_LIMIT:
                left.append(org_id)
        busy = left
    return total


def _part(org_id: int) -> GroupingResult | None:
    """Group up to PASS_LIMIT of an organisation's queued reports; None when that failed."""
    try:
        with phase("write"):
            lock_grouping(org_id)
            return assign_pending(org_id, limit=PASS_LIMIT)
    # One organisation whose pass fails (bad data, a lock timeout) must not hold up the
    # others behind it: its transaction rolled back, its queue stays for the next pass.
    except Exception:
        log.exception("grouping organisation %s failed; its queue waits for the next pass", org_id)
        return None

"""Purging each organisation once a day: one row per (organisation, day) and a lease.

The same scheme as the digest (server.digest.scheduler.runs):

1. **One row per purge.** The day's purge is a `PurgeRun` row, unique on (org_id, day).
   Every worker on every host may try to insert it; the unique constraint lets one insert
   win and the others use the winner's row.
2. **One purger per row.** A worker purges only after a compare-and-set UPDATE that moves
   the row to "running" with lease_owner = host:pid and lease_until = now + LEASE, from
   pending, from failed once its retry time (kept in lease_until) has passed, or from
   running with an expired lease (its holder died). Concurrent UPDATEs of one row are
   serialised by the database, so exactly one of them changes it.
3. **Fenced batches.** Every batch renews the lease and stores the counts so far with
   `WHERE lease_owner = me` in the batch's own transaction; a worker that lost its lease
   rolls its batch back and stops. A holder that dies leaves the counts of its committed
   batches; whoever takes the row over adds to them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from server.db import phase
from server.digest.scheduler.runs import process_owner
from server.extensions import db
from server.retention.models import PurgeRun

# A claimed run belongs to its purger this long; every batch renews it.
LEASE = timedelta(minutes=5)
# A failed run is tried again this long after the failure (the same day only: the next
# day's run purges whatever is left anyway).
RETRY_AFTER = timedelta(minutes=30)
RUN_STATUSES = ("pending", "running", "done", "failed")

__all__ = ["LEASE", "RETRY_AFTER", "claim", "ensure_run", "fenced_update", "process_owner"]


def ensure_run(org_id: int, day: date, now: datetime) -> int:
    """Return the id of the organisation's purge run of `day`, inserting it if missing."""
    existing = run_id_of(org_id, day)
    if existing is not None:
        return existing
    try:
        with phase("write"):
            run = PurgeRun(org_id=org_id, day=day, status="pending", counts={}, created_at=now)
            db.session.add(run)
            db.session.flush()
            return run.id
    except IntegrityError:
        # Another worker or host inserted it first: use theirs.
        found = run_id_of(org_id, day)
        if found is None:  # pragma: no cover - the unique key said it exists
            raise
        return found


def run_id_of(org_id: int, day: date) -> int | None:
    """Return the id of the organisation's purge run of `day`, if there is one."""
    with phase("read"):
        return db.session.scalar(
            select(PurgeRun.id).where(PurgeRun.org_id == org_id, PurgeRun.day == day)
        )


def lease_free(now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds: a holder that stopped renewing, or a failure whose wait is over."""
    return and_(
        PurgeRun.status.in_(("running", "failed")),
        or_(PurgeRun.lease_until.is_(None), PurgeRun.lease_until < now),
    )


def claimable(now: datetime, manual: bool = False) -> ColumnElement[bool]:
    """Rows a scheduler (or, `manual`, a person who asks again) may claim at `now`."""
    if manual:
        # A person may purge again on a day that was purged (after changing the periods)
        # and retry a failure at once, but never alongside a live holder.
        return or_(PurgeRun.status.in_(("pending", "done", "failed")), lease_free(now))
    return or_(PurgeRun.status == "pending", lease_free(now))


def claim(run_id: int, now: datetime, owner: str, *, manual: bool = False) -> bool:
    """Compare-and-set the run to "running" under our lease; True only for the one winner."""
    stmt = (
        update(PurgeRun)
        .where(PurgeRun.id == run_id, claimable(now, manual))
        .values(
            status="running",
            lease_owner=owner,
            lease_until=now + LEASE,
            started_at=now,
            finished_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return result.rowcount == 1  # type: ignore[attr-defined]


def fenced_update(run_id: int, owner: str, **values: Any) -> bool:
    """Update the run in the open transaction only while `owner` holds its lease."""
    stmt = (
        update(PurgeRun)
        .where(PurgeRun.id == run_id, PurgeRun.status == "running", PurgeRun.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def load(run_id: int) -> PurgeRun:
    """Read a run afresh."""
    with phase("read"):
        run = db.session.get(PurgeRun, run_id, populate_existing=True)
        if run is None:  # pragma: no cover - callers pass ids they just got
            raise LookupError(f"no purge run {run_id}")
        db.session.expunge(run)
        return run

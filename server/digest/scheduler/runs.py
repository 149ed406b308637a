"""Sending each digest exactly once: one row per digest and a lease in the database.

Every gunicorn worker on every host runs `tick()` once a minute (APScheduler). There is no
elected "scheduler process"; the database decides:

1. **One row per digest.** A due digest is a `DigestRun` row, unique on
   (org_id, kind, day). Every worker may try to insert it; the unique constraint lets one
   insert win and the others catch IntegrityError and use the winner's row.
2. **One sender per row.** A worker sends only after a compare-and-set UPDATE that moves
   the row from pending/failed (due) — or from sending with an expired lease — to
   "sending", with lease_owner = host:pid and lease_until = now + LEASE. The UPDATE's
   WHERE re-checks those conditions under the row's write lock (BEGIN IMMEDIATE on SQLite;
   row locks and re-evaluation in PostgreSQL's READ COMMITTED), so exactly one concurrent
   UPDATE matches and sees rowcount 1; the others see 0 and leave the row alone.
3. **Fenced finish.** The winner renews its lease just before talking SMTP (and stops if it
   lost it), and marks the row sent/failed with `WHERE lease_owner = me`
   (`fenced_update`, used by `server.digest.scheduler.attempt`).

The one window left: a process that dies after the SMTP server accepted the message but
before the "sent" commit leaves a "sending" row whose lease expires; another worker then
sends it again. That duplicate carries the same Message-ID (see docs/operations.md).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from analysis.calendar import Slot, period_for
from server.db import phase
from server.digest.models import DigestRun
from server.digest.scheduler.catchup import MAX_ATTEMPTS
from server.extensions import db
from server.jobs import process_owner  # noqa: F401  (re-exported: the leases' owner name)

log = logging.getLogger("lagesbild.digest")

# A claimed run belongs to its sender this long; renewed just before the SMTP conversation.
LEASE = timedelta(minutes=5)
# A run created this long after its scheduled time is marked late (the tick runs every
# minute; more than a few minutes means the server was down or stalled).
LATE_AFTER = timedelta(minutes=10)


def ensure_run(
    org_id: int,
    slot: Slot,
    tz: ZoneInfo,
    now: datetime,
    *,
    lang: str,
    recipients: list[str],
    manual: bool = False,
) -> int:
    """Return the id of the slot's run, inserting it if missing (the unique key decides)."""
    existing = _run_id(org_id, slot.kind, slot.day)
    if existing is not None:
        return existing
    start, end = period_for(slot.kind, slot.day, tz)
    late = not manual and now - slot.scheduled_for > LATE_AFTER
    try:
        with phase("write"):
            run = DigestRun(
                org_id=org_id,
                kind=slot.kind,
                day=slot.day,
                period_start=start,
                period_end=end,
                status="pending",
                scheduled_for=slot.scheduled_for,
                late=late,
                manual=manual,
                attempts=0,
                next_attempt_at=now,
                lang=lang,
                recipients=list(recipients),
                created_at=now,
                updated_at=now,
            )
            db.session.add(run)
            db.session.flush()
            run_id = run.id
        if late:
            log.warning("digest %s of org %s due %s: late (catch-up)", slot.kind, org_id, slot.day)
        return run_id
    except IntegrityError:
        # Another worker or host inserted the same run first: use theirs.
        found = _run_id(org_id, slot.kind, slot.day)
        if found is None:  # pragma: no cover - the unique key said it exists
            raise
        return found


def _run_id(org_id: int, kind: str, day: date) -> int | None:
    """Return the id of the run of (org, kind, day), if there is one."""
    with phase("read"):
        return db.session.scalar(
            select(DigestRun.id).where(
                DigestRun.org_id == org_id, DigestRun.kind == kind, DigestRun.day == day
            )
        )


def lease_expired(now: datetime) -> ColumnElement[bool]:
    """Rows whose sender stopped renewing its lease (or never had one)."""
    return and_(
        DigestRun.status == "sending",
        or_(DigestRun.lease_until.is_(None), DigestRun.lease_until < now),
    )


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Rows the scheduler may claim at `now`."""
    return or_(
        and_(
            DigestRun.status.in_(("pending", "failed")),
            DigestRun.next_attempt_at.is_not(None),
            DigestRun.next_attempt_at <= now,
        ),
        and_(lease_expired(now), DigestRun.attempts < MAX_ATTEMPTS),
    )


def claim(
    run_id: int,
    now: datetime,
    owner: str,
    *,
    mode: str = "scheduled",
    recipients: list[str] | None = None,
    lang: str | None = None,
) -> bool:
    """Compare-and-set the run to "sending" under our lease; True only for the one winner.

    mode "scheduled": only a due run; "manual": any pending or failed run (a person asked);
    "force": a sent run too (a deliberate resend, which gets its own Message-ID).
    """
    if mode == "scheduled":
        condition = due_condition(now)
    elif mode == "manual":
        condition = or_(DigestRun.status.in_(("pending", "failed")), lease_expired(now))
    elif mode == "force":
        condition = or_(DigestRun.status.in_(("pending", "failed", "sent")), lease_expired(now))
    else:
        raise ValueError(f"unknown claim mode {mode!r}")
    values: dict[str, Any] = {
        "status": "sending",
        "lease_owner": owner,
        "lease_until": now + LEASE,
        "attempts": DigestRun.attempts + 1,
        "updated_at": now,
        "resends": case(
            (DigestRun.status == "sent", DigestRun.resends + 1), else_=DigestRun.resends
        ),
    }
    if recipients is not None:
        values["recipients"] = list(recipients)
    if lang is not None:
        values["lang"] = lang
    stmt = (
        update(DigestRun)
        .where(DigestRun.id == run_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return result.rowcount == 1  # type: ignore[attr-defined]


def _owned(run_id: int, owner: str) -> ColumnElement[bool]:
    """The run, while `owner` holds its lease."""
    return and_(
        DigestRun.id == run_id, DigestRun.status == "sending", DigestRun.lease_owner == owner
    )


def fenced_update(run_id: int, owner: str, **values: Any) -> bool:
    """Update the run only while `owner` holds its lease; True if it did."""
    stmt = (
        update(DigestRun)
        .where(_owned(run_id, owner))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return result.rowcount == 1  # type: ignore[attr-defined]


def give_up_interrupted(now: datetime) -> int:
    """Mark runs whose sender vanished after its last allowed attempt as failed."""
    stmt = (
        update(DigestRun)
        .where(lease_expired(now), DigestRun.attempts >= MAX_ATTEMPTS)
        .values(
            status="failed",
            lease_owner=None,
            lease_until=None,
            next_attempt_at=None,
            last_error="interrupted: the sending process stopped; retries used up",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

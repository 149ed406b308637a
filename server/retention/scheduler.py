"""The nightly purge: every organisation once a day at 03:30 Stockholm time, and by hand.

Every gunicorn worker on every host runs `tick()` now and then (`worker`); the database
decides who purges (`runs`). A server that was down at 03:30 purges at its first tick
after (the day's run is created late); a day missed altogether is not queued, since the
next day's purge removes everything that is due by then.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select

from analysis.calendar import STOCKHOLM, latest_slot
from server.db import phase
from server.digest.scheduler import exc_summary
from server.extensions import db
from server.orgs.models import Organisation
from server.retention import runs, service
from server.retention.models import PurgeRun
from server.retention.preview import preview
from sync.clock import utcnow

log = logging.getLogger("lagesbild.retention")

# After the night's last reports and before the 06:00 digest, which names what went.
PURGE_TIME = time(3, 30)


@dataclass
class Outcome:
    """What happened to one organisation's purge in a tick or by hand."""

    run_id: int | None
    org_id: int
    day: date
    status: str  # done | failed | lost | interrupted | busy | dry_run
    counts: service.Counts = field(default_factory=service.empty_counts)
    error: str | None = None


def purge_day(now: datetime) -> date:
    """Return the day whose purge is due at `now`: today from 03:30, else yesterday."""
    return latest_slot("night", PURGE_TIME, STOCKHOLM, now).day


def tick(
    now: datetime | None = None,
    *,
    owner: str | None = None,
    batch: int = service.BATCH,
    stop: threading.Event | None = None,
) -> list[Outcome]:
    """Create the day's purge run of every organisation and purge those this process claims.

    A quiet tick costs two reads and no write. `stop` ends a purge between two batches
    (a worker shutting down); its run is left for the next tick anywhere.
    """
    now = now or utcnow()
    owner = owner or runs.process_owner()
    day = purge_day(now)
    with phase("read"):
        org_ids = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
        have = set(db.session.scalars(select(PurgeRun.org_id).where(PurgeRun.day == day)))
    for org_id in org_ids:
        if org_id in have:
            continue
        try:
            runs.ensure_run(org_id, day, now)
        except Exception:  # one organisation must not stop the others (logged)
            db.session.rollback()
            log.exception("purge: cannot create the run of org %s for %s", org_id, day)
    with phase("read"):
        claimable = list(
            db.session.execute(
                select(PurgeRun.id, PurgeRun.org_id)
                .where(PurgeRun.day == day, runs.claimable(now))
                .order_by(PurgeRun.id)
            )
        )
    outcomes = []
    for run_id, org_id in claimable:
        if stop is not None and stop.is_set():
            break
        if runs.claim(run_id, now, owner):
            outcomes.append(_run(run_id, org_id, day, now, owner, "scheduled", batch, stop))
    return outcomes


def purge_now(
    org_id: int,
    *,
    now: datetime | None = None,
    owner: str | None = None,
    dry_run: bool = False,
    batch: int = service.BATCH,
) -> Outcome:
    """Purge one organisation now, through the same run and lease as the scheduler.

    Never alongside a purge in progress (then "busy"); again on a day already purged, the
    new counts are added to the day's run. A dry run only counts.
    """
    now = now or utcnow()
    owner = owner or runs.process_owner()
    day = purge_day(now)
    if dry_run:
        return Outcome(None, org_id, day, "dry_run", preview(org_id, now))
    with phase("read"):
        service.organisation(org_id)
    run_id = runs.ensure_run(org_id, day, now)
    if not runs.claim(run_id, now, owner, manual=True):
        return Outcome(run_id, org_id, day, "busy")
    return _run(run_id, org_id, day, now, owner, "manual", batch)


def _run(
    run_id: int,
    org_id: int,
    day: date,
    now: datetime,
    owner: str,
    how: str,
    batch: int,
    stop: threading.Event | None = None,
) -> Outcome:
    """Purge a claimed run and record the result; errors are recorded, never raised."""
    try:
        progress = service.purge(run_id, org_id, now, owner, batch=batch, stop=stop)
    except service.Interrupted as exc:
        db.session.rollback()
        log.warning("%s; the next tick takes it over", exc)
        service.release(run_id, owner)
        return Outcome(run_id, org_id, day, "interrupted", error=str(exc))
    except service.LeaseLost as exc:
        db.session.rollback()
        log.error("%s", exc)
        return Outcome(run_id, org_id, day, "lost", error=str(exc))
    except Exception as exc:  # recorded on the run and retried later
        db.session.rollback()
        error = exc_summary(exc)
        log.exception("purge run %s (org %s, %s) failed", run_id, org_id, day)
        service.fail(run_id, owner, now, error)
        return Outcome(run_id, org_id, day, "failed", error=error)
    if not service.finish(progress, org_id, how):
        log.error("purge run %s: done, but the lease had passed to another process", run_id)
        return Outcome(run_id, org_id, day, "lost", progress.counts)
    log.info("purge run %s (org %s, %s): %s", run_id, org_id, day, service.summary(progress.counts))
    return Outcome(run_id, org_id, day, "done", progress.counts)

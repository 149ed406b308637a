"""Digest helpers shared by the tests: last night's dates and a stored, sent digest run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from analysis.calendar import last_night
from server.digest.models import DigestRun
from server.extensions import db
from sync.clock import utcnow


def evening() -> date:
    """The local date on which last night (the night of the test reports) began."""
    start, _end = last_night(datetime.now(UTC))
    return start.date()


def due(kind: str) -> date:
    """The due date of the `kind` digest whose period holds last night."""
    day = evening()
    if kind == "night":
        return day + timedelta(days=1)
    if kind == "week":
        return day + timedelta(days=7 - day.weekday())
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def sent_night_run(org_id: int) -> int:
    """Store a sent night digest run with its archived copy; return its id."""
    now = utcnow()
    run = DigestRun(
        org_id=org_id,
        kind="night",
        day=now.date(),
        period_start=now - timedelta(hours=12),
        period_end=now,
        status="sent",
        scheduled_for=now,
        subject="Natten",
        html="<!doctype html><p>Natten</p>",
    )
    db.session.add(run)
    db.session.commit()
    return run.id

"""Archived digest copies that may still quote free text past the text period.

A stored copy (`DigestRun.html`, `.text`) quotes report texts as they were when it was
written. Once texts of its period have been cleared, it is rebuilt from the database, where
they are gone. Which copies, for one organisation's purge: its own and those of every
organisation it has ever shared with (theirs may quote its reports under `full`), holding
a report of the organisation created within the copy's period whose text was cleared after
the copy was written (or, in a dry run, is about to be), or any copy written before the
text cutoff. A night copy is rebuilt about once; a weekly or monthly copy at each daily
purge that clears more of its period; then once more when the cutoff passes the moment it
was written, which also takes out the follow-ups' older incidents (open incidents first
reported up to 90 days before its period) and the texts of reports already deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from server.digest.models import DigestRun
from server.extensions import db
from server.privacy.erasure import partners
from server.reports.models import Report


def _stale(org_id: int, text_before: datetime) -> list[ColumnElement[bool]]:
    """The conditions of the copies to rebuild when `org_id`'s texts before `text_before` go."""
    cleared_since_written = or_(
        Report.text_purged_at > DigestRun.updated_at,
        # Counted by the dry run before the purge clears them (then the line above holds).
        and_(Report.text_purged_at.is_(None), Report.created_at < text_before),
    )
    quoted = exists().where(
        Report.org_id == org_id,
        Report.created_at >= DigestRun.period_start,
        Report.created_at < DigestRun.period_end,
        cleared_since_written,
    )
    return [
        DigestRun.org_id.in_(sorted(partners({org_id}))),
        or_(DigestRun.html.is_not(None), DigestRun.text.is_not(None)),
        DigestRun.status != "sending",
        DigestRun.period_start < text_before,
        # Written before the cutoff: every text it could quote (its period's, and the
        # follow-ups' from before it) is past the text period now, even of reports already
        # deleted (a report period as short as the text period clears no text first).
        or_(DigestRun.updated_at < text_before, quoted),
    ]


def stale_copies(org_id: int, text_before: datetime, after_id: int, limit: int) -> list[int]:
    """Return up to `limit` ids above `after_id` of stored copies that may quote cleared texts."""
    return list(
        db.session.scalars(
            select(DigestRun.id)
            .where(*_stale(org_id, text_before), DigestRun.id > after_id)
            .order_by(DigestRun.id)
            .limit(limit)
        )
    )


def count_stale(org_id: int, text_before: datetime) -> int:
    """Count the stored copies a purge would rebuild (the dry run)."""
    query = select(func.count()).select_from(DigestRun).where(*_stale(org_id, text_before))
    return int(db.session.scalar(query) or 0)

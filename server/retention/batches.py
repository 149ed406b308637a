"""The purge's write batches: each runs inside the caller's short write transaction.

Report batches take the organisation's change counter lock first, as a push and every
coordinator decision do, so they never race a merge and the phones learn of each change
through a new change number (a tombstone, or a report whose comments went).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select

from server.audit.models import AuditEntry
from server.digest.models import DigestRun
from server.extensions import db
from server.incidents.models import Incident
from server.incidents.summary import refresh_incidents
from server.orgs.counter import lock_counter, take_seqs
from server.reports.models import Report, ReportComment, Tombstone

RETENTION_REASON = "retention"
# The free-text fields a text purge clears (the report's facts stay: time, category,
# severity, position, area, people count).
TEXT_FIELDS = ("description", "place", "photos")
# The merge clock of a cleared field: later than any device edit can be, so a phone that
# resends the report (its outbox, an old backup) never writes the text back.
SEALED_CLOCK: list[Any] = [datetime(9999, 12, 31, tzinfo=UTC).isoformat(timespec="microseconds"), 0]


def delete_reports(
    org_id: int, before: datetime, limit: int, now: datetime, released: set[str]
) -> tuple[int, int]:
    """Delete up to `limit` reports created before `before`, leaving tombstones.

    As `incidents.feedback.delete_report`, for a batch: the tombstone refuses a resend of
    the id and tells the reporting phone; comments go; incidents are refreshed and the
    emptied ones removed. The photos the reports named are added to `released` (the sweep
    deletes those no report names any more). Returns (reports, comments) deleted.
    """
    lock_counter(org_id)
    rows = db.session.execute(
        select(Report.id, Report.device_id, Report.photos, Report.incident_id)
        .where(Report.org_id == org_id, Report.created_at < before)
        .order_by(Report.created_at, Report.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0, 0
    ids = [r.id for r in rows]
    first = take_seqs(org_id, len(rows))
    db.session.execute(
        insert(Tombstone),
        [
            {
                "report_id": r.id,
                "org_id": org_id,
                "device_id": r.device_id,
                "deleted_at": now,
                "reason": RETENTION_REASON,
                "change_seq": first + offset,
            }
            for offset, r in enumerate(rows)
        ],
    )
    comments = _delete_comments(ReportComment.report_id.in_(ids))
    db.session.execute(
        delete(Report).where(Report.id.in_(ids)).execution_options(synchronize_session=False)
    )
    incidents = {r.incident_id for r in rows if r.incident_id is not None}
    comments += _delete_comments(ReportComment.incident_id.in_(_emptied(incidents)))
    refresh_incidents(org_id, incidents)
    released.update(sha for r in rows for sha in r.photos or [])
    return len(rows), comments


def clear_texts(
    org_id: int, before: datetime, limit: int, now: datetime, released: set[str]
) -> tuple[int, int]:
    """Clear the free text and photos of up to `limit` reports created before `before`.

    The report stays, so every count by day, category and area is kept until the whole
    report goes. Its own comments go with its text, and an incident's comments once every
    report in it is cleared (a coordinator's words about the texts); the incidents'
    summaries and place texts, copied from the texts, are computed again. Returns
    (reports, comments) cleared.
    """
    lock_counter(org_id)
    reports = list(
        db.session.scalars(
            select(Report)
            .where(
                Report.org_id == org_id,
                Report.created_at < before,
                Report.text_purged_at.is_(None),
            )
            .order_by(Report.created_at, Report.id)
            .limit(limit)
            .with_for_update()
        )
    )
    if not reports:
        return 0, 0
    first = take_seqs(org_id, len(reports))
    for offset, report in enumerate(reports):
        released.update(report.photos or [])
        report.description = ""
        report.place = ""
        report.photos = []
        report.clocks = {**(report.clocks or {}), **dict.fromkeys(TEXT_FIELDS, SEALED_CLOCK)}
        report.text_purged_at = now
        # A new change number: the phone's next pull drops the comments that went.
        report.change_seq = first + offset
        report.version += 1
        report.updated_at = now
    db.session.flush()
    comments = _delete_comments(ReportComment.report_id.in_([r.id for r in reports]))
    incidents = {r.incident_id for r in reports if r.incident_id is not None}
    comments += _delete_comments(ReportComment.incident_id.in_(_all_cleared(incidents)))
    refresh_incidents(org_id, incidents)
    return len(reports), comments


def _delete_comments(condition: Any) -> int:
    """Delete the comments matching `condition`; return how many."""
    result = db.session.execute(
        delete(ReportComment).where(condition).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _emptied(incident_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    """Return those incidents no report belongs to any more."""
    if not incident_ids:
        return []
    return list(
        db.session.scalars(
            select(Incident.id).where(
                Incident.id.in_(list(incident_ids)),
                ~exists().where(Report.incident_id == Incident.id),
            )
        )
    )


def _all_cleared(incident_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    """Return those incidents whose every report has had its text cleared."""
    if not incident_ids:
        return []
    return list(
        db.session.scalars(
            select(Incident.id).where(
                Incident.id.in_(list(incident_ids)),
                ~exists().where(Report.incident_id == Incident.id, Report.text_purged_at.is_(None)),
            )
        )
    )


def delete_audit(org_id: int, before: datetime, limit: int) -> int:
    """Delete up to `limit` audit entries recorded before `before`; return how many."""
    ids = list(
        db.session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.org_id == org_id, AuditEntry.at < before)
            .order_by(AuditEntry.id)
            .limit(limit)
        )
    )
    if ids:
        db.session.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids)))
    return len(ids)


def delete_digest_runs(org_id: int, before: date, limit: int) -> int:
    """Delete up to `limit` archived digest runs due before `before`; return how many."""
    ids = list(
        db.session.scalars(
            select(DigestRun.id)
            .where(
                DigestRun.org_id == org_id,
                DigestRun.day < before,
                DigestRun.status != "sending",
            )
            .order_by(DigestRun.id)
            .limit(limit)
        )
    )
    if ids:
        db.session.execute(delete(DigestRun).where(DigestRun.id.in_(ids)))
    return len(ids)

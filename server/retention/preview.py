"""The dry run: count what a purge at a moment would remove, changing nothing.

It counts as the batches decide (`server.retention.batches`, `photos`), so a purge right
after it reports the same numbers unless the store changed in between.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from server.audit.models import AuditEntry
from server.db import phase
from server.digest.models import DigestRun
from server.extensions import db
from server.reports.models import Report, ReportComment
from server.retention import digests, guarding
from server.retention import photos as sweep
from server.retention.service import Counts, Cutoffs, cutoffs, empty_counts, organisation


def preview(org_id: int, now: datetime) -> Counts:
    """Count what a purge at `now` would remove, changing nothing."""
    counts = empty_counts()
    with phase("read"):
        cut = cutoffs(organisation(org_id), now)
        own = Report.org_id == org_id
        counts["reports_purged"] = _count(Report, own, Report.created_at < cut.report_before)
        counts["texts_cleared"] = _count(
            Report,
            own,
            Report.created_at >= cut.report_before,
            Report.created_at < cut.text_before,
            Report.text_purged_at.is_(None),
        )
        counts["comments_deleted"] = _comments(org_id, cut)
        # Every photo of a report created before the text cutoff is released (cleared or
        # deleted with it); it goes unless a later report names it too.
        names = sweep.scan_names(org_id, split_before=cut.text_before)
        released, orphans = sweep.count_unnamed(org_id, names, names.released, cut.grace_before)
        counts["photos_deleted"], counts["orphan_photos_deleted"] = released, orphans
        counts["digest_copies_rebuilt"] = digests.count_stale(org_id, cut.text_before)
        counts["audit_deleted"] = _count(
            AuditEntry, AuditEntry.org_id == org_id, AuditEntry.at < cut.audit_before
        )
        counts["digests_deleted"] = _count(
            DigestRun,
            DigestRun.org_id == org_id,
            DigestRun.day < cut.digest_before,
            DigestRun.status != "sending",
        )
        counts.update(guarding.count(org_id, cut.report_before))
    return counts


def _count(model: type, *conditions: object) -> int:
    """Count the rows of a model matching every condition."""
    return int(db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


def _comments(org_id: int, cut: Cutoffs) -> int:
    """Count the comments a purge would delete, as the batches decide batch by batch.

    A report's comments go with its text or with the report; an incident's go when the
    purge empties it, or clears texts in it and leaves none.
    """
    rb, tb = cut.report_before, cut.text_before
    unpurged = Report.text_purged_at.is_(None)

    def member(*conditions: object) -> ColumnElement[int]:
        return func.max(case((and_(*conditions), 1), else_=0))

    doomed_incidents = (
        select(Report.incident_id)
        .where(Report.org_id == org_id, Report.incident_id.is_not(None))
        .group_by(Report.incident_id)
        .having(
            or_(
                and_(member(Report.created_at < rb) == 1, member(Report.created_at >= rb) == 0),
                and_(
                    member(Report.created_at >= rb, Report.created_at < tb, unpurged) == 1,
                    member(Report.created_at >= tb, unpurged) == 0,
                ),
            )
        )
    )
    on_reports = (
        select(func.count())
        .select_from(ReportComment)
        .join(Report, Report.id == ReportComment.report_id)
        .where(
            Report.org_id == org_id,
            or_(Report.created_at < rb, and_(Report.created_at < tb, unpurged)),
        )
    )
    on_incidents = (
        select(func.count())
        .select_from(ReportComment)
        .where(ReportComment.incident_id.in_(doomed_incidents))
    )
    return int(db.session.scalar(on_reports) or 0) + int(db.session.scalar(on_incidents) or 0)

"""Coordinator feedback on single reports (status, comment, deletion) that devices pull."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.incidents import service as incidents
from server.incidents.models import Incident
from server.incidents.summary import refresh_incidents
from server.orgs.counter import lock_counter, take_seqs
from server.photos import service as photo_service
from server.reports.models import REPORT_STATUSES, Report, ReportComment, Tombstone
from sync.clock import utcnow


def _bump(report: Report) -> None:
    """Record a coordinator change so the reporting device pulls it (counter locked)."""
    report.change_seq = take_seqs(report.org_id, 1)
    report.version += 1
    report.updated_at = utcnow()


def get(report_id: uuid.UUID) -> Report:
    """Load a report or raise NotFound."""
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound("not_found", f"no report with id {report_id}")
    return report


def get_for_update(report_id: uuid.UUID) -> Report:
    """Lock the organisation's counter, then load the report afresh and locked.

    The counter lock comes first, as in a push, so the two never deadlock, and the row is
    re-read after it so a push that committed meanwhile is not overwritten.
    """
    org_id = get(report_id).org_id
    lock_counter(org_id)
    report = db.session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if report is None:
        raise NotFound("not_found", f"no report with id {report_id}")
    return report


def set_status(report_id: uuid.UUID, status: str, comment: str | None = None) -> Report:
    """Set a report's coordinator status, optionally with a comment for the device."""
    if status not in REPORT_STATUSES:
        raise Invalid(
            "unknown_status",
            f"unknown status {status!r}; use one of {', '.join(REPORT_STATUSES)}",
        )
    report = get_for_update(report_id)
    if comment and comment.strip():
        db.session.add(ReportComment(report_id=report.id, body=comment.strip()))
    if report.incident_id is not None and _incident_status(report.incident_id) != status:
        # The status belongs to the incident: every report in it follows (and is bumped).
        incidents.set_status(report.org_id, report.incident_id, status, None)
        return get(report_id)
    _bump(report)
    report.status = status
    db.session.commit()
    return report


def _incident_status(incident_id: uuid.UUID) -> str | None:
    """Return an incident's status."""
    return db.session.scalar(select(Incident.status).where(Incident.id == incident_id))


def add_comment(report_id: uuid.UUID, body: str, author_id: int | None = None) -> ReportComment:
    """Add a coordinator comment that the reporting device will see."""
    body = body.strip()
    if not body or len(body) > 4000:
        raise Invalid("invalid_comment", "a comment must be 1–4000 characters")
    report = get_for_update(report_id)
    _bump(report)
    comment = ReportComment(report_id=report.id, body=body, author_id=author_id)
    db.session.add(comment)
    db.session.commit()
    return comment


def delete_report(report_id: uuid.UUID, reason: str, actor: Actor = CLI) -> Tombstone:
    """Delete a report for good (retention, erasure); a resend never brings it back."""
    report = get_for_update(report_id)
    seq = take_seqs(report.org_id, 1)
    tomb = Tombstone(
        report_id=report.id,
        org_id=report.org_id,
        device_id=report.device_id,
        reason=reason[:40],
        change_seq=seq,
    )
    db.session.add(tomb)
    db.session.execute(delete(ReportComment).where(ReportComment.report_id == report.id))
    photos = list(report.photos or [])
    org_id = report.org_id
    incident_id = report.incident_id
    db.session.delete(report)
    audit.add(org_id, "report.delete", f"{report_id} {reason[:40]}", actor)
    db.session.flush()
    if incident_id is not None:
        refresh_incidents(org_id, {incident_id})
    orphans = photo_service.forget_unreferenced(org_id, photos)
    db.session.commit()
    # Files go after the commit: a failed commit must not leave rows without files.
    photo_service.delete_files(org_id, orphans)
    return tomb

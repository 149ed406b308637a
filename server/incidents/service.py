"""Coordinator decisions on incidents: status, responsibility, comments, merge, split, move.

Every decision is recorded in the incident's timeline with its author, freezes the
incident's membership (the automatic grouping never undoes a manual decision), and bumps
the member reports' change numbers so the reporting devices pull the news.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from server.categories.service import urgent_codes
from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE, Incident, IncidentEvent
from server.incidents.summary import summarise
from server.incidents.title import Headline, headline
from server.orgs.counter import lock_counter, take_seqs
from server.reports.models import Report, ReportComment
from server.sharing.rules import Scope, at_least
from sync.clock import utcnow

MAX_COMMENT = 4000


class IncidentError(Invalid):
    """A decision that cannot be made, with a message for the coordinator."""


def get(org_id: int, incident_id: uuid.UUID) -> Incident:
    """Load one of the organisation's incidents or raise NotFound."""
    incident = db.session.get(Incident, incident_id)
    if incident is None or incident.org_id != org_id:
        raise NotFound("not_found", f"no incident {incident_id}")
    return incident


def get_visible(scope: Scope, incident_id: uuid.UUID) -> tuple[Incident, str]:
    """Load an incident the scope may read, with its level of detail, or raise NotFound.

    Another organisation's incident that no agreement shares at `reports` or more answers
    exactly like a missing one: the answer must not reveal that it exists.
    """
    incident = db.session.get(Incident, incident_id)
    detail = (
        None
        if incident is None
        else scope.detail(incident.org_id, incident.category_code, incident.area_id)
    )
    if incident is None or not at_least(detail, "reports"):
        raise NotFound("not_found", f"no incident {incident_id}")
    return incident, str(detail)


def _locked(org_id: int, incident_id: uuid.UUID) -> Incident:
    """Take the organisation's counter lock, then load the incident afresh."""
    lock_counter(org_id)
    incident = db.session.scalar(
        select(Incident)
        .where(Incident.id == incident_id, Incident.org_id == org_id)
        .execution_options(populate_existing=True)
    )
    if incident is None:
        raise NotFound("not_found", f"no incident {incident_id}")
    return incident


def members(incident_id: uuid.UUID) -> list[Report]:
    """Return the incident's reports, oldest first."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.incident_id == incident_id)
            .order_by(Report.created_at, Report.id)
            .execution_options(populate_existing=True)
        )
    )


def _event(incident_id: uuid.UUID, actor_id: int | None, kind: str, **data: Any) -> None:
    """Add a timeline line."""
    db.session.add(
        IncidentEvent(incident_id=incident_id, actor_id=actor_id, kind=kind, at=utcnow(), data=data)
    )


def _freeze(incident: Incident, reports: list[Report]) -> None:
    """Pin the incident's reports: from now on only a coordinator moves them."""
    incident.frozen = True
    for report in reports:
        report.incident_pinned = True


def _notify(org_id: int, reports: list[Report], status: str | None = None) -> None:
    """Give the reports new change numbers (and a status) so their devices pull them."""
    if not reports:
        return
    first = take_seqs(org_id, len(reports))
    now = utcnow()
    for offset, report in enumerate(reports):
        if status is not None:
            report.status = status
        report.change_seq = first + offset
        report.version += 1
        report.updated_at = now


def set_status(org_id: int, incident_id: uuid.UUID, status: str, actor_id: int | None) -> Incident:
    """Move an incident through the status workflow."""
    if status not in INCIDENT_STATUSES:
        raise IncidentError("unknown_status", f"Unknown status {status!r}.")
    incident = _locked(org_id, incident_id)
    if incident.status == status:
        return incident
    reports = members(incident.id)
    _event(incident.id, actor_id, "status", old=incident.status, new=status)
    incident.status = status
    incident.updated_at = utcnow()
    _freeze(incident, reports)
    _notify(org_id, reports, status)
    db.session.commit()
    return incident


def set_responsible(
    org_id: int, incident_id: uuid.UUID, responsible: str | None, actor_id: int | None
) -> Incident:
    """Name the organisation responsible for acting (or clear it)."""
    if responsible is not None and responsible not in RESPONSIBLE:
        raise IncidentError("unknown_responsible", f"Unknown responsible {responsible!r}.")
    incident = _locked(org_id, incident_id)
    if incident.responsible == responsible:
        return incident
    _event(incident.id, actor_id, "responsible", old=incident.responsible, new=responsible)
    incident.responsible = responsible
    incident.updated_at = utcnow()
    _freeze(incident, members(incident.id))
    db.session.commit()
    return incident


def add_comment(
    org_id: int, incident_id: uuid.UUID, body: str, actor_id: int | None
) -> ReportComment:
    """Comment on an incident; every device with a report in it sees the comment."""
    body = body.strip()
    if not body:
        raise IncidentError("empty_comment", "Write a comment first.")
    if len(body) > MAX_COMMENT:
        raise IncidentError("comment_too_long", f"A comment is at most {MAX_COMMENT} characters.")
    incident = _locked(org_id, incident_id)
    reports = members(incident.id)
    comment = ReportComment(incident_id=incident.id, body=body, author_id=actor_id)
    db.session.add(comment)
    db.session.flush()
    _event(incident.id, actor_id, "comment", comment_id=comment.id)
    incident.updated_at = utcnow()
    _freeze(incident, reports)
    _notify(org_id, reports)
    db.session.commit()
    return comment


@dataclass(frozen=True)
class MergePreview:
    """What a merge would give, before anything changes: for the coordinator to confirm."""

    target: Incident
    source: Incident
    name: Headline  # what the merged incident will be called (the same rule as summarise)
    report_count: int


def merge_preview(org_id: int, target_id: uuid.UUID, source_id: uuid.UUID) -> MergePreview:
    """Tell what merging the source into the target would be called; change nothing."""
    if target_id == source_id:
        raise IncidentError("same_incident", "An incident cannot be merged with itself.")
    target, source = get(org_id, target_id), get(org_id, source_id)
    reports = members(target.id) + members(source.id)
    return MergePreview(target, source, headline(reports, target.seed_id), len(reports))


def merge(
    org_id: int, target_id: uuid.UUID, source_id: uuid.UUID, actor_id: int | None
) -> Incident:
    """Merge the source incident into the target: its reports, comments and timeline move.

    The merged incident keeps the target's id; its name follows server.incidents.title
    (a real report's, never a calm round's, when both are there).
    """
    if target_id == source_id:
        raise IncidentError("same_incident", "An incident cannot be merged with itself.")
    target = _locked(org_id, target_id)
    source = get(org_id, source_id)
    moved = members(source.id)
    db.session.execute(
        update(ReportComment)
        .where(ReportComment.incident_id == source.id)
        .values(incident_id=target.id)
    )
    db.session.execute(
        update(IncidentEvent)
        .where(IncidentEvent.incident_id == source.id)
        .values(incident_id=target.id)
    )
    _repoint_actions(source.id, target.id)
    for report in moved:
        report.incident_id = target.id
    _event(
        target.id,
        actor_id,
        "merged",
        source=str(source.id),
        reports=[str(r.id) for r in moved],
        source_status=source.status,
    )
    db.session.flush()
    db.session.delete(source)
    db.session.flush()
    reports = members(target.id)
    _freeze(target, reports)
    summarise(target, reports, urgent_codes())
    _notify(org_id, moved, target.status)
    db.session.commit()
    return target


def _repoint_actions(source_id: uuid.UUID, target_id: uuid.UUID) -> None:
    """Let actions made from a merged-away incident point at the incident it went into."""
    # The table by name: server.actions imports this package's models.
    links = db.metadata.tables["action_incidents"]
    already = select(links.c.action_id).where(links.c.incident_id == target_id)
    db.session.execute(
        delete(links).where(links.c.incident_id == source_id, links.c.action_id.in_(already))
    )
    db.session.execute(
        update(links).where(links.c.incident_id == source_id).values(incident_id=target_id)
    )


def move(
    org_id: int, report_id: uuid.UUID, target_id: uuid.UUID | None, actor_id: int | None
) -> Incident:
    """Move a report into another incident, or (target None) split it out into its own."""
    lock_counter(org_id)
    report = db.session.get(Report, report_id, populate_existing=True)
    if report is None or report.org_id != org_id:
        raise NotFound("not_found", f"no report {report_id}")
    source = get(org_id, report.incident_id) if report.incident_id else None
    if target_id is None:
        if source is not None and len(members(source.id)) == 1:
            raise IncidentError("already_alone", "The report is already alone in its incident.")
        # A split incident gets a fresh id: the report's own id may still name its old one.
        fresh = uuid.uuid4()
        # Its key names no report, so its earliest member anchors it (analysis.grouping).
        target = Incident(
            id=fresh,
            seed_id=fresh,
            org_id=org_id,
            category_code=report.category_code,
            first_at=report.created_at,
            last_at=report.created_at,
            status="ny",
        )
        db.session.add(target)
        db.session.flush()
        _event(target.id, actor_id, "split", report=str(report.id), source=_name(source))
    else:
        target = get(org_id, target_id)
        if source is not None and source.id == target.id:
            raise IncidentError("same_incident", "The report is already in that incident.")
        _event(target.id, actor_id, "moved_in", report=str(report.id), source=_name(source))
    report.incident_id = target.id
    report.incident_pinned = True
    db.session.flush()
    urgent = urgent_codes()
    if source is not None:
        _event(source.id, actor_id, "moved_out", report=str(report.id), target=str(target.id))
        left = members(source.id)
        if left:
            _freeze(source, left)
            summarise(source, left, urgent)
        else:
            db.session.delete(source)
    reports = members(target.id)
    _freeze(target, reports)
    summarise(target, reports, urgent)
    _notify(org_id, [report], target.status)
    db.session.commit()
    return target


def _name(incident: Incident | None) -> str | None:
    """Return an incident's id as text for the timeline."""
    return str(incident.id) if incident is not None else None


def timeline(incident_id: uuid.UUID) -> list[IncidentEvent]:
    """Return the incident's timeline, oldest first."""
    return list(
        db.session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )


def comments(incident_id: uuid.UUID) -> list[ReportComment]:
    """Return the comments on the incident and on its reports, oldest first."""
    ids = [r.id for r in members(incident_id)]
    return list(
        db.session.scalars(
            select(ReportComment)
            .where((ReportComment.incident_id == incident_id) | ReportComment.report_id.in_(ids))
            .order_by(ReportComment.created_at, ReportComment.id)
        )
    )

"""Incident summaries: what lists show of an incident, kept in step with its reports."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import defer

from server.categories.service import urgent_codes
from server.devices.service import device_kinds
from server.extensions import db
from server.incidents.models import Incident
from server.incidents.title import SUMMARY_CHARS, headline, title_order
from server.orgs.counter import take_seqs
from server.reports.models import Report
from sync.clock import utcnow

# Severity at or above this makes an incident "kräver åtgärd" even in a calm category.
URGENT_SEVERITY = 3
# Incidents refreshed per query (bounded IN lists).
REFRESH_CHUNK = 500

# Columns neither the grouping nor the summaries read: left unloaded when a pass loads a
# whole window (a re-keyed incident is loaded whole), they would cost most of its time
# (JSON and, on SQLite, datetime parsing for every member).
UNUSED_BY_GROUPING = (
    defer(Report.clocks),
    defer(Report.photos),
    defer(Report.received_at),
    defer(Report.updated_at),
    defer(Report.text_purged_at),
)


def absorb(org_id: int, gained: dict[uuid.UUID, list[Report]]) -> None:
    """Update incidents that only gained reports from the newcomers."""
    if not gained:
        return
    urgent = urgent_codes()
    kinds = device_kinds({r.device_id for rows in gained.values() for r in rows})
    for incident in db.session.scalars(select(Incident).where(Incident.id.in_(list(gained)))):
        new = gained[incident.id]
        incident.report_count += len(new)
        incident.first_at = min(incident.first_at, *(r.created_at for r in new))
        incident.last_at = max(incident.last_at, *(r.created_at for r in new))
        severities = [r.severity for r in new if r.severity is not None]
        if incident.max_severity is not None:
            severities.append(incident.max_severity)
        incident.max_severity = max(severities) if severities else None
        incident.urgent = (
            incident.urgent
            or any(r.category_code in urgent for r in new)
            or (incident.max_severity or 0) >= URGENT_SEVERITY
        )
        located = next((r for r in new if r.lat is not None), None)
        if incident.lat is None and located is not None:
            incident.lat, incident.lon, incident.area_id = located.lat, located.lon, located.area_id
        incident.place_id = incident.place_id or next(
            (r.place_id for r in new if r.place_id is not None), None
        )
        incident.place = incident.place or next((r.place for r in new if r.place), "")
        text = next((r.description for r in new if r.description), "")
        incident.summary = incident.summary or text[:SUMMARY_CHARS]
        incident.device_kinds = sorted(
            set(incident.device_kinds or [])
            | {kinds[r.device_id] for r in new if r.device_id in kinds}
        )
        incident.updated_at = utcnow()
        follow_status(org_id, incident, new)


def take_seed(heads: dict[uuid.UUID, list[Report]]) -> None:
    """Name incidents after their new seed, a twin of the old one (`analysis.twins`).

    What `summarise` would give: in title order the new seed now comes first (the anchor),
    then the real reports of that second whose ids lie between the two seeds, then the old
    seed and the rest as before. `heads` holds, per incident, those first reports in that
    order (the new seed first); each field one of them has comes from the first that has
    it, the others stay. Call after `absorb` has counted the newcomers.
    """
    if not heads:
        return
    for incident in db.session.scalars(select(Incident).where(Incident.id.in_(list(heads)))):
        head = heads[incident.id]
        incident.category_code = head[0].category_code
        located = next((r for r in head if r.lat is not None), None)
        if located is not None:
            incident.lat, incident.lon, incident.area_id = located.lat, located.lon, located.area_id
        elif incident.lat is None:
            incident.area_id = head[0].area_id  # nobody has a position: the anchor's area
        incident.place_id = next(
            (r.place_id for r in head if r.place_id is not None), incident.place_id
        )
        incident.place = next((r.place for r in head if r.place), incident.place)
        text = next((r.description for r in head if r.description), "")
        incident.summary = text[:SUMMARY_CHARS] or incident.summary


def refresh_incidents(org_id: int, incident_ids: set[uuid.UUID]) -> int:
    """Recompute the summaries of these incidents; drop the automatic ones left empty.

    Works chunk by chunk; a large job (every incident, after an area import) writes and
    lets go of each chunk's rows, so memory stays bounded on a store of millions.
    """
    if not incident_ids:
        return 0
    urgent = urgent_codes()
    removed = 0
    ids = list(incident_ids)
    large = len(ids) > REFRESH_CHUNK
    for first in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[first : first + REFRESH_CHUNK]
        members: dict[uuid.UUID, list[Report]] = {i: [] for i in chunk}
        for report in db.session.scalars(
            select(Report)
            .where(Report.incident_id.in_(chunk))
            .order_by(Report.created_at, Report.id)
            .options(*UNUSED_BY_GROUPING)
        ):
            members[report.incident_id].append(report)  # type: ignore[index]
        kinds = device_kinds({r.device_id for rows in members.values() for r in rows})
        incidents = list(db.session.scalars(select(Incident).where(Incident.id.in_(chunk))))
        for incident in incidents:
            rows = members[incident.id]
            if not rows:
                db.session.delete(incident)
                removed += 1
                continue
            summarise(incident, rows, urgent, kinds)
            follow_status(org_id, incident, rows)
        if large:
            db.session.flush()
            for obj in [*incidents, *(r for rows in members.values() for r in rows)]:
                if obj in db.session:
                    db.session.expunge(obj)
    return removed


def refresh_loaded(org_id: int, members: dict[uuid.UUID, list[Report]]) -> None:
    """Recompute incidents from rows already loaded that are ALL their members."""
    if not members:
        return
    urgent = urgent_codes()
    kinds = device_kinds({r.device_id for rows in members.values() for r in rows})
    for incident in db.session.scalars(select(Incident).where(Incident.id.in_(list(members)))):
        rows = sorted(members[incident.id], key=lambda r: (r.created_at, r.id))
        summarise(incident, rows, urgent, kinds)
        follow_status(org_id, incident, rows)


def summarise(
    incident: Incident,
    members: list[Report],
    urgent_codes: set[str],
    kinds: dict[int, str] | None = None,
) -> None:
    """Copy what lists need from the member reports onto the incident row.

    The name (category, place, summary) and the position come from the reports in title
    order (server.incidents.title): never from a calm round while a real report is there.
    """
    ordered = title_order(members, incident.seed_id)
    anchor = ordered[0]
    named = headline(members, incident.seed_id)
    incident.category_code = named.category_code
    incident.first_at = members[0].created_at
    incident.last_at = members[-1].created_at
    incident.report_count = len(members)
    severities = [m.severity for m in members if m.severity is not None]
    incident.max_severity = max(severities) if severities else None
    incident.urgent = any(m.category_code in urgent_codes for m in members) or (
        incident.max_severity is not None and incident.max_severity >= URGENT_SEVERITY
    )
    located = next((m for m in ordered if m.lat is not None), None)
    incident.lat = located.lat if located else None
    incident.lon = located.lon if located else None
    incident.area_id = located.area_id if located else anchor.area_id
    incident.place_id = next((m.place_id for m in ordered if m.place_id is not None), None)
    incident.place = named.place
    incident.summary = named.summary
    kinds = kinds if kinds is not None else device_kinds({m.device_id for m in members})
    incident.device_kinds = sorted({kinds[m.device_id] for m in members if m.device_id in kinds})
    incident.updated_at = utcnow()


def follow_status(org_id: int, incident: Incident, members: list[Report]) -> None:
    """Give member reports the incident's status, so their devices pull it."""
    behind = [m for m in members if m.status != incident.status]
    if not behind:
        return
    first = take_seqs(org_id, len(behind))
    now = utcnow()
    for offset, report in enumerate(behind):
        report.status = incident.status
        report.change_seq = first + offset
        report.version += 1
        report.updated_at = now

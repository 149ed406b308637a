"""Take the cheap re-key when a new report is its incident seed's twin (`analysis.twins`).

A pass's shortcut (`grouping._fast`) groups the pending reports against the open incidents'
anchors. A pending report that sorts before a seed it matches starts an incident of its
own there, and the shortcut used to give up: the full path then regrouped the whole
incident, every member checked against the new anchor. When the new report is the seed's
twin, the grouping of everything is the stored one with the incident renamed, so the pass
only hands the incident its new seed. This module gathers what `analysis.twins.twin_seed`
needs from the database: the stored reports of that second between the two ids and the
pinned ones, whether pinned reports carry the seed's key, and whether the new id is a key
already.
"""

from __future__ import annotations

import uuid
from collections.abc import Set as AbstractSet
from contextlib import suppress

from sqlalchemy import and_, or_, select

from analysis.grouping import ReportPoint
from analysis.grouping_rules import Rules
from analysis.local_grouping import StoredReport
from analysis.twins import is_twin, place_reach, twin_seed
from server.categories import CALM
from server.extensions import db
from server.incidents.models import Incident
from server.reports.models import Report

# What the twin check reads of a report around the two ids.
_COLUMNS = (
    Report.id,
    Report.created_at,
    Report.category_code,
    Report.lat,
    Report.lon,
    Report.place,
    Report.incident_id,
    Report.incident_pinned,
)


def take_over(
    org_id: int,
    new: Report,
    window: list[Report],
    seeds: dict[uuid.UUID, uuid.UUID],
    rules: Rules,
    closed: AbstractSet[str],
) -> Report | None:
    """Return the seed report whose incident the new report takes over by renaming, or None.

    `window` holds the pass's rows (its pending reports and the anchors they reach), `seeds`
    each loaded incident's key.
    """
    if new.category_code == CALM:
        # A calm round never names an incident (server.incidents.title), so a calm seed's
        # name would not simply pass to its twin; custom rules may let calm rounds group.
        return None
    point = _point(new)
    seeds_here = [
        r for r in window if r.incident_id is not None and seeds.get(r.incident_id) == r.id
    ]
    # Twins by position (any place text) include the strict twins (the same place text).
    at_spot = [r for r in seeds_here if is_twin(point, _point(r), rules, positions_only=True)]
    candidates = [r for r in at_spot if is_twin(point, _point(r), rules)]
    positions_only = False
    if at_spot and not candidates:
        # Another place text at the same position: a twin when no report without one is
        # within reach in time (read only when a seed stands at that very spot).
        positions_only = _places_unread(org_id, new, rules)
        candidates = at_spot if positions_only else []
    if not candidates:
        return None
    old = min(candidates, key=lambda r: str(r.id))
    around = _around(org_id, new, old)
    same_second = [StoredReport(_point(old), str(old.id), old.incident_pinned), *around]
    key = twin_seed(
        point,
        same_second,
        rules,
        closed,
        _pinned_key(old),
        _key_in_use(org_id, new.id),
        positions_only,
    )
    return old if key == str(old.id) else None


def _places_unread(org_id: int, new: Report, rules: Rules) -> bool:
    """Tell whether no report without a position is within reach in time (`places_unread`).

    Stored and waiting reports alike: the queue is rows of the same table.
    """
    related, window = place_reach(new.category_code, rules)
    where = [
        Report.org_id == org_id,
        Report.lat.is_(None),
        Report.category_code.in_(sorted(related)),
    ]
    # A custom rule's window may reach past the calendar's ends: no bound on that side.
    with suppress(OverflowError):
        where.append(Report.created_at >= new.created_at - window)
    with suppress(OverflowError):
        where.append(Report.created_at <= new.created_at + window)
    return db.session.scalar(select(Report.id).where(*where).limit(1)) is None


def _around(org_id: int, new: Report, old: Report) -> list[StoredReport]:
    """Return the grouped reports of that second with an id between the two, or pinned.

    What `twin_seed` needs: an unpinned report can anchor an incident only under its own
    id as the key, so of the keys between the two ids only pinned reports' can matter.
    One read through the organisation's time index: in the field a second holds a report
    or two; the ingest benchmark's one scene holds tens of thousands.
    """
    rows = db.session.execute(
        select(*_COLUMNS, Incident.seed_id)
        .join(Incident, Incident.id == Report.incident_id)
        .where(
            Report.org_id == org_id,
            Report.created_at == new.created_at,
            or_(and_(Report.id > new.id, Report.id < old.id), Report.incident_pinned),
        )
    ).all()
    return [
        StoredReport(
            ReportPoint(
                str(row.id), row.created_at, row.category_code, row.lat, row.lon, row.place or ""
            ),
            str(row.seed_id),
            row.incident_pinned,
        )
        for row in rows
    ]


def _pinned_key(old: Report) -> set[str]:
    """Return the old seed's key when a pinned report carries it (a coordinator's decision)."""
    pinned = db.session.scalar(
        select(Report.id)
        # `== True`, not `is_(True)`: it renders as the partial index's own condition.
        .where(Report.incident_id == old.incident_id, Report.incident_pinned == True)  # noqa: E712
        .limit(1)
    )
    return set() if pinned is None else {str(old.id)}


def _key_in_use(org_id: int, rid: uuid.UUID) -> set[str]:
    """Return the new report's id when an incident is keyed by it already."""
    used = db.session.scalar(
        select(Incident.id).where(Incident.org_id == org_id, Incident.seed_id == rid).limit(1)
    )
    return set() if used is None else {str(rid)}


def _point(r: Report) -> ReportPoint:
    """Describe a report to the pure grouping."""
    return ReportPoint(str(r.id), r.created_at, r.category_code, r.lat, r.lon, r.place or "")

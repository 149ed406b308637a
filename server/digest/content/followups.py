"""Follow-ups: open incidents from before the period, and who owns them.

Open incidents first reported in the `FOLLOWUP_DAYS` before the period (those with reports
in the period are in its own list instead), at most `FOLLOWUP_LIMIT` shown with the number
of the rest.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from server.categories import NOT_INCIDENTS
from server.digest.content.items import incident_item
from server.digest.content.model import FollowUps
from server.extensions import db
from server.incidents.models import CLOSED_STATUSES, INCIDENT_STATUSES, Incident

FOLLOWUP_DAYS = 90
FOLLOWUP_LIMIT = 30
OPEN_STATUSES = tuple(s for s in INCIDENT_STATUSES if s not in CLOSED_STATUSES)


def followups_of(
    org_id: int,
    start: datetime,
    areas: dict[int, str],
    places: dict[int, str],
    listed: set[uuid.UUID],
) -> FollowUps:
    """Return open incidents first reported in the FOLLOWUP_DAYS before the period.

    Incidents with reports in the period are left out: the period's own list shows them
    (with their status and owner).
    """
    since = start - timedelta(days=FOLLOWUP_DAYS)
    where = [
        Incident.org_id == org_id,
        Incident.first_at >= since,
        Incident.first_at < start,
        # IN (the open statuses) rather than NOT IN (the closed ones): an index on the
        # status can serve it.
        Incident.status.in_(OPEN_STATUSES),
        Incident.category_code.not_in(sorted(NOT_INCIDENTS)),
    ]
    if listed:
        where.append(Incident.id.not_in(sorted(listed)))
    by_responsible = db.session.execute(
        select(Incident.responsible, func.count()).where(*where).group_by(Incident.responsible)
    ).all()
    total = sum(int(n) for _, n in by_responsible)
    # Owned or in progress first (oldest first: longest waiting), then urgent ones (oldest
    # first), then the rest, newest first.
    rank = case(
        ((Incident.responsible.is_not(None)) | (Incident.status == "atgard_pagar"), 0),
        (Incident.urgent.is_(True), 1),
        else_=2,
    )
    oldest_first = case((rank < 2, Incident.first_at), else_=None)
    chosen = (
        list(
            db.session.scalars(
                select(Incident)
                .where(*where)
                .order_by(rank, oldest_first, Incident.first_at.desc(), Incident.id)
                .limit(FOLLOWUP_LIMIT)
            )
        )
        if total
        else []
    )
    items = tuple(incident_item(i, (), {}, areas, places, set()) for i in chosen)
    return FollowUps(
        items=items,
        total=total,
        since=since,
        by_responsible=tuple(
            sorted(
                ((r, int(n)) for r, n in by_responsible),
                key=lambda pair: (pair[0] is None, pair[0] or ""),
            )
        ),
    )

"""Load the anchors a grouping pass needs: the open incidents' seed reports within reach.

Before the pass's start (`since`) only anchors matter: an open incident's seed report (or,
for one whose seed left it, its earliest member) whose category window still reaches the
reports being grouped. Of those, only the anchors some report of the pass could match (by
position or place, `analysis.anchor_index.Neighbourhood`) and those of incidents the
pass's reports are in are loaded as rows: a night has thousands of open incidents, and
loading every seed on every pass made each pass cost the whole night.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from analysis.anchor_index import Neighbourhood
from analysis.grouping import normalise_place
from analysis.grouping_rules import Rules
from server.extensions import db
from server.incidents.models import Incident
from server.incidents.summary import UNUSED_BY_GROUPING
from server.reports.models import Report


def anchors(
    org_id: int,
    since: datetime,
    until: datetime,
    categories: set[str],
    rules: Rules,
    loaded: list[Report],
) -> list[Report]:
    """Load the anchor reports of incidents begun before `until` that still reach `since`."""
    ids = anchor_ids(org_id, since, until, categories, rules, loaded)
    if not ids:
        return []
    return list(
        db.session.scalars(select(Report).where(Report.id.in_(ids)).options(*UNUSED_BY_GROUPING))
    )


def anchor_ids(
    org_id: int,
    since: datetime,
    until: datetime,
    categories: set[str],
    rules: Rules,
    loaded: list,
) -> list[uuid.UUID]:
    """Return the ids of the anchors `anchors` loads; `loaded` may be light rows."""
    reach = {c: rules.rule_for(c).window for c in categories if rules.rule_for(c).groups}
    if not reach:
        return []
    incidents = db.session.execute(
        select(Incident.id, Incident.seed_id, Incident.category_code, Incident.first_at).where(
            Incident.org_id == org_id,
            # Each category's own window: one long window (a week for litter) must not
            # bring in every short-lived incident of the week.
            or_(
                *(
                    and_(Incident.category_code == code, Incident.first_at >= since - window)
                    for code, window in sorted(reach.items())
                )
            ),
            Incident.first_at <= until,
        )
    ).all()
    have = {r.id for r in loaded}
    # Incidents whose seed report is already loaded need no anchor from here.
    seed_of = {
        i.id: i.seed_id
        for i in incidents
        if i.first_at >= since - reach[i.category_code] and i.seed_id not in have
    }
    if not seed_of:
        return []
    # An anchor is the incident's seed report while that report is still one of its members.
    # Read light rows first: most seeds are far from every report of the pass.
    light = [
        row
        for row in db.session.execute(
            select(
                Report.id,
                Report.incident_id,
                Report.category_code,
                Report.lat,
                Report.lon,
                Report.place,
            ).where(Report.id.in_(list(seed_of.values())))
        )
        if row.incident_id is not None and seed_of.get(row.incident_id) == row.id
    ]
    wanted = _within_reach(light, loaded, rules)
    # Incidents whose seed left them (split, move): their earliest member anchors.
    orphans = set(seed_of) - {row.incident_id for row in light}
    if not orphans:
        return wanted
    firsts = (
        select(Report.incident_id, func.min(Report.created_at).label("first"))
        .where(Report.incident_id.in_(orphans))
        .group_by(Report.incident_id)
        .subquery()
    )
    return wanted + list(
        db.session.scalars(
            select(Report.id).join(
                firsts,
                (Report.incident_id == firsts.c.incident_id)
                & (Report.created_at == firsts.c.first),
            )
        )
    )


def with_anchors(window: list[Report], anchors: list[Report]) -> list[Report]:
    """Merge reports and anchors without duplicates, in the grouping's order."""
    unique = {r.id: r for r in [*window, *anchors]}
    return sorted(unique.values(), key=lambda r: (r.created_at, str(r.id)))


def _within_reach(light: list, loaded: list, rules: Rules) -> list[uuid.UUID]:
    """Return the seeds some loaded report could match, or whose incident one is in."""
    # The pass's own reports keep their incidents' anchors whatever the distance: a
    # report pinned into an incident must find that incident's anchor, not become it.
    member_of = {r.incident_id for r in loaded if r.incident_id is not None}
    radius = {row.category_code: rules.rule_for(row.category_code).radius_m for row in light}
    near = Neighbourhood(
        ((r.lat, r.lon, normalise_place(r.place or "")) for r in loaded),
        max(radius.values(), default=0.0),
    )
    return [
        row.id
        for row in light
        if row.incident_id in member_of
        or near.reaches(
            row.lat, row.lon, normalise_place(row.place or ""), radius[row.category_code]
        )
    ]

"""Build one organisation's digest of one period from the database."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime

from flask import current_app, has_app_context
from sqlalchemy import select

from analysis.calendar import STOCKHOLM, period_for
from server.categories.models import Category
from server.digest.content.comparison import trends_of
from server.digest.content.followups import followups_of
from server.digest.content.items import (
    ACTION_LIMIT,
    by_area,
    incident_item,
    needing_action,
    to_list,
)
from server.digest.content.model import CALM, CategoryInfo, Digest
from server.digest.content.recurring import recurring
from server.digest.content.reporting import calm_of, device_alerts, kind_counts
from server.digest.content.rows import (
    ReportRow,
    device_kinds,
    load_incidents,
    period_reports,
    stored_photos,
)
from server.extensions import db
from server.geography.models import Area, NamedPlace
from server.orgs.models import Organisation
from sync.clock import utcnow


def build_digest(org_id: int, kind: str, day: date, *, now: datetime | None = None) -> Digest:
    """Build the organisation's digest of the period `period_for(kind, day)`.

    `now` is the moment the digest describes (default: the current time): device states
    reported after it are not used. Raises LookupError for an unknown organisation.
    """
    tz = STOCKHOLM
    start, end = period_for(kind, day, tz)
    now = now or utcnow()
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    categories = {
        c.code: CategoryInfo(c.code, c.label_sv, c.label_en, c.urgent, c.sort_order)
        for c in db.session.scalars(select(Category))
    }
    areas: dict[int, str] = dict(
        db.session.execute(select(Area.id, Area.name).where(Area.org_id == org_id)).all()
    )
    places: dict[int, str] = dict(
        db.session.execute(
            select(NamedPlace.id, NamedPlace.name).where(NamedPlace.org_id == org_id)
        ).all()
    )
    rows = period_reports(org_id, start, end)
    kinds = device_kinds(org_id, {r.device_id for r in rows})
    incidents = load_incidents(org_id, {r.incident_id for r in rows if r.incident_id is not None})
    present = stored_photos(org_id, {sha for r in rows for sha in r.photos})

    by_incident: dict[uuid.UUID, list[ReportRow]] = defaultdict(list)
    for r in rows:
        if r.incident_id is not None:
            by_incident[r.incident_id].append(r)
    items = [
        incident_item(incident, by_incident[incident.id], kinds, areas, places, present)
        for incident in incidents
        if incident.category_code != CALM
    ]
    action_all = needing_action(items, categories)
    listed = to_list(items, kind)
    unsent, silent = device_alerts(org_id, kind, start, end, now, rows)
    found, places_total = recurring(org_id, start, end, rows, areas, places)
    return Digest(
        org_id=org_id,
        org_name=org.name,
        kind=kind,
        day=day,
        start=start,
        end=end,
        tz=tz.key,
        generated_at=now,
        reports=len(rows),
        incidents=len(items),
        action=tuple(action_all[:ACTION_LIMIT]),
        action_total=len(action_all),
        reporting=kind_counts(rows, kinds),
        unsent=unsent,
        silent=silent,
        areas=by_area(listed, rows, areas),
        unlisted=len(items) - len(listed),
        trends=trends_of(org_id, kind, day, tz, areas, categories),
        places=found,
        places_total=places_total,
        followups=followups_of(org_id, start, areas, places, {i.id for i in incidents}),
        calm=calm_of(rows, kinds),
        categories=categories,
        data_dir=current_app.config.get("DATA_DIR") if has_app_context() else None,
    )

"""Build one organisation's digest of one period from the database.

The digest reads with the organisation's scope: its own items, plus what the agreements in
force when it is built share with it (server.sharing). Shared incidents at `reports` or
`full` are items marked with their owner; `counts` only adds to the numbers. The sections
about the organisation's own work — its devices, its recurring places, its open
follow-ups — stay its own: another organisation's status and responsibility are not this
one's to follow up.
"""

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
from server.digest.content.model import CategoryInfo, Digest
from server.digest.content.overdue import overdue_actions, plan_counts
from server.digest.content.purged import purged_last_night
from server.digest.content.recurring import recurring
from server.digest.content.reporting import device_alerts, kind_counts
from server.digest.content.rounds import rounds_of
from server.digest.content.rows import (
    ReportRow,
    device_kinds,
    load_incidents,
    period_reports,
    stored_photos_of,
)
from server.digest.content.shared import area_names, owners_of, place_names, scope_key
from server.digest.content.tally import kept_apart, tally
from server.extensions import db
from server.orgs.models import Organisation
from server.sharing.rules import Scope
from server.sharing.scope import scope_for
from sync.clock import utcnow


def build_digest(
    org_id: int,
    kind: str,
    day: date,
    *,
    now: datetime | None = None,
    scope: Scope | None = None,
) -> Digest:
    """Build the organisation's digest of the period `period_for(kind, day)`.

    `now` is the moment the digest describes (default: the current time): device states
    reported after it are not used. `scope` is what the digest may read (default: the
    coordinator's, from the agreements in force now). Raises LookupError for an unknown
    organisation.
    """
    tz = STOCKHOLM
    start, end = period_for(kind, day, tz)
    now = now or utcnow()
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    scope = scope if scope is not None else scope_for(org_id)
    if scope.viewer != org_id:
        raise ValueError(f"a scope of organisation {scope.viewer} cannot build {org_id}'s digest")
    categories = {
        c.code: CategoryInfo(c.code, c.label_sv, c.label_en, c.urgent, c.sort_order)
        for c in db.session.scalars(select(Category))
    }
    owners = owners_of(scope)
    areas = area_names(scope, owners)
    places = place_names(scope)
    rows = period_reports(scope, start, end)
    own_rows = [r for r in rows if r.org_id == org_id]
    kinds = device_kinds(scope.owners("reports"), {r.device_id for r in rows})
    incidents = load_incidents(scope, {r.incident_id for r in rows if r.incident_id is not None})
    present = stored_photos_of(rows)

    by_incident: dict[uuid.UUID, list[ReportRow]] = defaultdict(list)
    for r in rows:
        if r.incident_id is not None:
            by_incident[r.incident_id].append(r)
    items = [
        incident_item(
            incident,
            by_incident[incident.id],
            kinds,
            areas,
            places,
            present,
            viewer=org_id,
            # load_incidents kept only incidents shared at `reports` or more; should the
            # scope still say nothing, the item falls back to the level without free text.
            detail=scope.detail(incident.org_id, incident.category_code, incident.area_id)
            or "reports",
        )
        for incident in incidents
        if not kept_apart(incident.category_code)
    ]
    # Counted as the night view counts them (`tally`): calm rounds apart, not incidents.
    counted = tally(rows, incidents, kinds)
    action_all = needing_action(items, categories)
    listed = to_list(items, kind)
    unsent, silent = device_alerts(org_id, kind, start, end, now, own_rows)
    found, places_total = recurring(org_id, start, end, own_rows, areas, places)
    return Digest(
        org_id=org_id,
        org_name=org.name,
        kind=kind,
        day=day,
        start=start,
        end=end,
        tz=tz.key,
        generated_at=now,
        reports=counted.reports,
        incidents=counted.incidents,
        action=tuple(action_all[:ACTION_LIMIT]),
        action_total=len(action_all),
        reporting=kind_counts(own_rows, kinds),
        unsent=unsent,
        silent=silent,
        areas=by_area(listed, rows, areas),
        unlisted=len(items) - len(listed),
        trends=trends_of(scope, kind, day, tz, areas, categories),
        places=found,
        places_total=places_total,
        followups=followups_of(
            org_id, start, areas, places, {i.id for i in incidents if i.org_id == org_id}
        ),
        calm=counted.calm,
        categories=categories,
        data_dir=current_app.config.get("DATA_DIR") if has_app_context() else None,
        owners=owners,
        scope_key=scope_key(scope),
        purged=purged_last_night(org_id, kind, day),
        overdue_actions=overdue_actions(org_id, day),
        action_plan=plan_counts(org_id, kind, start, end, day),
        rounds=rounds_of(org_id, start, end, now),
    )

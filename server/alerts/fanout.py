"""Opening alerts and recording deliveries, exactly once across workers and hosts.

An alert is one urgency episode of an incident, unique on (incident_id, episode): every
worker may try to insert it and one insert wins. A delivery is one (alert, subscription),
unique too, so a resent report, a second worker or a repeated escalation never adds a
second message for the same browser.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from server.alerts import rota, subscriptions
from server.alerts.models import Alert, AlertDelivery
from server.db import phase
from server.extensions import db
from server.incidents.models import CLOSED_STATUSES, Incident

log = logging.getLogger("lagesbild.alerts")

# Only incidents with a report this recent (device time) and touched this recently
# (server time) open an alert: an area import that refreshes old incidents must not wake
# anybody for last month's fire, while a phone that was offline for hours still does.
WINDOW = timedelta(hours=24)


def deliver(alert: Alert, level: rota.Level, now: datetime) -> int:
    """Add the pending deliveries of one level to the open transaction; return how many.

    Subscriptions this alert already reached (a person on two levels) are left out.
    """
    have = set(
        db.session.scalars(
            select(AlertDelivery.subscription_id).where(AlertDelivery.alert_id == alert.id)
        )
    )
    added = 0
    for sub in subscriptions.active_of(level.person_ids):
        if sub.id in have:
            continue
        db.session.add(
            AlertDelivery(
                alert_id=alert.id,
                subscription_id=sub.id,
                level=level.position,
                status="pending",
                next_try_at=now,
            )
        )
        added += 1
    db.session.flush()
    return added


def open_alerts(now: datetime) -> list[int]:
    """Open an alert for each urgent incident of an organisation with a rota; end stale ones."""
    opened: list[int] = []
    with phase("read"):
        orgs = rota.orgs_in_use()
    for org_id in orgs:
        _end_stale(org_id, now)
        with phase("read"):
            levels = rota.load(org_id).levels
            candidates = list(
                db.session.scalars(
                    select(Incident)
                    .where(
                        Incident.org_id == org_id,
                        Incident.last_at >= now - WINDOW,
                        Incident.urgent.is_(True),
                        Incident.status.not_in(CLOSED_STATUSES),
                        Incident.updated_at >= now - WINDOW,
                    )
                    .order_by(Incident.first_at, Incident.id)
                )
            )
            if not candidates:
                continue
            ids = [i.id for i in candidates]
            # One statement, so one snapshot on PostgreSQL (READ COMMITTED gives each
            # statement its own): read apart, another host's alert committed in between
            # was missing from "covered" but counted in the episodes, and a second
            # episode was opened beside it instead of hitting the unique key.
            rows = db.session.execute(
                select(
                    Alert.incident_id,
                    func.max(Alert.episode),
                    func.sum(case((Alert.ended_at.is_(None), 1), else_=0)),
                )
                .where(Alert.incident_id.in_(ids))
                .group_by(Alert.incident_id)
            ).all()
            covered = {iid for iid, _, still_open in rows if still_open}
            episodes = {iid: episode for iid, episode, _ in rows}
        if not levels:
            continue
        for incident in candidates:
            if incident.id in covered:
                continue
            alert_id = _open(incident, episodes.get(incident.id, 0) + 1, levels, now)
            if alert_id is not None:
                opened.append(alert_id)
    return opened


def _open(incident: Incident, episode: int, levels: list[rota.Level], now: datetime) -> int | None:
    """Insert the alert and level 1's deliveries in one transaction; None when another won."""
    last = len(levels) == 1
    try:
        with phase("write"):
            alert = Alert(
                org_id=incident.org_id,
                incident_id=incident.id,
                episode=episode,
                category_code=incident.category_code,
                area_id=incident.area_id,
                opened_at=now,
                level=1,
                next_at=None if last else now + timedelta(minutes=levels[0].minutes),
                # The last level is e-mailed as well as pushed (here level 1 is the last).
                mail_state="pending" if last else "none",
            )
            db.session.add(alert)
            db.session.flush()
            count = deliver(alert, levels[0], now)
            alert_id = alert.id
    except IntegrityError:
        # Another worker or host opened this episode first: theirs stands.
        db.session.rollback()
        return None
    log.info("alert %s opened for incident %s: %s deliveries", alert_id, incident.id, count)
    return alert_id


def _end_stale(org_id: int, now: datetime) -> None:
    """End the open alerts whose incident is no longer urgent or was closed."""
    with phase("read"):
        stale = list(
            db.session.scalars(
                select(Alert.id)
                .join(Incident, Incident.id == Alert.incident_id)
                .where(
                    Alert.org_id == org_id,
                    Alert.ended_at.is_(None),
                    Incident.urgent.is_(False) | Incident.status.in_(CLOSED_STATUSES),
                )
            )
        )
    if not stale:  # the common case: no write at all
        return
    with phase("write"):
        db.session.execute(
            update(Alert)
            .where(Alert.id.in_(stale), Alert.ended_at.is_(None))
            .values(ended_at=now, next_at=None)
            .execution_options(synchronize_session=False)
        )

"""Acknowledging an alert ("Kvittera"): stops its escalation, goes into the incident's
timeline with who and when, and reaches the reporting phones on their next pull."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update

from server.alerts.models import Alert, AlertDelivery
from server.audit import service as audit
from server.audit.service import Actor
from server.auth.models import Person
from server.domain_errors import NotFound
from server.extensions import db
from server.incidents.models import IncidentEvent


def alert_of(org_id: int, alert_id: int) -> Alert:
    """Return the organisation's alert; another organisation's or none is NotFound."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.org_id != org_id:
        raise NotFound("no_alert", "No such alert.")
    return alert


def latest_of(org_id: int, incident_id: uuid.UUID) -> Alert | None:
    """Return the incident's latest alert (its current or last urgency episode), if any."""
    return db.session.scalar(
        select(Alert)
        .where(Alert.org_id == org_id, Alert.incident_id == incident_id)
        .order_by(Alert.episode.desc())
        .limit(1)
    )


def acknowledge(person: Person, alert_id: int, now: datetime, address: str | None = None) -> bool:
    """Acknowledge in the open transaction; False when somebody already had (no new event)."""
    alert = alert_of(person.org_id, alert_id)
    won = db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=person.id, next_at=None)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return False
    # Messages not sent yet would only wake somebody for what is already handled.
    db.session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.alert_id == alert.id, AlertDelivery.status == "pending")
        .values(status="skipped")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.mail_state == "pending")
        .values(mail_state="none")
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        IncidentEvent(
            incident_id=alert.incident_id,
            at=now,
            actor_id=person.id,
            kind="acknowledged",
            data={"alert": alert.id, "level": alert.level},
        )
    )
    audit.add(alert.org_id, "alert.acknowledge", str(alert.incident_id), Actor(person.id, address))
    db.session.flush()
    db.session.refresh(alert)
    return True

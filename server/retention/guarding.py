"""The purge's batches for guard rounds and urgent alerts, and their dry-run counts.

Checkpoint scans hold the phone's position and round runs the guard's free-text end
reason: they go with the organisation's report retention (`report_days`), as reports do.
An alert (with its deliveries, which name the on-call persons' subscriptions) goes when it
was opened before that cutoff or its incident is gone. The alert batch runs before the
report batches: an incident the purge empties would take its alerts with it uncounted
(the foreign key cascades).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select

from server.alerts.models import Alert, AlertDelivery
from server.extensions import db
from server.incidents.models import Incident
from server.rounds.models import CheckpointScan, RoundRun


def _old_scans(org_id: int, before: datetime) -> list[ColumnElement[bool]]:
    """Return the conditions of the organisation's scans made before a moment."""
    return [CheckpointScan.org_id == org_id, CheckpointScan.scanned_at < before]


def _old_runs(org_id: int, before: datetime) -> list[ColumnElement[bool]]:
    """Return the conditions of the organisation's round runs started before a moment."""
    return [RoundRun.org_id == org_id, RoundRun.started_at < before]


def _old_alerts(org_id: int, before: datetime) -> list[ColumnElement[bool]]:
    """Return the conditions of the organisation's alerts opened before a moment or orphaned."""
    incident_gone = ~select(Incident.id).where(Incident.id == Alert.incident_id).exists()
    return [Alert.org_id == org_id, or_(Alert.opened_at < before, incident_gone)]


def delete_scans(org_id: int, before: datetime, limit: int) -> int:
    """Delete up to `limit` checkpoint scans made before `before`; return how many."""
    ids = list(
        db.session.scalars(
            select(CheckpointScan.id).where(*_old_scans(org_id, before)).limit(limit)
        )
    )
    if ids:
        db.session.execute(delete(CheckpointScan).where(CheckpointScan.id.in_(ids)))
    return len(ids)


def delete_runs(org_id: int, before: datetime, limit: int) -> int:
    """Delete up to `limit` round runs started before `before`; return how many."""
    ids = list(
        db.session.scalars(select(RoundRun.id).where(*_old_runs(org_id, before)).limit(limit))
    )
    if ids:
        db.session.execute(delete(RoundRun).where(RoundRun.id.in_(ids)))
    return len(ids)


def delete_alerts(org_id: int, before: datetime, limit: int) -> tuple[int, int]:
    """Delete up to `limit` alerts due to go, their deliveries first; return both counts."""
    ids = list(
        db.session.scalars(select(Alert.id).where(*_old_alerts(org_id, before)).limit(limit))
    )
    if not ids:
        return 0, 0
    deliveries = db.session.execute(delete(AlertDelivery).where(AlertDelivery.alert_id.in_(ids)))
    db.session.execute(delete(Alert).where(Alert.id.in_(ids)))
    return len(ids), int(deliveries.rowcount or 0)


def count(org_id: int, before: datetime) -> dict[str, int]:
    """Count what the batches would delete before `before` (the dry run)."""
    old_alerts = select(Alert.id).where(*_old_alerts(org_id, before))

    def n(query: object) -> int:
        return int(db.session.scalar(query) or 0)

    return {
        "scans_deleted": n(
            select(func.count()).select_from(CheckpointScan).where(*_old_scans(org_id, before))
        ),
        "round_runs_deleted": n(
            select(func.count()).select_from(RoundRun).where(*_old_runs(org_id, before))
        ),
        "alerts_deleted": n(select(func.count()).select_from(old_alerts.subquery())),
        "alert_deliveries_deleted": n(
            select(func.count())
            .select_from(AlertDelivery)
            .where(AlertDelivery.alert_id.in_(old_alerts))
        ),
    }

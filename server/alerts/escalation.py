"""Escalation: when nobody acknowledged in time, the next level of the rota is told.

Every worker on every host looks for due alerts; a compare-and-set UPDATE from the level
it read to the next decides the one that escalates (the others' UPDATE changes no row),
and the deliveries are added in the same transaction. The last level is e-mailed too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from server.alerts import fanout, rota
from server.alerts.models import Alert
from server.db import phase
from server.extensions import db

log = logging.getLogger("lagesbild.alerts")


def escalate_due(now: datetime) -> list[tuple[int, int]]:
    """Escalate every due, unacknowledged alert by one level; return (alert, new level)."""
    with phase("read"):
        due = list(
            db.session.execute(
                select(Alert.id, Alert.org_id, Alert.level)
                .where(
                    Alert.next_at.is_not(None),
                    Alert.next_at <= now,
                    Alert.acknowledged_at.is_(None),
                    Alert.ended_at.is_(None),
                )
                .order_by(Alert.next_at, Alert.id)
            )
        )
    done = []
    for alert_id, org_id, level in due:
        if _escalate(alert_id, org_id, level, now):
            done.append((alert_id, level + 1))
    return done


def _escalate(alert_id: int, org_id: int, level: int, now: datetime) -> bool:
    """Move one alert from `level` to the next, once; False when another process did."""
    with phase("write"):
        levels = rota.load(org_id).levels
        target = level + 1
        if target > len(levels):
            # The rota shrank since: nobody further to tell.
            db.session.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.level == level)
                .values(next_at=None)
                .execution_options(synchronize_session=False)
            )
            return False
        last = target == len(levels)
        values: dict[str, object] = {
            "level": target,
            "next_at": None if last else now + timedelta(minutes=levels[target - 1].minutes),
        }
        if last:
            values["mail_state"] = "pending"
        won = db.session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.level == level,
                Alert.acknowledged_at.is_(None),
                Alert.ended_at.is_(None),
                Alert.next_at <= now,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return False
        alert = db.session.get(Alert, alert_id, populate_existing=True)
        assert alert is not None  # the UPDATE just matched it
        count = fanout.deliver(alert, levels[target - 1], now)
    log.info("alert %s escalated to level %s: %s deliveries", alert_id, target, count)
    return True

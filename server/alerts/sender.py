"""Sending pending deliveries, off the request path, each under a short lease.

A delivery is claimed by a compare-and-set UPDATE (pending, due, no live lease); the
claim counts the attempt. A worker that dies while sending leaves the row pending with a
lease that runs out, so another worker retries it: a crash loses no alert (at worst a
message goes twice, which the per-incident Topic and notification tag fold into one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from server.alerts import payload, subscriptions, vapid, webpush
from server.alerts.models import Alert, AlertDelivery, PushSubscription
from server.alerts.passclock import PassClock
from server.db import phase
from server.extensions import db

log = logging.getLogger("lagesbild.alerts")

# Each delivery is claimed just before it is sent, its lease running from that moment
# (PassClock): one send lasts at most webpush.TIMEOUT_SECONDS, well inside the lease,
# however long the batch before it took.
LEASE = timedelta(seconds=60)
BATCH = 200
MAX_ATTEMPTS = 8
# Backoff without Retry-After: 30 s, 1, 2, 4 … minutes, capped.
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=15)
# A message the push service would drop anyway (its TTL) is not tried after this.
GIVE_UP_AFTER = timedelta(seconds=webpush.TTL_SECONDS)


def backoff(attempts: int, retry_after: timedelta | None) -> timedelta:
    """Return the wait before the next attempt: the service's Retry-After, else doubling."""
    if retry_after is not None:
        return max(retry_after, timedelta(seconds=1))
    return min(FIRST_BACKOFF * (2 ** max(0, attempts - 1)), MAX_BACKOFF)


def _claim(delivery_id: int, now: datetime, owner: str) -> bool:
    """Take one due delivery under our lease; True only for the one winner."""
    with phase("write"):
        result = db.session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery_id,
                AlertDelivery.status == "pending",
                AlertDelivery.next_try_at <= now,
                or_(AlertDelivery.lease_until.is_(None), AlertDelivery.lease_until < now),
            )
            .values(
                lease_owner=owner,
                lease_until=now + LEASE,
                attempts=AlertDelivery.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _finish(delivery_id: int, owner: str, **values: Any) -> bool:
    """Record the outcome while we still hold the lease; release it."""
    with phase("write"):
        result = db.session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, AlertDelivery.lease_owner == owner)
            .values(lease_owner=None, lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if values.get("status") == "gone":
            sub_id = db.session.scalar(
                select(AlertDelivery.subscription_id).where(AlertDelivery.id == delivery_id)
            )
            if sub_id is not None:
                subscriptions.retire(sub_id)
    return result.rowcount == 1  # type: ignore[attr-defined]


def drain(
    now: datetime,
    owner: str,
    config: Mapping[str, Any],
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Send every due delivery this process can claim; return counts by outcome."""
    counts: dict[str, int] = {}
    if not vapid.configured(config):
        return counts
    with phase("read"):
        due = list(
            db.session.scalars(
                select(AlertDelivery.id)
                .where(
                    AlertDelivery.status == "pending",
                    AlertDelivery.next_try_at <= now,
                    or_(AlertDelivery.lease_until.is_(None), AlertDelivery.lease_until < now),
                )
                .order_by(AlertDelivery.next_try_at, AlertDelivery.id)
                .limit(BATCH)
            )
        )
    clock = PassClock(now)
    for delivery_id in due:
        if stop is not None and stop.is_set():
            break
        moment = clock()
        if not _claim(delivery_id, moment, owner):
            continue
        outcome = _send_one(delivery_id, moment, owner, config)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _send_one(delivery_id: int, now: datetime, owner: str, config: Mapping[str, Any]) -> str:
    """Send one claimed delivery and record what happened; return the outcome."""
    with phase("read"):
        delivery = db.session.get(AlertDelivery, delivery_id, populate_existing=True)
        assert delivery is not None  # claimed a moment ago
        alert = db.session.get(Alert, delivery.alert_id, populate_existing=True)
        sub = db.session.get(PushSubscription, delivery.subscription_id, populate_existing=True)
        assert alert is not None and sub is not None  # both cascade with the delivery
        message = payload.build(alert)
        target = webpush.Target(sub.endpoint, sub.p256dh, sub.auth)
        attempts = delivery.attempts
    if alert.acknowledged_at is not None:
        _finish(delivery_id, owner, status="skipped")
        return "skipped"
    if sub.retired_at is not None:
        _finish(delivery_id, owner, status="gone")
        return "gone"
    if now - alert.opened_at > GIVE_UP_AFTER:
        _finish(delivery_id, owner, status="failed", last_error="expired")
        return "failed"
    try:
        result = webpush.send(
            config, target, payload.encode(message), payload.topic(alert.incident_id), now
        )
    except vapid.KeyProblem as exc:
        log.error("alert delivery %s: the VAPID key cannot be used: %s", delivery_id, exc)
        _finish(delivery_id, owner, next_try_at=now + MAX_BACKOFF, last_error=str(exc)[:300])
        return "retry"
    if 200 <= result.status < 300:
        _finish(delivery_id, owner, status="sent", sent_at=now, last_status=result.status)
        return "sent"
    if result.status in (404, 410):
        _finish(delivery_id, owner, status="gone", last_status=result.status)
        return "gone"
    retryable = result.status in (0, 408, 429) or result.status >= 500
    if not retryable or attempts >= MAX_ATTEMPTS:
        log.warning("alert delivery %s failed: %s %s", delivery_id, result.status, result.error)
        _finish(
            delivery_id,
            owner,
            status="failed",
            last_status=result.status,
            last_error=(result.error or "")[:300],
        )
        return "failed"
    _finish(
        delivery_id,
        owner,
        next_try_at=now + backoff(attempts, result.retry_after),
        last_status=result.status,
        last_error=(result.error or "")[:300],
    )
    return "retry"

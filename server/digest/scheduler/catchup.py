"""What is due, and when to try again: catch-up after downtime and retries with backoff."""

from __future__ import annotations

from datetime import datetime, timedelta

from analysis.calendar import Slot, latest_slot, parse_timezone
from server.digest.models import DigestSettings
from server.digest.service import parse_send_time

# Retries after a failed attempt: 1, 2, 4 … minutes, at most an hour apart; after
# MAX_ATTEMPTS attempts the run stays "failed" (visible in the workspace) until someone
# sends it again by hand.
BACKOFF_MAX = timedelta(minutes=60)
MAX_ATTEMPTS = 10
# Catch-up: after downtime only the latest missed run of each kind is created, and only
# while it is this recent (older ones are skipped; they can still be sent by hand).
CATCH_UP = {
    "night": timedelta(hours=24),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
}


def backoff(attempts: int) -> timedelta:
    """Return the wait after the given number of failed attempts (1, 2, 4 … 60 minutes)."""
    return min(BACKOFF_MAX, timedelta(minutes=2 ** max(0, attempts - 1)))


def kinds_of(row: DigestSettings) -> list[str]:
    """Return the digest kinds the organisation receives."""
    kinds = ["night"]
    if row.weekly_enabled:
        kinds.append("week")
    if row.monthly_enabled:
        kinds.append("month")
    return kinds


def due_slots(row: DigestSettings, now: datetime) -> list[Slot]:
    """Return the slots that should have a run by `now` (the latest per kind, if recent)."""
    tz = parse_timezone(row.timezone)
    send_time = parse_send_time(row.send_time)
    slots = []
    for kind in kinds_of(row):
        slot = latest_slot(kind, send_time, tz, now)
        if now - slot.scheduled_for > CATCH_UP[kind]:
            continue
        if row.enabled_at is not None and slot.scheduled_for < row.enabled_at:
            continue  # due before the digest was switched on
        slots.append(slot)
    return slots

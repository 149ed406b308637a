"""The photo quota: how many photo bytes one device may upload per calendar day.

The day is the Stockholm calendar day (the one the phone's users live in): the quota
starts afresh at local midnight, so a guard who reaches it at 23:00 sends the rest of the
night's photos after 00:00, and the answer can say exactly when. The bytes counted are
those of the uploads as received (`photos.bytes`) of photos still stored, read through the
index on (uploaded_by_device_id, created_at). A photo already stored is never refused: a
re-upload is a no-op that costs nothing (`service.receive_upload` answers it first).

The check is not a lock: two uploads racing at the limit may both pass, so a device can
end a day up to one photo over its quota.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from analysis.calendar import STOCKHOLM
from server.domain_errors import QuotaExceeded
from server.extensions import db
from server.photos.models import Photo

CODE = "photo_quota"
MiB = 1024 * 1024


def limit() -> int:
    """Return the configured bytes per device and day (0 or less: no quota)."""
    return int(current_app.config.get("PHOTO_QUOTA_BYTES_PER_DAY") or 0)


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """Return the start and end (in UTC) of the Stockholm calendar day holding `now`.

    In UTC, so that the difference of the two is the day's real length (23 or 25 hours on
    the days the clocks change), as it is for every other time they are compared with.
    """
    local = now.astimezone(STOCKHOLM).date()
    start = datetime.combine(local, time(0), STOCKHOLM)
    end = datetime.combine(local + timedelta(days=1), time(0), STOCKHOLM)
    return start.astimezone(UTC), end.astimezone(UTC)


def used_today(device_id: int, now: datetime) -> int:
    """Return the photo bytes the device has uploaded during the day holding `now`."""
    start, end = day_bounds(now)
    total = db.session.scalar(
        select(func.coalesce(func.sum(Photo.bytes), 0)).where(
            Photo.uploaded_by_device_id == device_id,
            Photo.created_at >= start,
            Photo.created_at < end,
        )
    )
    return int(total or 0)


def check(used: int, incoming: int, quota: int, now: datetime) -> None:
    """Raise QuotaExceeded when `incoming` more bytes would take the day past the quota.

    With `incoming` 0 it refuses only a quota already used up (before reading a body).
    """
    if quota <= 0 or (used < quota and (used == 0 or used + incoming <= quota)):
        # The day's first photo always passes, so a photo larger than the quota is never
        # stuck on the phone for good.
        return
    _start, end = day_bounds(now)
    wait = max(1, int((end - now).total_seconds()))
    raise QuotaExceeded(
        CODE,
        f"This phone has sent {_mib(used)} of photos today; the server takes at most "
        f"{_mib(quota)} per phone and day. The photo stays on the phone and is sent "
        "automatically after midnight.",
        {
            "limit_bytes": quota,
            "used_bytes": used,
            "resets_at": end.astimezone(STOCKHOLM).isoformat(),
        },
        retry_after=wait,
    )


def _mib(n: int) -> str:
    """Show a byte count in MiB with one decimal (the phone shows its own words)."""
    return f"{n / MiB:.1f} MB"

"""Who was out: reports per device kind, calm rounds, and devices to check.

Devices are only ever named by kind (väktare, fältare, nattvandrare): never a display name
or an id, never a person.

- *Unsent reports*: a device (not revoked) whose latest outbox count — what the phone said
  it still held at its last pull (`outbox_pending` at `outbox_reported_at`, known by `now`)
  — is above zero. Its count and time are shown with its last contact.
- *Silent* (nights only): a device (not revoked) that was out — it reported in the night,
  or in the `SILENT_LOOKBACK_DAYS` days before it, or was seen during the night — but has
  not been heard from (`last_seen_at`) since `SILENT_AFTER` before the night's end (04:00
  for the default night), nor since. A phone that comes back after the night is not silent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.devices.models import Device
from server.digest.content.model import CALM, Calm, CalmState, DeviceAlert, KindCount
from server.digest.content.rows import ReportRow
from server.extensions import db
from server.incidents.queries import devices_reporting

# A device that was out but has not been heard from since this long before the night's end
# has gone silent; "out" includes having reported in the days before the night.
SILENT_AFTER = timedelta(hours=2)
SILENT_LOOKBACK_DAYS = 2


def kind_counts(rows: Iterable[ReportRow], kinds: dict[int, str]) -> tuple[KindCount, ...]:
    """Count devices and reports per device kind."""
    devices: dict[str, set[int]] = defaultdict(set)
    reports: Counter[str] = Counter()
    for r in rows:
        kind = kinds.get(r.device_id, "other")
        devices[kind].add(r.device_id)
        reports[kind] += 1
    ordered = sorted(devices, key=kind_key)
    return tuple(KindCount(kind, len(devices[kind]), reports[kind]) for kind in ordered)


def kind_key(kind: str) -> tuple[int, str]:
    """Order kinds as the product names them: väktare, fältare, nattvandrare, other."""
    order = ("vaktare", "faltare", "nattvandrare")
    return (order.index(kind) if kind in order else len(order), kind)


def calm_of(rows: Sequence[ReportRow], kinds: dict[int, str]) -> Calm:
    """Say whether the period was calm, and whether calm rounds came in."""
    calm_rows = [r for r in rows if r.category == CALM]
    if len(calm_rows) < len(rows):
        state: CalmState = "incidents"
    elif calm_rows:
        state = "calm_rounds"
    else:
        state = "no_reports"
    return Calm(
        state=state,
        calm_reports=len(calm_rows),
        calm_kinds=kind_counts(calm_rows, kinds),
        first_at=calm_rows[0].created_at if calm_rows else None,
        last_at=calm_rows[-1].created_at if calm_rows else None,
    )


def device_alerts(
    org_id: int,
    kind: str,
    start: datetime,
    end: datetime,
    now: datetime,
    rows: Sequence[ReportRow],
) -> tuple[tuple[DeviceAlert, ...], tuple[DeviceAlert, ...]]:
    """Return the devices holding unsent reports, and (nights) the devices gone silent."""
    reported = Counter(r.device_id for r in rows)
    active: set[int] = set()
    if kind == "night":
        active = set(reported) | devices_reporting(
            org_id, start - timedelta(days=SILENT_LOOKBACK_DAYS), start
        )
    cond = (Device.outbox_pending > 0) & (Device.outbox_reported_at <= now)
    if kind == "night":
        cond = (
            cond
            | Device.id.in_(sorted(active))
            | ((Device.last_seen_at >= start) & (Device.last_seen_at < end))
        )
    devices = db.session.execute(
        select(
            Device.id,
            Device.kind,
            Device.last_seen_at,
            Device.outbox_pending,
            Device.outbox_reported_at,
        ).where(Device.org_id == org_id, Device.revoked_at.is_(None), cond)
    ).all()
    cutoff = end - SILENT_AFTER
    unsent: list[DeviceAlert] = []
    silent: list[DeviceAlert] = []
    for d in devices:
        known = d.outbox_reported_at is not None and d.outbox_reported_at <= now
        pending = int(d.outbox_pending or 0) if known else 0
        seen = d.last_seen_at
        is_silent = kind == "night" and (seen is None or seen < cutoff)
        alert = DeviceAlert(
            kind=d.kind,
            unsent=pending,
            counted_at=d.outbox_reported_at if known else None,
            last_seen_at=seen,
            silent=is_silent,
            reports_in_period=reported.get(d.id, 0),
        )
        if pending > 0:
            unsent.append(alert)
        elif is_silent:
            silent.append(alert)

    def order(a: DeviceAlert) -> tuple[Any, ...]:
        return (kind_key(a.kind), a.last_seen_at or datetime.min.replace(tzinfo=end.tzinfo))

    return tuple(sorted(unsent, key=order)), tuple(sorted(silent, key=order))

"""What the field app learns about alerts on its pull: acknowledgements and the on-call number."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.alerts import rota
from server.alerts.models import Alert
from server.categories.service import urgent_codes
from server.extensions import db
from server.incidents.summary import URGENT_SEVERITY
from server.reports.models import Report

# Acknowledgements are sent on every pull this long: the list is small, and a phone that
# marks a report twice does no harm, so the cursor need not carry them.
ACK_WINDOW = timedelta(hours=24)


def acknowledged(
    device_id: int, org_id: int, now: datetime, urgent: set[str] | None = None
) -> list[dict[str, Any]]:
    """Return [{report_id, at}] for the device's urgent reports acknowledged in the window.

    `urgent`: the urgent category codes, when the caller has read the categories already.
    """
    if urgent is None:
        urgent = urgent_codes()
    rows = db.session.execute(
        select(Report.id, Report.category_code, Report.severity, Alert.acknowledged_at)
        .join(Alert, Alert.incident_id == Report.incident_id)
        .where(
            Report.device_id == device_id,
            Report.org_id == org_id,
            Alert.acknowledged_at.is_not(None),
            Alert.acknowledged_at >= now - ACK_WINDOW,
        )
        .order_by(Alert.acknowledged_at, Report.id)
    )
    seen: dict[str, datetime] = {}
    for report_id, category, severity, at in rows:
        if category in urgent or (severity or 0) >= URGENT_SEVERITY:
            seen.setdefault(str(report_id), at)
    return [{"report_id": rid, "at": at} for rid, at in seen.items()]


def on_call(org_id: int) -> dict[str, str] | None:
    """Return {"phone": "+46…"} when the organisation has an on-call number, else None."""
    phone = rota.on_call_phone(org_id)
    return {"phone": phone} if phone else None

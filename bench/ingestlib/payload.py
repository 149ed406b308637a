"""The report the clients push and the ceiling writes (shape of tests/support/factories.py)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

STOCKHOLM_WINTER = timezone(timedelta(hours=1))

# Every field but id and created_at; the ceiling's rows use the same values.
REPORT: dict[str, Any] = {
    "category": "skadegorelse",
    "severity": 2,
    "description": "Klotter på busskuren.",
    "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
    "place": "Busskuren Malmövägen",
    "people_count": None,
    "photos": [],
}


def created_at(now: datetime) -> datetime:
    """Return the report's creation time: ten minutes ago, Swedish winter time, whole seconds."""
    return (now.astimezone(STOCKHOLM_WINTER) - timedelta(minutes=10)).replace(microsecond=0)


def report_template(now: datetime) -> tuple[str, str]:
    """Return the JSON text of one report split around its id (fresh ids are cheap to add)."""
    body = {"id": "@ID@", "created_at": created_at(now).isoformat(timespec="seconds"), **REPORT}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    before, after = text.split("@ID@")
    return before, after


def push_body(template: tuple[str, str], count: int) -> bytes:
    """Build a push body of `count` reports with fresh UUIDs."""
    before, after = template
    items = ",".join(before + str(uuid.uuid4()) + after for _ in range(count))
    return ('{"reports":[' + items + "]}").encode()

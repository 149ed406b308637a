"""The demo walk's follow-up three weeks later: some observations åtgärdat, some kvarstår.

Planned with the earlier walk's area, route and stops (as "Planera uppföljande vandring"
does); its marks are pushed from the night walkers' phone like every demo report, so the
follow-up protocol shows the counts and the list.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from server.demo.data import TZ
from server.devices.models import Device
from server.extensions import db
from server.protocol.service import receive_push
from server.reports.models import Report
from server.walks import service as walks
from server.walks.models import Walk
from sync.clock import utcnow

DAYS_AGO = 3
# By the earlier walk's observation number (server.demo.walk.OBSERVATIONS): the lamps were
# mended, the litter picked up and the graffiti washed off; the hedge and the dark path in
# the park remain. The rest was not checked.
MARKS = {0: "atgardat", 1: "atgardat", 3: "kvarstar", 4: "atgardat", 5: "kvarstar"}


def add_demo_follow_up(
    org_id: int, device: Device, earlier: Walk, now: datetime | None = None
) -> Walk:
    """Plan the follow-up DAYS_AGO days ago, push its marks from the device, mark it done."""
    now = now or utcnow()
    day = (now.astimezone(TZ) - timedelta(days=DAYS_AGO)).date()
    plan = walks.follow_up_plan(
        org_id,
        walks.WalkPlan(
            area_id=earlier.area_id or 0,
            walk_date=day,
            dark=earlier.dark,
            participants={"residents": 7, "police": 1, "property_owners": 1, "officials": 2},
            follows=earlier.id,
        ),
    )
    walk = walks.create_walk(org_id, plan)
    seen = list(
        db.session.scalars(
            select(Report)
            .where(Report.walk_id == earlier.id)
            .order_by(Report.created_at, Report.id)
        )
    )
    start = datetime(day.year, day.month, day.day, 19, 0, tzinfo=TZ)
    payloads: list[dict[str, Any]] = [
        {
            "id": str(uuid.uuid4()),
            "created_at": (start + timedelta(minutes=6 * n)).isoformat(),
            "category": seen[i].category_code,
            "location": None
            if seen[i].lat is None
            else {"lat": seen[i].lat, "lon": seen[i].lon, "accuracy_m": 10.0},
            "walk_id": walk.id,
            "walk_stop": seen[i].walk_stop,
            "follows": str(seen[i].id),
            "follow_up": mark,
        }
        for n, (i, mark) in enumerate(sorted(MARKS.items()))
    ]
    results = receive_push(device, payloads)
    refused = [r for r in results if r["status"] != "created"]
    if refused:
        raise RuntimeError(f"demo follow-up marks refused: {refused}")
    return walks.set_status(org_id, walk.id, "done")

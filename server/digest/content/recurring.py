"""Recurring places with new reports in the period.

Places recur over the last 28 days before the period's end (`RECURRING_DAYS`; a month
looks over the whole month), found by `server.geography.service.recurring_places`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from server.digest.content.model import PlaceItem
from server.digest.content.rows import ReportRow
from server.geography.service import RECURRING_DAYS, recurring_places

PLACES_LIMIT = 10


def recurring(
    org_id: int,
    start: datetime,
    end: datetime,
    rows: Sequence[ReportRow],
    areas: dict[int, str],
    places: dict[int, str],
) -> tuple[tuple[PlaceItem, ...], int]:
    """Return the recurring places (28 days, or the period if longer) with new reports."""
    if not rows:
        return (), 0
    days = recurring_days(start, end)
    by_id = {r.id: r for r in rows}
    found: list[PlaceItem] = []
    for place in recurring_places(org_id, now=end, days=days):
        new = [by_id[i] for i in place.report_ids if i in by_id]
        # recurring_places includes reports at exactly `end`; the period is half-open.
        if not new:
            continue
        new.sort(key=lambda r: (r.created_at, r.id))
        named = Counter(r.place_id for r in new if r.place_id is not None)
        texts = Counter(r.place.strip() for r in new if r.place.strip())
        area = Counter(r.area_id for r in new).most_common(1)[0][0]
        incident_ids: list[str] = []
        for r in new:
            if r.incident_id is not None and str(r.incident_id) not in incident_ids:
                incident_ids.append(str(r.incident_id))
        found.append(
            PlaceItem(
                lat=place.center_lat,
                lon=place.center_lon,
                count=place.count,
                new_in_period=len(new),
                first_seen=place.first_seen,
                last_seen=place.last_seen,
                recent=place.recent,
                previous=place.previous,
                trend=place.trend,
                categories=place.categories,
                named_place=places.get(named.most_common(1)[0][0]) if named else None,
                place=texts.most_common(1)[0][0] if texts else "",
                area=areas.get(area),
                incident_ids=tuple(incident_ids),
            )
        )
    return tuple(found[:PLACES_LIMIT]), len(found)


def recurring_days(start: datetime, end: datetime) -> int:
    """Return the days recurring places look back over: 28, or the whole period if longer."""
    return max(RECURRING_DAYS, math.ceil((end - start) / timedelta(days=1)))

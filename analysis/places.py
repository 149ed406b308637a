"""Recurring places: spots where deviations keep being reported (the EST method).

The EST method (Effektiv samverkan för trygghet) asks which addresses and places come back
week after week. ``find_recurring`` answers that from report positions alone: it groups
reports of the last few weeks that lie within a radius of one another and keeps groups
with enough reports. The result must not depend on the order reports are fetched in, so
every step is deterministic and ties are broken by explicit keys.

``near`` and ``nearest_place`` link a report to a named place (a square, a school) that a
coordinator has defined with a centre and a radius.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from analysis.distance import EARTH_RADIUS_M, haversine_m
from sync.clock import as_utc

K = TypeVar("K", bound=Hashable)

Trend = Literal["up", "down", "flat"]

WEEK = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# Slots, no dict per instance: one per report of the 28 days behind the map's recurring
# places, thousands at once in a web request (issue 14).
@dataclass(frozen=True, slots=True)
class PlacePoint:
    """Hold the position, time and category of one report."""

    id: str
    lat: float
    lon: float
    created_at: datetime
    category: str

    def __post_init__(self) -> None:
        """Check the position and normalise the time to UTC."""
        if not (
            math.isfinite(self.lat)
            and math.isfinite(self.lon)
            and -90 <= self.lat <= 90
            and -180 <= self.lon <= 180
        ):
            raise ValueError(f"report {self.id}: position ({self.lat}, {self.lon}) is not WGS84")
        object.__setattr__(self, "created_at", as_utc(self.created_at, "created_at"))


@dataclass(frozen=True)
class RecurringPlace:
    """Describe one recurring place: its reports, categories and weekly trend."""

    center_lat: float
    center_lon: float
    report_ids: tuple[str, ...]
    count: int
    categories: tuple[tuple[str, int], ...]
    first_seen: datetime
    last_seen: datetime
    recent: int
    previous: int
    trend: Trend


def trend_of(recent: int, previous: int) -> Trend:
    """Return "up" if the last 7 days beat the 7 before, "down" if fewer, else "flat"."""
    # Deliberately plain: a place is already a cluster of several reports, so any change
    # between the two weeks is worth showing; the coordinator sees both numbers anyway.
    if recent > previous:
        return "up"
    if recent < previous:
        return "down"
    return "flat"


def _neighbours(xy: Sequence[tuple[float, float]], radius: float) -> list[list[int]]:
    """Return, for each point, the indices (itself included) within radius, ascending."""
    # A grid with cells as wide as the radius: all neighbours of a point lie in its own
    # cell or the eight around it, so each point is compared with its surroundings only.
    grid: dict[tuple[int, int], list[int]] = {}
    cells = [(math.floor(x / radius), math.floor(y / radius)) for x, y in xy]
    for index, cell in enumerate(cells):
        grid.setdefault(cell, []).append(index)
    limit = radius * radius
    result: list[list[int]] = []
    for index, (cx, cy) in enumerate(cells):
        x, y = xy[index]
        found = [
            other
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for other in grid.get((cx + dx, cy + dy), ())
            if (xy[other][0] - x) ** 2 + (xy[other][1] - y) ** 2 <= limit
        ]
        found.sort()
        result.append(found)
    return result


def _greedy(neighbours: list[list[int]], min_reports: int) -> list[list[int]]:
    """Return clusters: each the best remaining point and its unassigned neighbours."""
    # count[i] = unassigned points within radius of i, i itself included. Counts only
    # ever fall, so a max-heap with lazy re-insertion finds the best point each round.
    count = [len(found) for found in neighbours]
    assigned = [False] * len(neighbours)
    # Point indices follow (created_at, id), so the smaller index is the tie-break winner.
    heap = [(-count[i], i) for i in range(len(neighbours))]
    heapq.heapify(heap)
    clusters: list[list[int]] = []
    while heap:
        stored, index = heapq.heappop(heap)
        if assigned[index]:
            continue
        if -stored != count[index]:
            heapq.heappush(heap, (-count[index], index))
            continue
        if count[index] < min_reports:
            # The best remaining point is too small; counts never grow, so none qualifies.
            break
        members = [j for j in neighbours[index] if not assigned[j]]
        for j in members:
            assigned[j] = True
        for j in members:
            for k in neighbours[j]:
                if not assigned[k]:
                    count[k] -= 1
        clusters.append(members)
    return clusters


def _place(members: Sequence[PlacePoint], now: datetime) -> RecurringPlace:
    """Return the summary of one cluster of reports."""
    categories = Counter(p.category for p in members)
    recent = sum(1 for p in members if now - WEEK < p.created_at <= now)
    previous = sum(1 for p in members if now - 2 * WEEK < p.created_at <= now - WEEK)
    return RecurringPlace(
        # fsum is exactly rounded, so the centre does not depend on summation order.
        center_lat=math.fsum(p.lat for p in members) / len(members),
        center_lon=math.fsum(p.lon for p in members) / len(members),
        report_ids=tuple(p.id for p in members),
        count=len(members),
        categories=tuple(sorted(categories.items(), key=lambda item: (-item[1], item[0]))),
        first_seen=min(p.created_at for p in members),
        last_seen=max(p.created_at for p in members),
        recent=recent,
        previous=previous,
        trend=trend_of(recent, previous),
    )


def find_recurring(
    points: Iterable[PlacePoint],
    *,
    now: datetime,
    days: int = 28,
    radius_m: float = 100.0,
    min_reports: int = 3,
) -> list[RecurringPlace]:
    """Return the places with at least min_reports reports within radius_m, best first."""
    if type(days) is not int or days < 1:
        raise ValueError(f"days must be a positive int, got {days!r}")
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise ValueError(f"radius_m must be a positive number, got {radius_m!r}")
    if type(min_reports) is not int or min_reports < 1:
        raise ValueError(f"min_reports must be a positive int, got {min_reports!r}")
    now = as_utc(now, "now")
    start = now - timedelta(days=days)
    every = list(points)
    if len({p.id for p in every}) != len(every):
        raise ValueError("report ids must be unique")
    # The canonical order (created_at, id) makes every later step independent of the
    # order the caller fetched the reports in; it is also the seed tie-break order.
    window = sorted(
        (p for p in every if start <= p.created_at <= now), key=lambda p: (p.created_at, p.id)
    )
    if not window:
        return []
    # Equirectangular projection around the mean position: at municipal scale (tens of
    # km) distances are within a fraction of a percent of the great-circle distance.
    lat0 = math.fsum(p.lat for p in window) / len(window)
    lon0 = math.fsum(p.lon for p in window) / len(window)
    scale_x = EARTH_RADIUS_M * math.cos(math.radians(lat0))
    xy = [
        (scale_x * math.radians(p.lon - lon0), EARTH_RADIUS_M * math.radians(p.lat - lat0))
        for p in window
    ]
    clusters = _greedy(_neighbours(xy, radius_m), min_reports)
    places = [_place([window[i] for i in sorted(members)], now) for members in clusters]
    # Ranking: most reports first, then the most recently active, then by position and
    # finally by report ids, so the order is total.
    places.sort(
        key=lambda p: (-p.count, -(p.last_seen - EPOCH), p.center_lat, p.center_lon, p.report_ids)
    )
    return places


def nearest_place(
    places: Sequence[tuple[K, float, float, float]], lat: float, lon: float
) -> K | None:
    """Return the key of the nearest place whose radius covers the point, else None."""
    best: tuple[float, K] | None = None
    for key, place_lat, place_lon, radius_m in places:
        distance = haversine_m(place_lat, place_lon, lat, lon)
        if distance > radius_m:
            continue
        # Equal distances (e.g. two places sharing a centre) go to the smaller key.
        if best is None or (distance, key) < best:
            best = (distance, key)
    return None if best is None else best[1]

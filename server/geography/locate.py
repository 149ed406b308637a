"""Give reports their area (point in polygon) and named place (within its radius)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from analysis.geo import AreaIndex
from analysis.places import nearest_place
from server.extensions import db
from server.geography.models import Area, NamedPlace
from server.reports.models import Report

# One prepared index per organisation, rebuilt when its areas change (count or import time).
_cache: dict[int, tuple[tuple[int, datetime | None], AreaIndex]] = {}
_cache_lock = threading.Lock()


def area_index(org_id: int) -> AreaIndex | None:
    """Return the organisation's prepared area index, or None if it has no areas."""
    stamp = tuple(
        db.session.execute(
            select(func.count(Area.id), func.max(Area.imported_at)).where(Area.org_id == org_id)
        ).one()
    )
    if stamp[0] == 0:
        return None
    with _cache_lock:
        cached = _cache.get(org_id)
        if cached and cached[0] == stamp:
            return cached[1]
    areas = db.session.execute(
        select(Area.id, Area.geometry).where(Area.org_id == org_id).order_by(Area.id)
    ).all()
    index = AreaIndex([(a.id, a.geometry) for a in areas])
    with _cache_lock:
        _cache[org_id] = (stamp, index)  # type: ignore[assignment]
    return index


def assign_areas_and_places(
    org_id: int, rows: Sequence[tuple[uuid.UUID, float | None, float | None]]
) -> dict[uuid.UUID, tuple[int | None, int | None]]:
    """Set area_id and place_id of these reports from their positions; return what was set."""
    params = areas_and_places(org_id, rows)
    write_areas_and_places(params)
    return {p["id"]: (p["area_id"], p["place_id"]) for p in params}


def areas_and_places(
    org_id: int, rows: Sequence[tuple[uuid.UUID, float | None, float | None]]
) -> list[dict[str, object]]:
    """Work out the area_id and place_id of these reports without writing them."""
    located = [(rid, lat, lon) for rid, lat, lon in rows if lat is not None and lon is not None]
    if not located:
        return []
    index = area_index(org_id)
    if index is None and not _has_places(org_id):
        return []  # nothing to locate against: the columns stay empty
    areas = (
        index.locate_many([(lat, lon) for _, lat, lon in located])
        if index
        else [None] * len(located)
    )
    places = [
        (p.id, p.lat, p.lon, p.radius_m)
        for p in db.session.execute(
            select(NamedPlace.id, NamedPlace.lat, NamedPlace.lon, NamedPlace.radius_m).where(
                NamedPlace.org_id == org_id
            )
        )
    ]
    return [
        {
            "id": rid,
            "area_id": area,
            "place_id": nearest_place(places, lat, lon) if places else None,
        }
        for (rid, lat, lon), area in zip(located, areas, strict=True)
    ]


def write_areas_and_places(params: list[dict[str, object]]) -> None:
    """Store what `areas_and_places` worked out."""
    if params:
        # ORM bulk update by primary key: one executemany, not one statement per report.
        db.session.execute(update(Report), params)


def _has_places(org_id: int) -> bool:
    """Tell whether the organisation has named any place."""
    return (
        db.session.scalar(select(NamedPlace.id).where(NamedPlace.org_id == org_id).limit(1))
        is not None
    )

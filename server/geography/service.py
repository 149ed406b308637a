"""Import areas, name places, find recurring places (the caller commits and refreshes incidents)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update

from analysis.geo import AreaDef
from analysis.places import PlacePoint, RecurringPlace, find_recurring
from server.categories import NOT_INCIDENTS
from server.domain_errors import Invalid
from server.extensions import db
from server.geography import locate
from server.geography.models import Area, NamedPlace
from server.orgs.counter import lock_counter
from server.reports.models import Report
from sync.clock import utcnow

# Reports re-located per statement when areas or places change (bounded memory on 1M rows).
RELOCATE_CHUNK = 5000
RECURRING_DAYS = 28
RECURRING_RADIUS_M = 100.0
RECURRING_MIN_REPORTS = 3


@dataclass
class ImportResult:
    """What an area import did."""

    created: int
    updated: int
    located: int


def store_areas(org_id: int, defs: list[AreaDef]) -> ImportResult:
    """Store parsed areas and give every report its area again.

    Areas with a code the organisation already has are replaced; others are added. The
    caller holds the transaction: it refreshes the incidents (their areas) and commits.
    """
    lock_counter(org_id)
    existing = {a.code: a for a in db.session.scalars(select(Area).where(Area.org_id == org_id))}
    now = utcnow()
    created = updated = 0
    for d in defs:
        area = existing.get(d.code)
        if area is None:
            db.session.add(
                Area(org_id=org_id, code=d.code, name=d.name, geometry=d.geometry, imported_at=now)
            )
            created += 1
        else:
            area.name, area.geometry, area.imported_at = d.name, dict(d.geometry), now
            updated += 1
    db.session.flush()
    located = relocate_all(org_id)
    return ImportResult(created=created, updated=updated, located=located)


def relocate_all(org_id: int) -> int:
    """Recompute area and named place of every positioned report of the organisation."""
    db.session.execute(
        update(Report).where(Report.org_id == org_id).values(area_id=None, place_id=None)
    )
    done = 0
    last = None
    while True:
        query = (
            select(Report.id, Report.lat, Report.lon)
            .where(Report.org_id == org_id, Report.lat.is_not(None))
            .order_by(Report.id)
            .limit(RELOCATE_CHUNK)
        )
        if last is not None:
            query = query.where(Report.id > last)
        rows = [(r.id, r.lat, r.lon) for r in db.session.execute(query)]
        if not rows:
            break
        locate.assign_areas_and_places(org_id, rows)
        done += len(rows)
        last = rows[-1][0]
    return done


def recurring_places(
    org_id: int,
    now: datetime | None = None,
    days: int = RECURRING_DAYS,
    radius_m: float = RECURRING_RADIUS_M,
    min_reports: int = RECURRING_MIN_REPORTS,
) -> list[RecurringPlace]:
    """Find places with repeated reports of the organisation over the trailing `days`."""
    return recurring_places_where(
        Report.org_id == org_id, now=now, days=days, radius_m=radius_m, min_reports=min_reports
    )


def recurring_places_where(
    reports: ColumnElement[bool],
    now: datetime | None = None,
    days: int = RECURRING_DAYS,
    radius_m: float = RECURRING_RADIUS_M,
    min_reports: int = RECURRING_MIN_REPORTS,
) -> list[RecurringPlace]:
    """Find places with repeated reports over the trailing `days` (the EST method).

    `reports` picks whose reports count (an organisation's, or a sharing scope's clause
    from `server.incidents.queries.visible_reports`): the caller decides, so geography
    needs no knowledge of agreements.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(Report.id, Report.lat, Report.lon, Report.created_at, Report.category_code).where(
            reports,
            Report.created_at >= now - timedelta(days=days),
            Report.created_at <= now,
            Report.lat.is_not(None),
            # A calm round or a walk's note is not a deviation.
            Report.category_code.not_in(sorted(NOT_INCIDENTS)),
        )
    )
    points = [
        PlacePoint(
            id=str(r.id), lat=r.lat, lon=r.lon, created_at=r.created_at, category=r.category_code
        )
        for r in rows
    ]
    return find_recurring(points, now=now, days=days, radius_m=radius_m, min_reports=min_reports)


def report_orgs(report_ids: Iterable[str]) -> dict[str, int]:
    """Map report ids (as text) to the organisations that own them."""
    ids = sorted({uuid.UUID(r) for r in report_ids})
    if not ids:
        return {}
    rows = db.session.execute(select(Report.id, Report.org_id).where(Report.id.in_(ids)))
    return {str(r.id): r.org_id for r in rows}


class PlaceError(Invalid):
    """A named place that cannot be made, with a message for the coordinator."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_place", message)


def create_place(
    org_id: int, name: str, lat: float, lon: float, radius_m: float, actor_id: int | None
) -> tuple[NamedPlace, set[uuid.UUID]]:
    """Name a place and link the reports within its radius; return it and their incidents.

    The caller refreshes those incidents (their place) and commits.
    """
    name = name.strip()
    if not name or len(name) > 200:
        raise PlaceError("A place needs a name of 1–200 characters.")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PlaceError("The position is outside the map.")
    if not (10 <= radius_m <= 2000):
        raise PlaceError("The radius must be 10–2000 metres.")
    lock_counter(org_id)
    clash = db.session.scalar(
        select(NamedPlace.id).where(NamedPlace.org_id == org_id, NamedPlace.name == name)
    )
    if clash is not None:
        raise PlaceError(f"There is already a place called {name}.")
    place = NamedPlace(
        org_id=org_id, name=name, lat=lat, lon=lon, radius_m=radius_m, created_by=actor_id
    )
    db.session.add(place)
    db.session.flush()
    # Only reports in the place's bounding box can be linked: no scan of the whole store.
    dlat = radius_m / 111_000
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    rows = db.session.execute(
        select(Report.id, Report.lat, Report.lon, Report.incident_id).where(
            Report.org_id == org_id,
            Report.lat.between(lat - dlat, lat + dlat),
            Report.lon.between(lon - dlon, lon + dlon),
        )
    ).all()
    locate.assign_areas_and_places(org_id, [(r.id, r.lat, r.lon) for r in rows])
    return place, {r.incident_id for r in rows if r.incident_id is not None}


def list_places(org_id: int) -> list[NamedPlace]:
    """Return the organisation's named places by name."""
    return list(
        db.session.scalars(
            select(NamedPlace).where(NamedPlace.org_id == org_id).order_by(NamedPlace.name)
        )
    )


def list_areas(org_id: int) -> list[Area]:
    """Return the organisation's areas by name."""
    return list(db.session.scalars(select(Area).where(Area.org_id == org_id).order_by(Area.name)))

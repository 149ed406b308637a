"""The period's reports, and what they refer to, read once for every section."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from server.devices.models import Device
from server.extensions import db
from server.incidents.models import Incident
from server.incidents.queries import NO_AREA
from server.photos.models import Photo
from server.reports.models import Report

# Records fetched per query (bounded IN lists).
CHUNK = 500

T = TypeVar("T")


@dataclass(frozen=True)
class ReportRow:
    """A report of the period: the columns the digest needs."""

    id: str
    incident_id: uuid.UUID | None
    device_id: int
    created_at: datetime
    category: str
    area_id: int
    place_id: int | None
    place: str
    photos: tuple[str, ...]


def period_reports(org_id: int, start: datetime, end: datetime) -> list[ReportRow]:
    """Load the columns the digest needs of the reports in [start, end), oldest first."""
    result = db.session.execute(
        select(
            Report.id,
            Report.incident_id,
            Report.device_id,
            Report.created_at,
            Report.category_code,
            Report.area_id,
            Report.place_id,
            Report.place,
            Report.photos,
        )
        .where(Report.org_id == org_id, Report.created_at >= start, Report.created_at < end)
        .order_by(Report.created_at, Report.id)
    )
    return [
        ReportRow(
            id=str(r.id),
            incident_id=r.incident_id,
            device_id=r.device_id,
            created_at=r.created_at,
            category=r.category_code,
            area_id=r.area_id or NO_AREA,
            place_id=r.place_id,
            place=r.place or "",
            photos=tuple(p for p in (r.photos or []) if isinstance(p, str)),
        )
        for r in result
    ]


def _chunks(values: Sequence[T]) -> Iterator[list[T]]:
    """Yield the values CHUNK at a time, in order."""
    for first in range(0, len(values), CHUNK):
        yield list(values[first : first + CHUNK])


def device_kinds(org_id: int, device_ids: set[int]) -> dict[int, str]:
    """Map the organisation's device ids to their kinds."""
    out: dict[int, str] = {}
    for ids in _chunks(sorted(device_ids)):
        out.update(
            db.session.execute(
                select(Device.id, Device.kind).where(Device.org_id == org_id, Device.id.in_(ids))
            ).all()
        )
    return out


def load_incidents(org_id: int, ids: set[uuid.UUID]) -> list[Incident]:
    """Load the organisation's incidents with these ids."""
    out: list[Incident] = []
    for chunk in _chunks(sorted(ids)):
        out.extend(
            db.session.scalars(
                select(Incident).where(Incident.org_id == org_id, Incident.id.in_(chunk))
            )
        )
    return out


def stored_photos(org_id: int, hashes: set[str]) -> set[str]:
    """Return which of the photos are stored (uploaded) for the organisation."""
    found: set[str] = set()
    for chunk in _chunks(sorted(hashes)):
        found.update(
            db.session.scalars(
                select(Photo.sha256).where(Photo.org_id == org_id, Photo.sha256.in_(chunk))
            )
        )
    return found

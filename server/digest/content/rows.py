"""The period's reports, and what they refer to, read once for every section.

Reports of other organisations are read only as far as the scope's agreements allow
(`reports` or more), and a shared report below `full` is loaded without its free text and
photos: what the content never holds, no renderer can leak.
"""

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
from server.incidents.queries import NO_AREA, as_scope, visible_incidents, visible_reports
from server.photos.models import Photo
from server.reports.models import Report
from server.sharing.rules import Scope

# Records fetched per query (bounded IN lists).
CHUNK = 500

T = TypeVar("T")


@dataclass(frozen=True)
class ReportRow:
    """A report of the period: the columns the digest needs."""

    id: str
    org_id: int
    incident_id: uuid.UUID | None
    device_id: int
    created_at: datetime
    category: str
    area_id: int
    place_id: int | None
    place: str
    photos: tuple[str, ...]


def period_reports(scope: Scope | int, start: datetime, end: datetime) -> list[ReportRow]:
    """Load the columns the digest needs of the reports in [start, end), oldest first.

    An organisation id reads its own reports only; a scope adds the shared ones.
    """
    scope = as_scope(scope)
    result = db.session.execute(
        select(
            Report.id,
            Report.org_id,
            Report.incident_id,
            Report.device_id,
            Report.created_at,
            Report.category_code,
            Report.area_id,
            Report.place_id,
            Report.place,
            Report.photos,
        )
        .where(
            visible_reports(scope, "reports"),
            Report.created_at >= start,
            Report.created_at < end,
        )
        .order_by(Report.created_at, Report.id)
    )
    rows = []
    for r in result:
        full = scope.detail(r.org_id, r.category_code, r.area_id) == "full"
        rows.append(
            ReportRow(
                id=str(r.id),
                org_id=r.org_id,
                incident_id=r.incident_id,
                device_id=r.device_id,
                created_at=r.created_at,
                category=r.category_code,
                area_id=r.area_id or NO_AREA,
                place_id=r.place_id,
                place=(r.place or "") if full else "",
                photos=tuple(p for p in (r.photos or []) if isinstance(p, str)) if full else (),
            )
        )
    return rows


def _chunks(values: Sequence[T]) -> Iterator[list[T]]:
    """Yield the values CHUNK at a time, in order."""
    for first in range(0, len(values), CHUNK):
        yield list(values[first : first + CHUNK])


def device_kinds(org_ids: set[int], device_ids: set[int]) -> dict[int, str]:
    """Map the devices of these organisations to their kinds (a kind, never a name)."""
    out: dict[int, str] = {}
    for ids in _chunks(sorted(device_ids)):
        out.update(
            db.session.execute(
                select(Device.id, Device.kind).where(
                    Device.org_id.in_(sorted(org_ids)), Device.id.in_(ids)
                )
            ).all()
        )
    return out


def load_incidents(scope: Scope | int, ids: set[uuid.UUID]) -> list[Incident]:
    """Load the incidents with these ids that the scope may see at `reports` or more.

    A shared incident is shown as a whole only when its own category and area are covered.
    """
    out: list[Incident] = []
    for chunk in _chunks(sorted(ids)):
        out.extend(
            db.session.scalars(
                select(Incident).where(visible_incidents(scope, "reports"), Incident.id.in_(chunk))
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


def stored_photos_of(rows: Sequence[ReportRow]) -> set[tuple[int, str]]:
    """Return (owner, hash) of the rows' photos that are stored, per owning organisation."""
    wanted: dict[int, set[str]] = {}
    for r in rows:
        wanted.setdefault(r.org_id, set()).update(r.photos)
    return {(org, sha) for org, hashes in wanted.items() for sha in stored_photos(org, hashes)}

"""Areas and named places change where reports lie: store them, then refresh the incidents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from analysis.geo import parse_areas
from server.extensions import db
from server.geography import service as geography
from server.geography.models import NamedPlace
from server.geography.service import ImportResult
from server.incidents.models import Incident
from server.incidents.summary import refresh_incidents


def import_areas(
    org_id: int,
    doc: dict[str, Any],
    name_property: str = "name",
    code_property: str | None = None,
) -> ImportResult:
    """Import areas from GeoJSON, locate every report again and update every incident.

    Raises analysis.geo.AreaError (with every problem listed) on a bad document.
    """
    defs = parse_areas(doc, name_property=name_property, code_property=code_property)
    result = geography.store_areas(org_id, defs)
    ids = set(db.session.scalars(select(Incident.id).where(Incident.org_id == org_id)))
    refresh_incidents(org_id, ids)
    db.session.commit()
    return result


def create_place(
    org_id: int, name: str, lat: float, lon: float, radius_m: float, actor_id: int | None
) -> NamedPlace:
    """Name a place, link the reports within its radius and update their incidents."""
    place, incident_ids = geography.create_place(org_id, name, lat, lon, radius_m, actor_id)
    refresh_incidents(org_id, incident_ids)
    db.session.commit()
    return place

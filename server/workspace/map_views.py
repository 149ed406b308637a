"""Workspace page: the map of the filtered incidents, recurring and named places and areas.

``/workspace/map`` shows the filtered incidents (the same query string as the incident
list, default the last seven days), recurring places, named places and area outlines on a
Leaflet map fed by ``/workspace/map/data.json``; the same incidents and places are listed
under the map, so the page is complete without tiles, without JavaScript and without Leaflet.
Every query is bounded by a time window (or by the organisation's handful of areas and
named places): nothing here scans the whole report store.

Sharing: incidents shared with the person's organisation at `reports` or `full` are shown
beside its own, each marked with its owner; under `reports` (and for an analyst, always)
their summary and place text stay out of the page and the data. A `counts` share adds no
points. Named places and area outlines are the organisation's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required

from analysis.places import RecurringPlace
from server.geography import service as geography
from server.geography.models import NamedPlace
from server.incidents import queries
from server.incidents.models import Incident
from server.sharing.rules import Scope
from server.workspace import bp
from server.workspace import labels as lb
from server.workspace.auth import reads_free_text
from server.workspace.filters import ParsedFilter, filter_options, parse_filter
from server.workspace.geojson import feature_collection
from server.workspace.hooks import audit, localtime
from server.workspace.i18n import t
from server.workspace.insight_format import (
    recurring_views,
    scoped_recurring,
    shared_sources,
)
from server.workspace.scoping import current_scope, scope_area_names, shared_marks
from server.workspace.tiles import map_csp, tile_attribution, tile_url
from sync.clock import utcnow

MAP_LIMIT = 2000  # incidents on the map (the list under it says when there were more)
PLACE_DAYS = geography.RECURRING_DAYS
# What _incident_view reads of an incident.
MAP_COLUMNS = (
    Incident.id,
    Incident.org_id,
    Incident.first_at,
    Incident.last_at,
    Incident.category_code,
    Incident.status,
    Incident.area_id,
    Incident.place,
    Incident.summary,
    Incident.report_count,
    Incident.urgent,
    Incident.lat,
    Incident.lon,
)

# The only files served from node_modules: Leaflet's and the cluster plugin's dist files.
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_FILES: dict[str, frozenset[str]] = {
    "leaflet": frozenset(
        {
            "leaflet.js",
            "leaflet.css",
            "images/marker-icon.png",
            "images/marker-icon-2x.png",
            "images/marker-shadow.png",
            "images/layers.png",
            "images/layers-2x.png",
        }
    ),
    "leaflet.markercluster": frozenset(
        {"leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"}
    ),
}
VENDOR_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


# --- vendor files ---------------------------------------------------------------------------


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """Serve a whitelisted Leaflet dist file from node_modules (nothing else, ever)."""
    allowed = VENDOR_FILES.get(package)
    if allowed is None or filename not in allowed:
        abort(404)
    root = Path(current_app.config.get("NODE_MODULES_DIR") or NODE_MODULES)
    path = root / package / "dist" / filename
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=VENDOR_TYPES[path.suffix], conditional=True, max_age=86400)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


# --- map ------------------------------------------------------------------------------------


@dataclass
class MapData:
    """Everything the map and the list under it show."""

    parsed: ParsedFilter
    rows: Iterator[queries.IncidentRow]  # read as they are taken, once
    truncated: bool
    recurring: list[RecurringPlace]
    recurring_end: datetime
    areas: list[Any]
    places: list[NamedPlace]


def _map_data(scope: Scope) -> MapData:
    """Run the filter (the list's parser) and load the places and areas around it."""
    now = utcnow()
    parsed = parse_filter(request.args, scope, now)
    # Incidents the scope sees at `reports` or more: a `counts` share adds no points.
    # Calm rounds are presence, shown on the night view; a category filter can ask for them.
    # Plain rows of the columns the map shows: up to 2,000 full ORM objects per request
    # left the allocator holding memory (issue 14).
    # Read lazily: the data writes each feature out before the next chunk of rows is read.
    rows, found = queries.lazy_page_of_incidents(
        scope,
        replace(parsed.filter, hide_calm=True),
        0,
        MAP_LIMIT,
        limit=MAP_LIMIT,
        columns=MAP_COLUMNS,
    )
    # Recurring places: the 28 days up to the window's end (never past now).
    recurring_end = min(parsed.filter.end, now)
    recurring = scoped_recurring(scope, recurring_end)
    return MapData(
        parsed=parsed,
        rows=rows,
        truncated=found > MAP_LIMIT,
        recurring=recurring,
        recurring_end=recurring_end,
        areas=geography.list_areas(scope.viewer),
        places=geography.list_places(scope.viewer),
    )


def _incident_view(
    row: queries.IncidentRow, areas: Mapping[int, str], free_text: bool, scope: Scope
) -> dict[str, Any]:
    """Describe an incident for the map's list and its GeoJSON feature.

    Without `free_text` (an analyst) the reporters' place text, the summary and the link to
    the incident page (which an analyst may not open) are left out; an incident shared
    without free text (`reports`) loses its place text and summary for everybody.
    """
    i = row.incident
    marks = shared_marks(scope, i.org_id, i.category_code, i.area_id)
    view = {
        "id": str(i.id),
        "url": url_for("workspace.incident", incident_id=i.id),
        "first_at": i.first_at.isoformat(),
        "last_at": i.last_at.isoformat(),
        "time": localtime(i.first_at),
        "category": i.category_code,
        "category_label": lb.category_label(i.category_code),
        "status": i.status,
        "status_label": lb.status_label(i.status),
        "area": areas.get(i.area_id, "") if i.area_id else "",
        "place": i.place,
        "summary": i.summary,
        "report_count": i.report_count,
        "reports_in_window": row.reports_in_window,
        "urgent": i.urgent,
        "lat": i.lat,
        "lon": i.lon,
        "owner": marks["owner"],
        "shared_label": "" if marks["own"] else t("shared.badge", owner=marks["owner"]),
    }
    if not marks["free_text"]:
        view.update(place="", summary="")
    if not free_text:
        view.update(url="", place="", summary="")
    return view


@bp.get("/map", endpoint="map")
@login_required
def map_page() -> Response:
    """The map: incidents, recurring places, named places and areas; a list of the same."""
    scope = current_scope()
    data = _map_data(scope)
    areas = scope_area_names(scope, "reports")
    incidents = [_incident_view(r, areas, reads_free_text(), scope) for r in data.rows]
    html = render_template(
        "workspace/map.html",
        incidents=incidents,
        without_position=sum(1 for i in incidents if i["lat"] is None),
        truncated=data.truncated,
        limit=MAP_LIMIT,
        recurring=recurring_views(scope, data.recurring),
        recurring_start=localtime(data.recurring_end - timedelta(days=PLACE_DAYS), "%Y-%m-%d"),
        recurring_end=localtime(data.recurring_end, "%Y-%m-%d"),
        named_places=data.places,
        area_list=data.areas,
        window_start=data.parsed.filter.start,
        window_end=data.parsed.filter.end,
        data_url=url_for("workspace.map_data") + _query(data.parsed),
        tile_url=tile_url(),
        tile_attribution=tile_attribution(),
        shared_sources=shared_sources(scope, "reports"),
        **filter_options(scope, data.parsed),
    )
    audit("map.view", data.parsed.query)
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = map_csp()
    return resp


def _query(parsed: ParsedFilter) -> str:
    """Return "?<filter>" (or "") for links that must show the same incidents."""
    return f"?{parsed.query}" if parsed.query else ""


@bp.get("/map/data.json")
@login_required
def map_data() -> Response:
    """The map's data as a GeoJSON FeatureCollection (RFC 7946: [lon, lat], WGS 84).

    Features carry ``properties.kind``: "incident" (null geometry when it has no position),
    "recurring", "place" (a named place; ``radius_m``) and "area" (a polygon outline).
    Besides the organisation's own, only what its scope sees at `reports` or more is
    included (each shared incident with ``owner``; recurring places with ``shared``).
    """
    scope = current_scope()
    data = _map_data(scope)
    audit("map.data", data.parsed.query)
    return feature_collection(
        _features(scope, data),
        {
            "from": data.parsed.filter.start.isoformat(),
            "to": data.parsed.filter.end.isoformat(),
            "truncated": data.truncated,
            "limit": MAP_LIMIT,
            "messages": [t(k) for k in data.parsed.messages],
        },
    )


def _features(scope: Scope, data: MapData) -> Iterator[dict[str, Any]]:
    """Yield the map's features one at a time (each is encoded before the next is built)."""
    areas = scope_area_names(scope, "reports")
    free_text = reads_free_text()
    for row in data.rows:
        # The view itself becomes the properties (no copy per incident).
        view = _incident_view(row, areas, free_text, scope)
        geometry = _point(view.pop("lat"), view.pop("lon"))
        view["kind"] = "incident"
        yield {"type": "Feature", "id": view["id"], "geometry": geometry, "properties": view}
    for view in recurring_views(scope, data.recurring):
        yield {
            "type": "Feature",
            "geometry": _point(view["lat"], view["lon"]),
            "properties": {"kind": "recurring", **view},
        }
    for named in data.places:
        yield {
            "type": "Feature",
            "id": f"place-{named.id}",
            "geometry": _point(named.lat, named.lon),
            "properties": {"kind": "place", "name": named.name, "radius_m": named.radius_m},
        }
    for area in data.areas:
        yield {
            "type": "Feature",
            "id": f"area-{area.id}",
            "geometry": area.geometry,
            "properties": {"kind": "area", "name": area.name, "code": area.code},
        }


def _point(lat: float | None, lon: float | None) -> dict[str, Any] | None:
    """Return a GeoJSON point, or None for a report without a position."""
    if lat is None or lon is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}

"""Exports of the filtered incidents and their reports: CSV for Excel, GeoJSON for maps.

CSV dialect (for Swedish Excel, which opens the file with a double click):
- UTF-8 with a byte order mark, so "å ä ö" survive (without it Excel guesses Windows-1252);
- ";" between fields (Swedish Excel's list separator: "," is the decimal comma there),
  decimal numbers with a decimal comma, CRLF line ends, quotes only where needed;
- times in Swedish local time as "YYYY-MM-DD HH:MM";
- a text cell that starts with = + - @ (or a tab or carriage return) gets a leading
  apostrophe, so a description such as "=HYPERLINK(…)" is shown, never run (CSV injection).

No export holds a person's name: reporters appear only by kind (väktare, fältare,
nattvandrare), and coordinators not at all. Every export is written to the audit log. An analyst's
exports leave out free text: descriptions, the reporters' place texts, summaries, photos.

Sharing: with the person's scope (`current_scope`), the exports also hold the incidents
and reports other organisations share at `reports` or `full` (a `counts` share never gives
a row). Then every row names its owner (an extra column or property); a row shared at
`reports` has its free-text cells empty (and its photo count), since that level grants no
free text or photos. No export holds a device's name, own or shared.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask import Response, request, url_for
from flask_login import current_user, login_required

from analysis.calendar import STOCKHOLM
from server.devices.service import device_kinds
from server.incidents import queries
from server.reports.models import Report
from server.sharing.rules import Scope
from server.workspace import access, bp
from server.workspace import labels as lb
from server.workspace.filters import ParsedFilter, parse_filter
from server.workspace.hooks import audit
from server.workspace.i18n import t
from server.workspace.scoping import current_scope, owner_label, scope_area_names
from sync.clock import utcnow

EXPORT_LIMIT = 20_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """Render one CSV cell: numbers with a decimal comma, text defused against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return t("export.yes") if value else t("export.no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    if isinstance(value, datetime):
        return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_body(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Write rows in the Swedish Excel dialect (see the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


# Columns of the CSV exports (catalog keys); free text is left out for an analyst.
INCIDENT_COLUMNS = (
    "export.col.id",
    "export.col.first_at",
    "export.col.last_at",
    "export.col.category",
    "export.col.status",
    "export.col.responsible",
    "export.col.area",
    "export.col.place",
    "export.col.reports",
    "export.col.reports_in_window",
    "export.col.kinds",
    "export.col.urgent",
    "export.col.severity",
    "export.col.lat",
    "export.col.lon",
    "export.col.summary",
)
REPORT_COLUMNS = (
    "export.col.report_id",
    "export.col.incident_id",
    "export.col.created_at",
    "export.col.category",
    "export.col.severity",
    "export.col.status",
    "export.col.description",
    "export.col.place",
    "export.col.people",
    "export.col.kind",
    "export.col.area",
    "export.col.lat",
    "export.col.lon",
    "export.col.accuracy",
    "export.col.photos",
)
# Free text: what reporters and coordinators typed (descriptions, place texts, summaries
# made of descriptions) and references to photos.
FREE_TEXT_COLUMNS = frozenset(
    {"export.col.place", "export.col.summary", "export.col.description", "export.col.photos"}
)
FREE_TEXT_PROPERTIES = ("place", "summary", "url")
# What a row shared at `reports` leaves out of a GeoJSON feature: the link stays (its page
# shows the incident at the agreed level), the texts go.
SHARED_FREE_TEXT_PROPERTIES = ("place", "summary")
OWNER_COLUMN = "export.col.owner"

Row = tuple[int, str | None, list[Any]]  # owner, level of detail, the cells


def _without_free_text(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], role: str
) -> tuple[list[str], Iterable[list[Any]]]:
    """Return the translated header and the rows, without free text unless the role reads it."""
    keep = [access.reads_free_text(role) or c not in FREE_TEXT_COLUMNS for c in columns]
    header = [t(c) for c, k in zip(columns, keep, strict=True) if k]
    return header, ([v for v, k in zip(row, keep, strict=True) if k] for row in rows)


def _names_owners(scope: Scope) -> bool:
    """Tell whether an export may hold other organisations' rows, and so names every owner.

    Only then: an organisation that receives no rows keeps the columns it always had.
    """
    return bool(scope.grants_at_least("reports"))


def _scoped(
    columns: Sequence[str], rows: Iterable[Row], scope: Scope, role: str
) -> tuple[list[str], Iterable[list[Any]]]:
    """Return header and cells: free text only at `full` and for roles reading it, owners named."""
    free = [c in FREE_TEXT_COLUMNS for c in columns]
    named = _names_owners(scope)

    def shaped(owner: int, detail: str | None, cells: list[Any]) -> list[Any]:
        if detail != "full":  # shared without free text: the cells stay, empty
            cells = [None if f else v for v, f in zip(cells, free, strict=True)]
        return [*cells, owner_label(owner)] if named else cells

    header = [*columns, OWNER_COLUMN] if named else list(columns)
    return _without_free_text(header, (shaped(*r) for r in rows), role)


def _filtered(scope: Scope) -> tuple[ParsedFilter, list[queries.IncidentRow]]:
    """Run the list's filter from the query string, in the person's scope."""
    parsed = parse_filter(request.args, scope, utcnow())
    return parsed, queries.list_incidents(scope, parsed.filter, limit=EXPORT_LIMIT)


def _filename(parsed: ParsedFilter, stem: str, ext: str) -> str:
    """Name a download after the window it holds."""
    start = parsed.filter.start.astimezone(STOCKHOLM).strftime("%Y%m%d")
    end = parsed.filter.end.astimezone(STOCKHOLM).strftime("%Y%m%d")
    return f"{stem}-{start}-{end}.{ext}"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    """Answer with a file download."""
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.get("/export/incidents.csv")
@login_required
def incidents_csv() -> Response:
    """The filtered incidents, one row each."""
    scope = current_scope()
    parsed, rows = _filtered(scope)
    areas = scope_area_names(scope, "reports")
    body = csv_body(
        *_scoped(
            INCIDENT_COLUMNS,
            (
                (
                    i.org_id,
                    scope.detail(i.org_id, i.category_code, i.area_id),
                    _incident_row(r, areas),
                )
                for r in rows
                for i in [r.incident]
            ),
            scope,
            current_user.role,
        )
    )
    audit("export.incidents_csv", parsed.query)
    return _download(body, "text/csv; charset=utf-8", _filename(parsed, "handelser", "csv"))


def _incident_row(r: queries.IncidentRow, areas: dict[int, str]) -> list[Any]:
    """One incident as a CSV row (free text included: `_scoped` drops it)."""
    i = r.incident
    return [
        str(i.id),
        i.first_at,
        i.last_at,
        lb.category_label(i.category_code),
        lb.status_label(i.status),
        lb.responsible_label(i.responsible) if i.responsible else "",
        areas.get(i.area_id, "") if i.area_id else "",
        i.place,
        i.report_count,
        r.reports_in_window,
        lb.kinds_label(r.kinds),
        i.urgent,
        i.max_severity,
        i.lat,
        i.lon,
        i.summary,
    ]


@bp.get("/export/reports.csv")
@login_required
def reports_csv() -> Response:
    """The reports in the window of the filtered incidents, one row each."""
    scope = current_scope()
    parsed, rows = _filtered(scope)
    wanted = {r.incident.id for r in rows}
    # A shared report needs its own category and area covered too, not only its incident's.
    reports = [
        r
        for r in queries.reports_in_window(scope, parsed.filter.start, parsed.filter.end)
        if r.incident_id in wanted
    ]
    kinds = device_kinds(r.device_id for r in reports)
    areas = scope_area_names(scope, "reports")
    body = csv_body(
        *_scoped(
            REPORT_COLUMNS,
            (
                (
                    r.org_id,
                    scope.detail(r.org_id, r.category_code, r.area_id),
                    _report_row(r, kinds, areas),
                )
                for r in reports
            ),
            scope,
            current_user.role,
        )
    )
    audit("export.reports_csv", parsed.query)
    return _download(body, "text/csv; charset=utf-8", _filename(parsed, "rapporter", "csv"))


def _report_row(r: Report, kinds: dict[int, str], areas: dict[int, str]) -> list[Any]:
    """One report as a CSV row: the reporter's kind, never the device's name."""
    return [
        str(r.id),
        str(r.incident_id) if r.incident_id else "",
        r.created_at,
        lb.category_label(r.category_code),
        r.severity,
        lb.status_label(r.status),
        r.description,
        r.place,
        r.people_count,
        lb.kind_label(kinds.get(r.device_id, "other")),
        areas.get(r.area_id, "") if r.area_id else "",
        r.lat,
        r.lon,
        r.accuracy_m,
        len(r.photos or []),
    ]


@bp.get("/export/incidents.geojson")
@login_required
def incidents_geojson() -> Response:
    """The filtered incidents as a GeoJSON FeatureCollection (RFC 7946, WGS 84 lon/lat)."""
    scope = current_scope()
    parsed, rows = _filtered(scope)
    areas = scope_area_names(scope, "reports")
    features = [_feature(r, areas, current_user.role, scope) for r in rows]
    doc = {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "from": parsed.filter.start.isoformat(),
            "to": parsed.filter.end.isoformat(),
        },
    }
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    audit("export.incidents_geojson", parsed.query)
    return _download(body, "application/geo+json", _filename(parsed, "handelser", "geojson"))


def _feature(
    row: queries.IncidentRow, areas: dict[int, str], role: str, scope: Scope
) -> dict[str, Any]:
    """One incident as a GeoJSON feature (a null geometry when it has no position).

    An analyst gets no free text, nor a link to the incident page it may not open; an
    incident shared at `reports` has no place text or summary for anybody.
    """
    i = row.incident
    geometry = (
        {"type": "Point", "coordinates": [i.lon, i.lat]}
        if i.lat is not None and i.lon is not None
        else None
    )
    properties = {
        "id": str(i.id),
        "url": url_for("workspace.incident", incident_id=_uuid(i.id)),
        "first_at": i.first_at.isoformat(),
        "last_at": i.last_at.isoformat(),
        "category": i.category_code,
        "category_label": lb.category_label(i.category_code),
        "status": i.status,
        "status_label": lb.status_label(i.status),
        "responsible": i.responsible,
        "area": areas.get(i.area_id) if i.area_id else None,
        "place": i.place,
        "report_count": i.report_count,
        "reports_in_window": row.reports_in_window,
        "device_kinds": list(row.kinds),
        "urgent": i.urgent,
        "max_severity": i.max_severity,
        "summary": i.summary,
    }
    if _names_owners(scope):
        properties["owner"] = owner_label(i.org_id)
    if not access.reads_free_text(role):
        for name in FREE_TEXT_PROPERTIES:
            del properties[name]
    elif scope.detail(i.org_id, i.category_code, i.area_id) != "full":
        for name in SHARED_FREE_TEXT_PROPERTIES:
            del properties[name]
    return {"type": "Feature", "id": str(i.id), "geometry": geometry, "properties": properties}


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

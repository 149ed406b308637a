"""Exports of the åtgärdsplan (CSV for Swedish Excel, GeoJSON) and the weekly EST export.

The CSV dialect is the workspace's own (`export.csv_body`: UTF-8 with BOM, ";", CRLF);
due and done dates are written YYYY-MM-DD. A shared action's text is left out below a
`full` agreement, as on the page. Every export is written to the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask_login import login_required

from server.actions import est
from server.workspace import bp
from server.workspace.action_views import filtered_rows, row_view, today
from server.workspace.export import csv_body
from server.workspace.hooks import audit, render_error
from server.workspace.i18n import t
from server.workspace.scoping import current_scope, scope_area_names

ACTION_COLUMNS = (
    "action.col.id",
    "action.col.text",
    "action.col.owner_kind",
    "action.col.owner_name",
    "action.col.priority",
    "action.col.status",
    "action.col.due_date",
    "action.col.done_date",
    "action.col.overdue",
    "action.col.area",
    "action.col.source",
    "action.col.shared_by",
)


def _download(body: bytes, mimetype: str, name: str) -> Response:
    """Answer with a file to download."""
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def _rows() -> tuple[list[tuple[Any, dict[str, Any]]], str]:
    """Return the filtered actions with their table views, and the filter's query."""
    found, f = filtered_rows()
    areas = scope_area_names(current_scope(), labelled=False)
    day = today()
    return [(r, row_view(r, areas, day)) for r in found], f.query


@bp.get("/atgardsplan.csv")
@login_required
def actions_csv() -> Response:
    """The filtered åtgärdsplan as CSV for Swedish Excel."""
    rows, query = _rows()
    body = csv_body(
        [t(c) for c in ACTION_COLUMNS],
        (
            (
                v["id"],
                v["text"],
                v["owner_kind"],
                v["owner_name"],
                v["priority"],
                v["status_label"],
                v["due_date"].isoformat() if v["due_date"] else "",
                r.action.done_date.isoformat() if r.action.done_date else "",
                v["overdue"],
                v["areas"],
                v["source"],
                v["owner"],
            )
            for r, v in rows
        ),
    )
    audit("actions.export_csv", query)
    return _download(body, "text/csv; charset=utf-8", "atgardsplan.csv")


@bp.get("/atgardsplan.geojson")
@login_required
def actions_geojson() -> Response:
    """The filtered åtgärdsplan as GeoJSON: one Feature per action at its first located source."""
    rows, query = _rows()
    features = []
    for r, v in rows:
        point = r.point
        features.append(
            {
                "type": "Feature",
                "geometry": None
                if point is None
                else {"type": "Point", "coordinates": [point[1], point[0]]},
                "properties": {
                    "id": v["id"],
                    "text": v["text"],
                    "owner_kind": r.action.owner_kind,
                    "owner_name": v["owner_name"],
                    "priority": r.action.priority,
                    "status": r.action.status,
                    "due_date": v["due_date"].isoformat() if v["due_date"] else None,
                    "done_date": r.action.done_date.isoformat() if r.action.done_date else None,
                    "overdue": v["overdue"],
                    "area": v["areas"],
                    "shared_by": v["owner"] or None,
                },
            }
        )
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    audit("actions.export_geojson", query)
    return _download(body.encode("utf-8"), "application/geo+json", "atgardsplan.geojson")


@bp.get("/export/est")
@login_required
def est_export() -> Response:
    """The organisation's reports and actions of one ISO week (?week=2026-W49; none: this week)."""
    raw = request.args.get("week", "")
    if not raw:
        # No week asked for: this week so far.
        iso = today().isocalendar()
        raw = f"{iso.year}-W{iso.week:02d}"
    try:
        year, week = est.parse_week(raw)
    except est.BadWeek:
        return render_error(400, "action.error.bad_week")
    rows = est.est_rows(current_scope().viewer, year, week)
    body = csv_body(est.COLUMNS, (r.values() for r in rows))
    audit("est.export", f"{year}-W{week:02d}")
    return _download(body, "text/csv; charset=utf-8", f"est-{year}-W{week:02d}.csv")

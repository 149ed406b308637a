"""Workspace pages: the night view, an incident's detail and its photos.

Views parse, ask `server.incidents` (and the workspace's `service`) and render; the
coordinator's changes are in `decision_views`, the paged incident list in `list_views`.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from analysis.calendar import last_night, night_window
from server.actions import queries as action_queries
from server.devices.service import device_kinds
from server.digest.content.tally import kept_apart
from server.incidents import queries
from server.incidents import service as incidents
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE, Incident
from server.photos import service as photo_service
from server.photos.delivery import photo_response
from server.privacy.erasure import ERASE_REASONS
from server.sharing.rules import at_least
from server.workspace import bp, service
from server.workspace import labels as lb
from server.workspace.filters import ParsedFilter, filter_options, parse_filter
from server.workspace.hooks import audit, localtime, message
from server.workspace.i18n import t
from server.workspace.night_summary import night_summary
from server.workspace.scoping import current_scope, owner_label, scope_area_names
from server.workspace.tiles import map_csp, tile_attribution, tile_url
from sync.clock import utcnow

LIST_LIMIT = 500
# Incidents offered for a merge or a move: those within this margin of the incident.
NEIGHBOUR_MARGIN = timedelta(hours=12)
NEIGHBOUR_LIMIT = 100


def row_view(row: queries.IncidentRow, areas: dict[int, str]) -> dict[str, Any]:
    """Describe an incident row for the list templates.

    A shared incident names its owner; below `full` its free text (summary, place text)
    stays out, as the agreement says.
    """
    i = row.incident
    scope = current_scope()
    own = i.org_id == scope.viewer
    free_text = own or scope.detail(i.org_id, i.category_code, i.area_id) == "full"
    return {
        "id": str(i.id),
        "first_at": i.first_at,
        "last_at": i.last_at,
        "category": lb.category_label(i.category_code),
        "category_code": i.category_code,
        "status": i.status,
        "status_label": lb.status_label(i.status),
        "responsible_label": lb.responsible_label(i.responsible) if i.responsible else "",
        "area": areas.get(i.area_id, "") if i.area_id else "",
        "place": i.place if free_text else "",
        "summary": i.summary if free_text else "",
        "owner": "" if own else owner_label(i.org_id),
        # Of a shared incident only the covered reports are counted (see the detail page).
        "report_count": i.report_count if own else row.reports_in_window,
        "in_window": row.reports_in_window,
        "kinds": lb.kinds_label(row.kinds),
        "urgent": i.urgent,
        "severity": i.max_severity,
    }


def day_label(day: date) -> str:
    """Show a date as "fredag 20 november"."""
    return t(
        "date.long",
        weekday=t(f"weekday.{day.weekday()}"),
        day=day.day,
        month=t(f"month.{day.month}"),
        year=day.year,
    )


def _list_context(parsed: ParsedFilter) -> dict[str, Any]:
    """Run the filter and build what the list templates show (own and shared incidents)."""
    scope = current_scope()
    areas = scope_area_names(scope, labelled=False)
    rows = queries.list_incidents(scope, parsed.filter, limit=LIST_LIMIT)
    return {
        "rows": [row_view(r, areas) for r in rows],
        "truncated": len(rows) >= LIST_LIMIT,
        "limit": LIST_LIMIT,
        "window_start": parsed.filter.start,
        "window_end": parsed.filter.end,
        **filter_options(scope, parsed),
    }


# --- lists ----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def night() -> str:
    """The landing page: last night's incidents (18:00–06:00), urgent ones first."""
    raw_night = request.args.get("night", "")
    ends = None
    if raw_night:
        try:
            ends = date.fromisoformat(raw_night[:10])
        except ValueError:
            message("filter.bad_date", "error")
        else:
            if not 2000 <= ends.year <= 2100:
                ends = None
    if ends is None:
        start, end = last_night(utcnow())
        ends = end.date()
    else:
        start, end = night_window(ends)
    # The night fixes the window; every other filter of the list applies.
    args = MultiDict(
        [(k, v) for k, v in request.args.items(multi=True) if k not in ("from", "to", "night")]
    )
    if "sort" not in args:
        args["sort"] = "severity"
    parsed = parse_filter(args, current_scope(), utcnow(), window=(start, end))
    context = _list_context(parsed)
    # Calm rounds are presence, shown apart (night_summary), and a safety walk's observations
    # belong to its protocol: neither is an incident to triage.
    context["rows"] = [r for r in context["rows"] if not kept_apart(r["category_code"])]
    html = render_template(
        "workspace/night.html",
        night_label=t("night.window", start=day_label(start.date()), end=day_label(end.date())),
        previous_night=(ends - timedelta(days=1)).isoformat(),
        next_night=(ends + timedelta(days=1)).isoformat(),
        is_last_night=(start, end) == last_night(utcnow()),
        summary=night_summary(current_scope(), start, end),
        **context,
    )
    audit("night.view", parsed.query)
    return html


# --- one incident ---------------------------------------------------------------------------


@bp.get("/incidents/<uuid:incident_id>")
@login_required
def incident(incident_id: uuid.UUID) -> BaseResponse:
    """An incident: its reports and photos, timeline, comments and the coordinator's forms.

    A shared incident is shown as its owner's, read-only but for comments under a `full`
    agreement; below `full` without free text, photos or comments.
    """
    scope = current_scope()
    try:
        item, detail = incidents.get_visible(scope, incident_id)
    except LookupError:
        # An incident's id is its first seed's id and never changes, but a merge removes the
        # source: a link to it (or to a report's id) still leads on to where the report is.
        moved_to = service.incident_of_report(scope.viewer, incident_id)
        if moved_to is None or moved_to == incident_id:
            abort(404)
        return redirect(url_for("workspace.incident", incident_id=moved_to))
    own = item.org_id == scope.viewer
    free_text = detail == "full"
    # An incident may hold reports of related categories or other areas: of a shared one,
    # only the reports the agreement itself covers are shown.
    members = [
        r
        for r in incidents.members(item.id)
        if own or at_least(scope.detail(r.org_id, r.category_code, r.area_id), "reports")
    ]
    kinds = device_kinds(r.device_id for r in members)
    hashes = {p for r in members for p in r.photos or []} if free_text else set()
    have = photo_service.photos_present(item.org_id, hashes)
    areas = scope_area_names(scope, labelled=False)
    places = lb.place_names(item.org_id)
    timeline = incidents.timeline(item.id)
    comments = incidents.comments(item.id) if free_text else []
    people = _people(scope.viewer, {e.actor_id for e in timeline} | {c.author_id for c in comments})
    html = render_template(
        "workspace/incident.html",
        incident=item,
        own=own,
        owner=owner_label(item.org_id),
        free_text=free_text,
        may_decide=own,
        may_comment=free_text,
        summary=item.summary if free_text else "",
        place_text=item.place if free_text else "",
        category=lb.category_label(item.category_code),
        status_label=lb.status_label(item.status),
        responsible_label=lb.responsible_label(item.responsible),
        area=areas.get(item.area_id, "") if item.area_id else "",
        named_place=places.get(item.place_id, "") if item.place_id else "",
        kinds=lb.kinds_label(item.device_kinds or []),
        report_count=item.report_count if own else len(members),
        reports=[
            _report_view(
                r,
                kinds,
                have,
                areas,
                own or (free_text and scope.detail(r.org_id, r.category_code, r.area_id) == "full"),
            )
            for r in members
        ],
        redacted=photo_service.photos_redacted(item.org_id, hashes),
        timeline=[_event_view(e, people) for e in timeline],
        comments=[
            {
                "at": c.created_at,
                "body": c.body,
                "author": people.get(c.author_id, t("actor.automatic"))
                if c.author_id
                else t("actor.automatic"),
            }
            for c in comments
        ],
        statuses=[(s, lb.status_label(s)) for s in INCIDENT_STATUSES],
        responsibles=[(r, lb.responsible_label(r)) for r in RESPONSIBLE],
        neighbours=_neighbours(scope.viewer, item) if own else [],
        max_comment=incidents.MAX_COMMENT,
        erase_reasons=[(c, t(f"erase.reason.{c}")) for c in ERASE_REASONS] if own else [],
        tile_url=tile_url(),
        tile_attribution=tile_attribution(),
        map_points=[
            {
                "lat": r.lat,
                "lon": r.lon,
                "label": f"{localtime(r.created_at)} {lb.category_label(r.category_code)}",
            }
            for r in members
            if r.lat is not None and r.lon is not None
        ],
    )
    audit("incident.view", str(item.id), owner=item.org_id)
    resp = make_response(html)
    # The small map's tiles come from the configured server; all else stays same-origin.
    resp.headers["Content-Security-Policy"] = map_csp()
    return resp


def _report_view(
    r: Any, kinds: dict[int, str], have: set[str], areas: dict[int, str], free_text: bool
) -> dict[str, Any]:
    """Describe one report of the incident; without free text or photos below `full`."""
    return {
        "id": str(r.id),
        "created_at": r.created_at,
        "category": lb.category_label(r.category_code),
        "severity": r.severity,
        "description": r.description if free_text else "",
        "place": r.place if free_text else "",
        "people_count": r.people_count,
        "kind": lb.kind_label(kinds.get(r.device_id, "other")),
        "area": areas.get(r.area_id, "") if r.area_id else "",
        "lat": r.lat,
        "lon": r.lon,
        "photos": [(sha, sha in have) for sha in r.photos or []] if free_text else [],
    }


def _people(viewer: int, person_ids: set[int | None]) -> dict[int, str]:
    """Name the persons of a timeline: colleagues by e-mail, others by their organisation."""
    return {
        pid: email if org_id == viewer else owner_label(org_id)
        for pid, (email, org_id) in service.people(person_ids).items()
    }


def _neighbours(org_id: int, item: Incident) -> list[dict[str, Any]]:
    """Return the incidents around this one in time: candidates for a merge or a move."""
    rows = queries.list_incidents(
        org_id,
        queries.IncidentFilter(
            start=item.first_at - NEIGHBOUR_MARGIN,
            end=item.last_at + NEIGHBOUR_MARGIN,
            sort="time",
        ),
        limit=NEIGHBOUR_LIMIT + 1,
    )
    return [
        {
            "id": str(r.incident.id),
            "label": t(
                "incident.option",
                time=localtime(r.incident.first_at),
                category=lb.category_label(r.incident.category_code),
                place=r.incident.place or "–",
                count=r.incident.report_count,
            ),
        }
        for r in rows
        if r.incident.id != item.id
    ][:NEIGHBOUR_LIMIT]


def _event_view(event: Any, people: dict[int, str]) -> dict[str, Any]:
    """Describe a timeline line in words."""
    data = event.data or {}
    params: dict[str, Any] = {}
    if event.kind == "status":
        params = {"old": lb.status_label(data.get("old")), "new": lb.status_label(data.get("new"))}
    elif event.kind == "responsible":
        params = {
            "old": lb.responsible_label(data.get("old")),
            "new": lb.responsible_label(data.get("new")),
        }
    elif event.kind == "merged":
        params = {"source": short_id(data.get("source")), "count": len(data.get("reports") or [])}
    elif event.kind in ("split", "moved_in"):
        params = {"report": short_id(data.get("report")), "source": short_id(data.get("source"))}
    elif event.kind == "moved_out":
        params = {"report": short_id(data.get("report")), "target": short_id(data.get("target"))}
    key = f"event.{event.kind}"
    text = t(key, **params)
    return {
        "at": event.at,
        "actor": people.get(event.actor_id, t("actor.unknown"))
        if event.actor_id
        else t("actor.automatic"),
        "text": text if text != key else event.kind,
    }


def short_id(value: Any) -> str:
    """Show an id by its first eight characters."""
    return str(value)[:8] if value else "–"


# --- photos ---------------------------------------------------------------------------------


@bp.get("/photos/<sha256>")
@login_required
def photo(sha256: str) -> Response:
    """Serve a photo of a report the person may see in full (thumb, display or full size)."""
    # Own photos, and those of reports shared with the organisation in full.
    size = request.args.get("size", "display")
    path = photo_service.photo_for_scope(current_scope(), sha256, size)
    if path is None:
        # An action's after-photo, under the same rule as the action's page.
        path = action_queries.after_photo_file(current_scope(), sha256, size)
    if path is None:
        abort(404)
    audit("photo.view", f"{sha256} {request.args.get('size', 'display')}")
    return photo_response(path)

"""Workspace pages: login, the night view, the incident list and an incident's detail.

Views parse, delegate to `server.incidents` and render; every change is a POST with the
CSRF token that redirects back (POST-redirect-GET), with its outcome as a flashed message.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from sqlalchemy import String, cast, exists, select
from werkzeug.datastructures import MultiDict

from analysis.calendar import STOCKHOLM, last_night, night_window
from server.auth.models import Person
from server.db import phase
from server.extensions import db
from server.incidents import queries
from server.incidents import service as incidents
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE, AuditEntry, Incident
from server.incidents.service import IncidentError
from server.photos import service as photo_service
from server.photos.views import PHOTO_CSP
from server.reports.models import Report
from server.types import utcnow
from server.workspace import bp
from server.workspace import labels as lb
from server.workspace.auth import (
    authenticate,
    brake,
    clean_text,
    login_required,
    normalise_email,
    safe_next,
    start_session,
)
from server.workspace.filters import ParsedFilter, parse_filter
from server.workspace.hooks import MAP_CSP, TILE_URL, localtime, message
from server.workspace.i18n import t

_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_SHA_RE = re.compile(r"[0-9a-f]{64}")
LIST_LIMIT = 500
# Incidents offered for a merge or a move: those within this margin of the incident.
NEIGHBOUR_MARGIN = timedelta(hours=12)
NEIGHBOUR_LIMIT = 100


# --- helpers --------------------------------------------------------------------------------


def audit(action: str, target: str = "") -> None:
    """Write who viewed or exported what, in its own short write transaction."""
    org_id, person_id = g.org.id, g.person.id
    with phase("write"):
        db.session.add(
            AuditEntry(
                org_id=org_id, person_id=person_id, action=action, target=target[:200], at=utcnow()
            )
        )


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    """Find an id in pasted text (a bare id or a whole incident address)."""
    if not raw:
        return None
    found = _UUID_RE.search(raw[:500])
    return uuid.UUID(found.group(0)) if found else None


def row_view(row: queries.IncidentRow, areas: dict[int, str]) -> dict[str, Any]:
    """Describe an incident row for the list templates."""
    i = row.incident
    return {
        "id": str(i.id),
        "first_at": i.first_at,
        "last_at": i.last_at,
        "category": lb.category_label(i.category_code),
        "status": i.status,
        "status_label": lb.status_label(i.status),
        "responsible_label": lb.responsible_label(i.responsible) if i.responsible else "",
        "area": areas.get(i.area_id, "") if i.area_id else "",
        "place": i.place,
        "summary": i.summary,
        "report_count": i.report_count,
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


def _list_context(parsed: ParsedFilter, org_id: int) -> dict[str, Any]:
    """Run the filter and build what the list templates show."""
    areas = lb.area_names(org_id)
    rows = queries.list_incidents(org_id, parsed.filter, limit=LIST_LIMIT)
    return {
        "rows": [row_view(r, areas) for r in rows],
        "truncated": len(rows) >= LIST_LIMIT,
        "limit": LIST_LIMIT,
        "parsed": parsed,
        "values": parsed.values,
        "filter_messages": [t(k) for k in parsed.messages],
        "categories": [(c.code, lb.category_label(c.code)) for c in lb.categories()],
        "areas": sorted(areas.items(), key=lambda a: a[1]),
        "statuses": [(s, lb.status_label(s)) for s in INCIDENT_STATUSES],
        "responsibles": [(r, lb.responsible_label(r)) for r in RESPONSIBLE],
        "kinds": [(k, lb.kind_label(k)) for k in ("vaktare", "faltare", "nattvandrare", "other")],
        "sorts": [(s, t(f"sort.{s}")) for s in queries.SORTS],
        "window_start": parsed.filter.start,
        "window_end": parsed.filter.end,
    }


# --- login ----------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the login form; check e-mail and password."""
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.person is not None:
            return redirect(nxt)
        return render_template("workspace/login.html", next=nxt, email="")
    email = normalise_email(request.form.get("email", ""))
    password = request.form.get("password", "")
    error = None
    person = None
    if brake().locked(email):
        error = "login.locked"
    else:
        person = authenticate(email, password) if email and password else None
        if person is None:
            error = "login.locked" if brake().fail(email) else "login.failed"
            _audit_failed_login(email)
    if error is not None or person is None:
        html = render_template(
            "workspace/login.html", next=nxt, email=email, error=t(error or "login.failed")
        )
        return Response(html, status=200 if error == "login.failed" else 429)
    brake().succeed(email)
    start_session(person)
    with phase("write"):
        db.session.add(AuditEntry(org_id=person.org_id, person_id=person.id, action="login"))
    return redirect(nxt)


def _audit_failed_login(email: str) -> None:
    """Log a failed login for an existing account (nothing for unknown addresses)."""
    with phase("write"):
        person = db.session.scalar(select(Person).where(Person.email == email))
        if person is not None:
            db.session.add(
                AuditEntry(org_id=person.org_id, person_id=person.id, action="login_failed")
            )


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    person = g.person
    if person is not None:
        org_id, person_id = person.org_id, person.id
        with phase("write"):
            db.session.add(AuditEntry(org_id=org_id, person_id=person_id, action="logout"))
    session.clear()
    message("login.logged_out")
    return redirect(url_for("workspace.login"))


# --- lists ----------------------------------------------------------------------------------


@bp.get("/")
@login_required
def night() -> str:
    """The landing page: last night's incidents (18:00–06:00), urgent ones first."""
    org_id = g.org.id
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
    parsed = parse_filter(args, org_id, utcnow(), window=(start, end))
    context = _list_context(parsed, org_id)
    html = render_template(
        "workspace/night.html",
        night_label=t("night.window", start=day_label(start.date()), end=day_label(end.date())),
        previous_night=(ends - timedelta(days=1)).isoformat(),
        next_night=(ends + timedelta(days=1)).isoformat(),
        is_last_night=(start, end) == last_night(utcnow()),
        urgent_count=sum(1 for r in context["rows"] if r["urgent"]),
        report_count=sum(r["in_window"] for r in context["rows"]),
        **context,
    )
    audit("night.view", parsed.query)
    return html


@bp.get("/incidents")
@login_required
def incident_list() -> str:
    """Incidents with reports in a time window, filtered and sorted from the query string."""
    org_id = g.org.id
    parsed = parse_filter(request.args, org_id, utcnow())
    html = render_template("workspace/incidents.html", **_list_context(parsed, org_id))
    audit("incidents.list", parsed.query)
    return html


# --- one incident ---------------------------------------------------------------------------


@bp.get("/incidents/<uuid:incident_id>")
@login_required
def incident(incident_id: uuid.UUID) -> Response:
    """An incident: its reports and photos, timeline, comments and the coordinator's forms."""
    org_id = g.org.id
    try:
        item = incidents.get(org_id, incident_id)
    except LookupError:
        # An incident's id is its first report's id. If the grouping has since moved that
        # report (a late, earlier report became the seed; a merge), its link still leads on.
        moved_to = db.session.scalar(
            select(Report.incident_id).where(Report.id == incident_id, Report.org_id == org_id)
        )
        if moved_to is None or moved_to == incident_id:
            abort(404)
        return redirect(url_for("workspace.incident", incident_id=moved_to))
    members = incidents.members(item.id)
    kinds = queries.device_kinds(r.device_id for r in members)
    have = photo_service.photos_present(org_id, {p for r in members for p in r.photos or []})
    areas = lb.area_names(org_id)
    places = lb.place_names(org_id)
    timeline = incidents.timeline(item.id)
    comments = incidents.comments(item.id)
    people = _emails({e.actor_id for e in timeline} | {c.author_id for c in comments})
    neighbours = _neighbours(org_id, item)
    html = render_template(
        "workspace/incident.html",
        incident=item,
        category=lb.category_label(item.category_code),
        status_label=lb.status_label(item.status),
        responsible_label=lb.responsible_label(item.responsible),
        area=areas.get(item.area_id, "") if item.area_id else "",
        named_place=places.get(item.place_id, "") if item.place_id else "",
        kinds=lb.kinds_label(item.device_kinds or []),
        reports=[
            {
                "id": str(r.id),
                "created_at": r.created_at,
                "category": lb.category_label(r.category_code),
                "severity": r.severity,
                "description": r.description,
                "place": r.place,
                "people_count": r.people_count,
                "kind": lb.kind_label(kinds.get(r.device_id, "other")),
                "area": areas.get(r.area_id, "") if r.area_id else "",
                "lat": r.lat,
                "lon": r.lon,
                "photos": [(sha, sha in have) for sha in r.photos or []],
            }
            for r in members
        ],
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
        neighbours=neighbours,
        max_comment=incidents.MAX_COMMENT,
        tile_url=TILE_URL,
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
    audit("incident.view", str(item.id))
    resp = make_response(html)
    # The small map's tiles come from OpenStreetMap; everything else stays same-origin.
    resp.headers["Content-Security-Policy"] = MAP_CSP
    return resp


def _emails(person_ids: set[int | None]) -> dict[int, str]:
    """Map person ids to e-mail addresses (coordinators are colleagues, not reporters)."""
    ids = [i for i in person_ids if i is not None]
    if not ids:
        return {}
    return dict(db.session.execute(select(Person.id, Person.email).where(Person.id.in_(ids))).all())


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
                time=_local(r.incident.first_at),
                category=lb.category_label(r.incident.category_code),
                place=r.incident.place or "–",
                count=r.incident.report_count,
            ),
        }
        for r in rows
        if r.incident.id != item.id
    ][:NEIGHBOUR_LIMIT]


def _local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


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
        params = {"source": _short(data.get("source")), "count": len(data.get("reports") or [])}
    elif event.kind in ("split", "moved_in"):
        params = {"report": _short(data.get("report")), "source": _short(data.get("source"))}
    elif event.kind == "moved_out":
        params = {"report": _short(data.get("report")), "target": _short(data.get("target"))}
    key = f"event.{event.kind}"
    text = t(key, **params)
    return {
        "at": event.at,
        "actor": people.get(event.actor_id, t("actor.unknown"))
        if event.actor_id
        else t("actor.automatic"),
        "text": text if text != key else event.kind,
    }


def _short(value: Any) -> str:
    """Show an id by its first eight characters."""
    return str(value)[:8] if value else "–"


# --- decisions ------------------------------------------------------------------------------


def _decide(
    incident_id: uuid.UUID, action: Callable[[], dict[str, Any] | None], done_key: str
) -> Response:
    """Run a decision, flash its outcome and redirect back (to the list if the incident went).

    `action` may return parameters for the success message.
    """
    try:
        params = action() or {}
    except IncidentError as exc:
        db.session.rollback()
        key = f"error.{exc.code}"
        message(key if t(key) != key else "error.decision", "error")
    except LookupError:
        db.session.rollback()
        message("error.not_found", "error")
    else:
        message(done_key, **params)
    still_there = db.session.scalar(select(Incident.id).where(Incident.id == incident_id))
    db.session.commit()
    if still_there is None:
        return redirect(url_for("workspace.incident_list"))
    return redirect(url_for("workspace.incident", incident_id=incident_id))


def _none(_result: object) -> None:
    """Drop a decision's result (its success message has no parameters)."""


def _ids() -> tuple[int, int]:
    """Return the organisation's and the person's ids (read before any commit)."""
    return g.org.id, g.person.id


@bp.post("/incidents/<uuid:incident_id>/status")
@login_required
def set_status(incident_id: uuid.UUID) -> Response:
    """Move the incident through the status workflow."""
    org_id, actor = _ids()
    status = request.form.get("status", "")[:40]
    return _decide(
        incident_id,
        lambda: _none(incidents.set_status(org_id, incident_id, status, actor)),
        "done.status",
    )


@bp.post("/incidents/<uuid:incident_id>/responsible")
@login_required
def set_responsible(incident_id: uuid.UUID) -> Response:
    """Name (or clear) the organisation responsible for acting."""
    org_id, actor = _ids()
    responsible = request.form.get("responsible", "")[:40] or None
    return _decide(
        incident_id,
        lambda: _none(incidents.set_responsible(org_id, incident_id, responsible, actor)),
        "done.responsible",
    )


@bp.post("/incidents/<uuid:incident_id>/comment")
@login_required
def comment(incident_id: uuid.UUID) -> Response:
    """Comment on the incident (the reporting devices see it)."""
    org_id, actor = _ids()
    body = clean_text(request.form.get("body", ""))
    return _decide(
        incident_id,
        lambda: _none(incidents.add_comment(org_id, incident_id, body, actor)),
        "done.comment",
    )


@bp.post("/incidents/<uuid:incident_id>/merge")
@login_required
def merge(incident_id: uuid.UUID) -> Response:
    """Merge another incident (picked or pasted) into this one."""
    org_id, actor = _ids()
    raw = request.form.get("source_id", "").strip() or request.form.get("source", "")
    source = parse_uuid(raw)
    if source is None:
        message("error.bad_id", "error")
        return redirect(url_for("workspace.incident", incident_id=incident_id))
    return _decide(
        incident_id,
        lambda: _none(incidents.merge(org_id, incident_id, source, actor)),
        "done.merge",
    )


def _own_report(org_id: int, incident_id: uuid.UUID, report_id: uuid.UUID) -> bool:
    """Tell whether the report is (still) one of this incident's."""
    found = db.session.scalar(
        select(Report.id).where(
            Report.id == report_id, Report.org_id == org_id, Report.incident_id == incident_id
        )
    )
    return found is not None


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/split")
@login_required
def split(incident_id: uuid.UUID, report_id: uuid.UUID) -> Response:
    """Split a report out of the incident into an incident of its own."""
    org_id, actor = _ids()
    if not _own_report(org_id, incident_id, report_id):
        message("error.report_not_here", "error")
        return redirect(url_for("workspace.incident", incident_id=incident_id))

    def run() -> dict[str, Any]:
        return {"new": _short(incidents.move(org_id, report_id, None, actor).id)}

    return _decide(incident_id, run, "done.split")


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/move")
@login_required
def move(incident_id: uuid.UUID, report_id: uuid.UUID) -> Response:
    """Move a report of this incident into another one (picked or pasted)."""
    org_id, actor = _ids()
    raw = request.form.get("target_id", "").strip() or request.form.get("target", "")
    target = parse_uuid(raw)
    if target is None:
        message("error.bad_id", "error")
        return redirect(url_for("workspace.incident", incident_id=incident_id))
    if not _own_report(org_id, incident_id, report_id):
        message("error.report_not_here", "error")
        return redirect(url_for("workspace.incident", incident_id=incident_id))
    resp = _decide(
        incident_id, lambda: _none(incidents.move(org_id, report_id, target, actor)), "done.move"
    )
    gone = not resp.location.endswith(str(incident_id))
    if gone and db.session.get(Incident, target) is not None:
        # The moved report was the last one: follow it to its new incident.
        return redirect(url_for("workspace.incident", incident_id=target))
    return resp


# --- photos ---------------------------------------------------------------------------------


@bp.get("/photos/<sha256>")
@login_required
def photo(sha256: str) -> Response:
    """Serve a photo of one of the organisation's reports (thumb, display or full size)."""
    org_id = g.org.id
    size = request.args.get("size", "display")
    if not _SHA_RE.fullmatch(sha256) or size not in ("thumb", "display", "full"):
        abort(404)
    found = photo_service.find(org_id, sha256)
    named = db.session.scalar(
        select(
            exists().where(Report.org_id == org_id, cast(Report.photos, String).contains(sha256))
        )
    )
    if found is None or not named:
        abort(404)
    path = photo_service.file_for(found, size)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype="image/jpeg", conditional=True)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = PHOTO_CSP
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp

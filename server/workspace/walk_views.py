"""Workspace pages for safety walks: plan, list, edit, close, and the printable protocol.

``/workspace/walks`` lists the organisation's walks with the planning form;
``/workspace/walks/<id>`` edits one; ``/workspace/walks/<id>/follow-up`` plans a follow-up
walk (the form prefilled from it); ``/workspace/walks/<id>/protocol`` is the protocol
(the same template as `lagesbild walk protocol --html`, with no personal names).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from server.db import phase
from server.domain_errors import DomainError, NotFound
from server.extensions import db
from server.geography.service import list_areas
from server.photos.service import photos_present
from server.walks import service as walks
from server.walks.models import PARTICIPANT_KINDS, Walk
from server.walks.protocol import build
from server.walks.render import render_protocol
from server.workspace import bp
from server.workspace.hooks import audit, message
from server.workspace.i18n import current_lang, t
from server.workspace.tiles import map_csp, tile_attribution, tile_url
from server.workspace.walk_form import WalkForm, from_request, from_walk, to_plan
from sync.clock import utcnow

WALK_ID = "<int(max=2147483647):walk_id>"
# Walks are planned on local days (the installation is Swedish, as the pull's calendar).
_LOCAL = ZoneInfo("Europe/Stockholm")


def local_today() -> date:
    """Return today's date in Sweden."""
    return utcnow().astimezone(_LOCAL).date()


def _list_page(form: WalkForm | None = None, status: int = 200) -> Response:
    """Render the walk list with the planning form (a failed form's values and error)."""
    org_id = current_user.org.id
    rows = walks.list_walks(org_id)
    areas = list_areas(org_id)
    html = render_template(
        "workspace/walks.html",
        walks=rows,
        area_names=walks.area_names(rows),
        areas=areas,
        form=form or WalkForm(),
        kinds=PARTICIPANT_KINDS,
        **_draw_context(areas),
    )
    return _with_map(Response(html, status=status, mimetype="text/html"))


def _edit_page(walk_id: int, form: WalkForm, status: int = 200) -> Response:
    """Render the edit form of one walk."""
    walk = walks.get_walk(current_user.org.id, walk_id)
    earlier = db.session.get(Walk, walk.follows_walk_id) if walk.follows_walk_id else None
    areas = list_areas(current_user.org.id)
    html = render_template(
        "workspace/walk_edit.html",
        walk=walk,
        earlier=earlier,
        areas=areas,
        form=form,
        kinds=PARTICIPANT_KINDS,
        **_draw_context(areas),
    )
    return _with_map(Response(html, status=status, mimetype="text/html"))


def _draw_context(areas: list[Any]) -> dict[str, Any]:
    """Return what the form's route map needs: the tiles and each area's bounding box."""
    return {
        "tile_url": tile_url(),
        "tile_attribution": tile_attribution(),
        "area_bounds": {a.id: area_bounds(a.geometry) for a in areas},
    }


def area_bounds(geometry: Any) -> str:
    """Return a GeoJSON geometry's box as "west,south,east,north" ("" when it has none)."""
    lons: list[float] = []
    lats: list[float] = []
    stack = [geometry.get("coordinates") if isinstance(geometry, dict) else None]
    while stack:
        item = stack.pop()
        if not isinstance(item, list):
            continue
        if len(item) >= 2 and all(isinstance(v, int | float) for v in item[:2]):
            lons.append(float(item[0]))
            lats.append(float(item[1]))
        else:
            stack.extend(item)
    if not lons:
        return ""
    return f"{min(lons)},{min(lats)},{max(lons)},{max(lats)}"


def _with_map(resp: Response) -> Response:
    """Allow the route map's tile server on a page with the walk form."""
    resp.headers["Content-Security-Policy"] = map_csp()
    return resp


def _own_walk(walk_id: int) -> None:
    """Answer 404 unless the walk is the organisation's (another's looks missing)."""
    try:
        walks.get_walk(current_user.org.id, walk_id)
    except NotFound:
        abort(404)


@bp.get("/walks")
@login_required
def walks_page() -> Response:
    """List the organisation's walks, with the form to plan one."""
    with phase("read"):
        return _list_page()


@bp.post("/walks")
@login_required
def walk_create() -> Response:
    """Plan a walk; a bad form is shown again with what is wrong."""
    form = WalkForm()
    try:
        form = from_request(request.form, request.files)
        with phase("write"):
            created = walks.create_walk(current_user.org.id, to_plan(form))
    except DomainError as exc:
        form.error = t("walk.error", reason=exc.message)
        with phase("read"):
            return _list_page(form, status=400)
    audit("walk.create", str(created.id))
    message("walk.plan.saved")
    return redirect(url_for("workspace.walk_edit", walk_id=created.id))


@bp.get(f"/walks/{WALK_ID}")
@login_required
def walk_edit(walk_id: int) -> Response:
    """Show a walk's plan in the edit form."""
    with phase("read"):
        _own_walk(walk_id)
        return _edit_page(walk_id, from_walk(walks.get_walk(current_user.org.id, walk_id)))


@bp.post(f"/walks/{WALK_ID}")
@login_required
def walk_update(walk_id: int) -> Response:
    """Change a walk's plan; a bad form is shown again with what is wrong."""
    with phase("read"):
        _own_walk(walk_id)
    form = WalkForm()
    try:
        form = from_request(request.form, request.files)
        with phase("write"):
            walks.update_walk(current_user.org.id, walk_id, to_plan(form))
    except DomainError as exc:
        form.error = t("walk.error", reason=exc.message)
        with phase("read"):
            return _edit_page(walk_id, form, status=400)
    audit("walk.update", str(walk_id))
    message("walk.plan.saved")
    return redirect(url_for("workspace.walk_edit", walk_id=walk_id))


@bp.get(f"/walks/{WALK_ID}/follow-up")
@login_required
def walk_follow_up(walk_id: int) -> Response:
    """Show the form prefilled to plan a follow-up of a walk: same area, route and stops."""
    with phase("read"):
        _own_walk(walk_id)
        earlier = walks.get_walk(current_user.org.id, walk_id)
        form = from_walk(earlier)
        # A later day, never in the past; who takes part is counted anew.
        form.day = max(earlier.walk_date + timedelta(days=1), local_today()).isoformat()
        form.counts = dict.fromkeys(PARTICIPANT_KINDS, "0")
        form.follows = str(earlier.id)
        areas = list_areas(current_user.org.id)
        html = render_template(
            "workspace/walk_follow_up.html",
            earlier=earlier,
            area=walks.area_names([earlier]).get(earlier.area_id or 0),
            areas=areas,
            form=form,
            kinds=PARTICIPANT_KINDS,
            **_draw_context(areas),
        )
    return _with_map(Response(html, mimetype="text/html"))


@bp.post(f"/walks/{WALK_ID}/status")
@login_required
def walk_status(walk_id: int) -> Response:
    """Mark a walk done (or planned again)."""
    with phase("read"):
        _own_walk(walk_id)
    status = request.form.get("status", "")
    try:
        with phase("write"):
            walks.set_status(current_user.org.id, walk_id, status)
    except DomainError:
        abort(400)
    audit("walk.status", f"{walk_id} {status}")
    return redirect(url_for("workspace.walks_page"))


@bp.get(f"/walks/{WALK_ID}/protocol")
@login_required
def walk_protocol(walk_id: int) -> Response:
    """Show a walk's printable protocol (photos through the workspace's photo route)."""
    org_id = current_user.org.id
    with phase("read"):
        try:
            protocol = build(org_id, walk_id)
        except NotFound:
            abort(404)
        named = {sha for o in protocol.observations for sha in o.photos}
        if protocol.follow_up is not None:
            named |= {o.photos[0] for o, _ in protocol.follow_up.items if o.photos}
        present = photos_present(org_id, named)

    def thumb(sha256: str) -> str | None:
        if sha256 not in present:
            return None
        return url_for("workspace.photo", sha256=sha256, size="thumb")

    html = render_protocol(
        protocol, current_lang(), thumb, back_url=url_for("workspace.walks_page")
    )
    audit("walk.protocol", str(walk_id))
    return Response(html, mimetype="text/html")

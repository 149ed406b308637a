"""Workspace page: the recurring places of the trailing 28 days, and naming one.

``/workspace/places`` ranks the recurring places and lets a coordinator name one
(``incidents.areas.create_place``); the named places are listed with their report counts.

Sharing (decision): recurring places are found in the organisation's own reports plus
the reports shared with it at `reports` or `full` (in the agreements' categories and
areas): a cluster's centre, times and members are item-level positions, which a `counts`
share never gives, and an analyst reads its own organisation only. Each recurring place
names the organisations whose reports are in it. Named places stay per organisation:
they are the organisation's own vocabulary (a shared report's named place is the owner's),
so the list and its counts are the organisation's own places and reports only; naming a
recurring place makes a place of the viewer's organisation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from analysis.places import nearest_place
from server.db import phase
from server.geography import service as geography
from server.incidents import areas
from server.workspace import bp, service
from server.workspace.auth import can_edit
from server.workspace.hooks import audit, localtime, message
from server.workspace.i18n import t
from server.workspace.insight_format import recurring_views, scoped_recurring, shared_sources
from server.workspace.scoping import current_scope
from sync.clock import utcnow

PLACE_DAYS = geography.RECURRING_DAYS
PLACE_RADIUS_DEFAULT = 100
PLACE_RADIUS_MIN, PLACE_RADIUS_MAX = 10, 2000
PLACE_NAME_MAX = 200


@dataclass
class PlaceForm:
    """A submitted naming form: the raw values (shown again) and what is wrong."""

    name: str = ""
    radius: str = str(PLACE_RADIUS_DEFAULT)
    lat: str = ""
    lon: str = ""
    error: str = ""


def _places_page(form: PlaceForm | None = None, status: int = 200) -> Response:
    """Render the places page (with a failed form's values and error when given)."""
    org_id = current_user.org.id
    scope = current_scope()
    now = utcnow()
    recurring = recurring_views(scope, scoped_recurring(scope, now))
    named = geography.list_places(org_id)
    circles = [(p.id, p.lat, p.lon, p.radius_m) for p in named]
    by_id = {p.id: p for p in named}
    for view in recurring:
        inside = nearest_place(circles, view["lat"], view["lon"]) if circles else None
        view["named"] = by_id[inside].name if inside is not None else ""
        view["form"] = form if form is not None and _same_spot(form, view) else None
    counts = service.named_place_counts(org_id, now - timedelta(days=PLACE_DAYS))
    html = render_template(
        "workspace/places.html",
        recurring=recurring,
        named=[
            {
                "id": p.id,
                "name": p.name,
                "radius": round(p.radius_m),
                "lat": round(p.lat, 6),
                "lon": round(p.lon, 6),
                "count": counts.get(p.id, 0),
                "created_at": localtime(p.created_at, "%Y-%m-%d"),
            }
            for p in sorted(named, key=lambda p: (-counts.get(p.id, 0), p.name))
        ],
        form=form,
        days=PLACE_DAYS,
        radius_default=PLACE_RADIUS_DEFAULT,
        radius_min=PLACE_RADIUS_MIN,
        radius_max=PLACE_RADIUS_MAX,
        name_max=PLACE_NAME_MAX,
        editable=can_edit(),
        shared_sources=shared_sources(scope, "reports"),
    )
    audit("places.view")
    return Response(html, status=status, mimetype="text/html")


def _same_spot(form: PlaceForm, view: Mapping[str, Any]) -> bool:
    """Tell whether a failed form was sent from this recurring place's row."""
    try:
        return (
            abs(float(form.lat) - view["lat"]) < 1e-6 and abs(float(form.lon) - view["lon"]) < 1e-6
        )
    except ValueError:
        return False


@bp.get("/places")
@login_required
def places() -> Response:
    """Recurring places of the last 28 days and the organisation's named places."""
    return _places_page()


def _number(raw: str) -> float | None:
    """Read a finite number (a decimal comma is accepted), else None."""
    try:
        value = float(raw.strip().replace(",", ".")[:40])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_place(form: PlaceForm, org_id: int) -> tuple[str, float, float, float] | None:
    """Validate the form; set `form.error` (translated) and return None when it is wrong."""
    name = " ".join(form.name.split())
    lat, lon, radius = _number(form.lat), _number(form.lon), _number(form.radius)
    if not name:
        form.error = t("places.error.name_missing")
    elif len(name) > PLACE_NAME_MAX:
        form.error = t("places.error.name_long", max=PLACE_NAME_MAX)
    elif lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        form.error = t("places.error.position")
    elif radius is None or not PLACE_RADIUS_MIN <= radius <= PLACE_RADIUS_MAX:
        form.error = t("places.error.radius", min=PLACE_RADIUS_MIN, max=PLACE_RADIUS_MAX)
    elif service.place_name_taken(org_id, name):
        form.error = t("places.error.exists", name=name)
    if form.error:
        return None
    assert lat is not None and lon is not None and radius is not None
    return name, lat, lon, radius


@bp.post("/places")
@login_required
def name_place() -> Response:
    """Name a place from a recurring cluster; errors are shown on the page, never a 500."""
    org_id, actor = current_user.org.id, current_user.person.id
    form = PlaceForm(
        name=request.form.get("name", "")[:1000],
        radius=request.form.get("radius", "")[:40],
        lat=request.form.get("lat", "")[:40],
        lon=request.form.get("lon", "")[:40],
    )
    checked = _check_place(form, org_id)
    if checked is None:
        with phase("read"):
            return _places_page(form, status=400)
    name, lat, lon, radius = checked
    try:
        with phase("write"):
            place = areas.create_place(org_id, name, lat, lon, radius, actor)
    except geography.PlaceError as exc:
        # A rule we did not check first (or a race on the name): the service's own words.
        form.error = t("places.error.service", reason=str(exc))
        with phase("read"):
            return _places_page(form, status=400)
    audit("places.create", f"{place.id} {name}")
    message("places.created", name=name)
    return redirect(url_for("workspace.places") + "#named-heading")

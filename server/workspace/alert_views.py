"""The page a notification opens and "Kvittera" (acknowledge), also from the incident page."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from server.alerts import ack, rota
from server.alerts.models import Alert
from server.auth.models import Person
from server.db import phase
from server.domain_errors import NotFound
from server.extensions import db
from server.workspace import bp
from server.workspace import labels as lb
from server.workspace.access import EDITORS
from server.workspace.auth import client_address
from server.workspace.hooks import message, render_error
from server.workspace.scoping import current_scope, scope_area_names
from sync.clock import utcnow


def may_acknowledge(person: Person) -> bool:
    """Tell whether the person may acknowledge: an editor, or somebody on the rota.

    Acknowledging stops the escalation, so a reader who is not on call must not silence it.
    """
    return person.role in EDITORS or rota.is_member(person.org_id, person.id)


def alert_view(alert: Alert) -> dict[str, Any]:
    """Describe an alert for the templates: what, where, when, and who acknowledged."""
    who = db.session.get(Person, alert.acknowledged_by) if alert.acknowledged_by else None
    areas = scope_area_names(current_scope(), labelled=False)
    return {
        "id": alert.id,
        "incident_id": alert.incident_id,
        "category": lb.category_label(alert.category_code),
        "area": areas.get(alert.area_id, "") if alert.area_id else "",
        "opened_at": alert.opened_at,
        "level": alert.level,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": who.email if who else "",
        "ended": alert.ended_at is not None,
        "may_ack": current_user.is_authenticated and may_acknowledge(current_user.person),
    }


@bp.app_context_processor
def _alert_helpers() -> dict[str, Any]:
    """Let the incident page ask for its incident's latest alert (None: never urgent)."""

    def incident_alert(incident_id: uuid.UUID) -> dict[str, Any] | None:
        if not current_user.is_authenticated:
            return None
        found = ack.latest_of(current_user.org.id, incident_id)
        return alert_view(found) if found else None

    return {"incident_alert": incident_alert}


def _own_alert(alert_id: int) -> Alert:
    """Return the organisation's alert, or answer with the 404 page."""
    try:
        return ack.alert_of(current_user.org.id, alert_id)
    except NotFound:
        abort(404)


@bp.get("/alerts/<int(max=2147483647):alert_id>")
@login_required
def alert_page(alert_id: int) -> Response:
    """Show one alert with its "Kvittera" button (the page a notification opens)."""
    with phase("read"):
        alert = _own_alert(alert_id)
        html = render_template("workspace/alert.html", alert=alert_view(alert))
    return Response(html, mimetype="text/html")


@bp.post("/alerts/<int(max=2147483647):alert_id>/acknowledge")
@login_required
def alert_ack(alert_id: int) -> BaseResponse:
    """Acknowledge; back to the incident page or the alert page, as the form asks."""
    with phase("write"):
        alert = _own_alert(alert_id)
        incident_id = alert.incident_id
        if not may_acknowledge(current_user.person):
            return render_error(403, "alert.not_on_rota")
        first = ack.acknowledge(current_user.person, alert_id, utcnow(), client_address())
    message("alert.acknowledged" if first else "alert.already")
    if request.form.get("back") == "incident":
        return redirect(url_for("workspace.incident", incident_id=incident_id))
    return redirect(url_for("workspace.alert_page", alert_id=alert_id))

"""Workspace page for admins and coordinators: the on-call rota (jour) and its phone number.

``/workspace/oncall`` shows the levels in order, each with its persons and the minutes
before the next level is told; saving replaces the whole rota (docs/alerts.md).
"""

from __future__ import annotations

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from server.alerts import rota
from server.audit.service import Actor
from server.auth.models import Person
from server.db import phase
from server.domain_errors import DomainError
from server.extensions import db
from server.workspace import bp
from server.workspace.auth import client_address
from server.workspace.hooks import message
from server.workspace.i18n import t

# Error codes of the rota service → catalog keys shown above the form.
ERRORS = {
    "invalid_phone": "oncall.error.phone",
    "invalid_minutes": "oncall.error.minutes",
    "invalid_person": "oncall.error.person",
    "too_many_levels": "oncall.error.levels",
}


def _persons(org_id: int) -> list[Person]:
    """Return the organisation's active persons, the rota's candidates."""
    return list(
        db.session.scalars(
            select(Person)
            .where(Person.org_id == org_id, Person.active.is_(True))
            .order_by(Person.email)
        )
    )


def _page(current: rota.Rota, phone: str, error: str = "", status: int = 200) -> Response:
    """Render the rota form: every level, and one empty level to add (up to the maximum)."""
    levels = list(current.levels)
    if len(levels) < rota.MAX_LEVELS:
        levels.append(rota.Level(len(levels) + 1, rota.DEFAULT_MINUTES, []))
    html = render_template(
        "workspace/oncall.html",
        levels=levels,
        phone=phone,
        persons=_persons(current.org_id),
        error=error,
        max_minutes=rota.MAX_MINUTES,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/oncall")
@login_required
def oncall() -> Response:
    """Show the organisation's rota."""
    with phase("read"):
        current = rota.load(current_user.org.id)
        return _page(current, current.phone or "")


def _form_levels() -> list[rota.Level]:
    """Read the submitted levels (minutes_N, persons_N); a bad number is an error later."""
    levels = []
    for n in range(1, rota.MAX_LEVELS + 2):
        raw_minutes = request.form.get(f"minutes_{n}", "").strip()[:6]
        ids = request.form.getlist(f"persons_{n}")[:200]
        # Values that are not numbers become ones the service refuses with its reason.
        minutes = (
            int(raw_minutes)
            if raw_minutes.isdecimal()
            else (-1 if raw_minutes else rota.DEFAULT_MINUTES)
        )
        person_ids = [int(i) if i.isdecimal() and len(i) < 10 else -1 for i in ids]
        levels.append(rota.Level(n, minutes, person_ids))
    return levels


@bp.post("/oncall")
@login_required
def oncall_save() -> BaseResponse:
    """Replace the rota; a refused form is shown again with its values and the reason."""
    org_id = current_user.org.id
    phone = request.form.get("phone", "")[:40]
    levels = _form_levels()
    try:
        with phase("write"):
            rota.save(org_id, phone, levels, actor=Actor(current_user.person.id, client_address()))
    except DomainError as exc:
        with phase("read"):
            shown = rota.Rota(org_id, None, [lv for lv in levels if lv.person_ids])
            return _page(shown, phone, t(ERRORS.get(exc.code, "oncall.error.other")), 400)
    message("oncall.saved")
    return redirect(url_for("workspace.oncall"))

"""Workspace page for admins: the organisation's sharing agreements (docs/sharing.md).

``/workspace/sharing`` lists the agreements the organisation gives and receives; its admin
makes new ones and revokes its own (admins only: server/workspace/access.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from server.audit.service import Actor
from server.categories.service import list_categories
from server.db import phase
from server.domain_errors import DomainError
from server.geography.service import list_areas
from server.orgs.service import all_organisations
from server.sharing import service
from server.sharing.rules import DETAILS
from server.workspace import bp
from server.workspace import labels as lb
from server.workspace.auth import client_address
from server.workspace.hooks import localtime, message
from server.workspace.i18n import t
from sync.clock import utcnow


@dataclass
class ShareForm:
    """A submitted agreement form: the values (shown again) and what is wrong."""

    to_org: str = ""
    detail: str = "counts"
    categories: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    until: str = ""
    error: str = ""


def _page(form: ShareForm | None = None, status: int = 200) -> Response:
    """Render the agreements page (with a failed form's values and error when given)."""
    org = current_user.org
    now = utcnow()
    rows = []
    area_names: dict[int, dict[str, str]] = {}
    for view in service.agreements(org):
        rule = service.to_rule(view.row)
        if view.from_org.id not in area_names:
            area_names[view.from_org.id] = {a.code: a.name for a in list_areas(view.from_org.id)}
        names = area_names[view.from_org.id]
        rows.append(
            {
                "id": view.row.id,
                "outgoing": view.from_org.id == org.id,
                "other": view.to_org if view.from_org.id == org.id else view.from_org,
                "detail": t(f"sharing.detail.{view.row.detail}"),
                "categories": ", ".join(lb.category_label(c) for c in view.row.categories or [])
                or t("sharing.all"),
                "areas": ", ".join(names.get(c, c) for c in view.row.areas or [])
                or t("sharing.all"),
                "starts": localtime(view.row.starts_at),
                "last_day": str(service.last_day(view.row) or ""),
                "state": t(
                    "sharing.state.revoked"
                    if view.row.revoked_at
                    else "sharing.state.in_force"
                    if rule.in_force(now)
                    else "sharing.state.ended"
                ),
                "revocable": view.from_org.id == org.id and view.row.revoked_at is None,
            }
        )
    html = render_template(
        "workspace/sharing.html",
        rows=rows,
        form=form or ShareForm(),
        orgs=[o for o in all_organisations() if o.id != org.id],
        details=DETAILS,
        categories=[(c.code, lb.category_label(c.code)) for c in list_categories() if c.active],
        areas=list_areas(org.id),
    )
    return Response(html, status=status, mimetype="text/html")


def _actor() -> Actor:
    """Return the logged-in admin and their address, for the audit log."""
    return Actor(current_user.person.id, client_address())


@bp.get("/sharing")
@login_required
def sharing() -> Response:
    """List the agreements the organisation gives and receives."""
    with phase("read"):
        return _page()


@bp.post("/sharing")
@login_required
def share() -> Response:
    """Make an agreement from the admin's organisation; errors are shown on the page."""
    form = ShareForm(
        to_org=request.form.get("to_org", "")[:40],
        detail=request.form.get("detail", "")[:20],
        categories=request.form.getlist("categories")[:100],
        areas=request.form.getlist("areas")[:100],
        until=request.form.get("until", "")[:20],
    )
    targets = {str(o.id): o for o in all_organisations()}
    try:
        until = date.fromisoformat(form.until) if form.until else None
    except ValueError:
        until, form.error = None, t("sharing.error.until")
    if not form.error and form.to_org not in targets:
        form.error = t("sharing.error.to_org")
    if form.error:
        with phase("read"):
            return _page(form, status=400)
    try:
        with phase("write"):
            service.share(
                current_user.org,
                targets[form.to_org],
                form.detail,
                categories=form.categories or None,
                areas=form.areas or None,
                until=until,
                actor=_actor(),
            )
    except DomainError as exc:
        form.error = t("sharing.error.service", reason=exc.message)
        with phase("read"):
            return _page(form, status=400)
    message("sharing.created")
    return redirect(url_for("workspace.sharing"))


@bp.post("/sharing/<int(max=2147483647):agreement_id>/revoke")
@login_required
def revoke_share(agreement_id: int) -> Response:
    """Revoke one of the organisation's own agreements; another's is a 404."""
    with phase("read"):
        mine = {v.row.id for v in service.agreements(current_user.org)
                if v.from_org.id == current_user.org.id}  # fmt: skip
    if agreement_id not in mine:
        abort(404)
    with phase("write"):
        service.revoke(agreement_id, actor=_actor())
    message("sharing.revoked")
    return redirect(url_for("workspace.sharing"))

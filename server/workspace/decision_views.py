"""Workspace decisions on an incident: status, responsible, comment, merge, split and move.

Every change is a POST with the CSRF token that redirects back (POST-redirect-GET), with
its outcome as a flashed message; `server.incidents.service` makes the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from server.incidents import service as incidents
from server.incidents.models import Incident
from server.incidents.service import IncidentError
from server.workspace import bp, service
from server.workspace import labels as lb
from server.workspace.auth import clean_text
from server.workspace.hooks import localtime, message
from server.workspace.i18n import t
from server.workspace.ids import find_uuid
from server.workspace.incident_views import short_id
from server.workspace.scoping import current_scope

# A decision of the incident service: (org_id, subject, value, actor_id) -> its result.
Change = Callable[[int, Any, Any, int], Any]


def _decide(
    incident_id: uuid.UUID,
    done_key: str,
    change: Change,
    subject: Any,
    value: Any,
    params: Callable[[Any], dict[str, Any]] | None = None,
    need: str = "own",
) -> BaseResponse:
    """Run a decision, flash its outcome and redirect back (to the list if the incident went).

    `params` turns the decision's result into parameters for the success message. `need`
    says what a shared incident takes: "own" (only its owner decides) or "comment" (a
    `full` agreement lets the viewer comment; the comment is the owner's incident's).
    """
    org_id = _deciding_org(incident_id, need)
    actor = current_user.person.id  # read before any commit
    try:
        result = service.decide(lambda: change(org_id, subject, value, actor))
    except IncidentError as exc:
        key = f"error.{exc.code}"
        message(key if t(key) != key else "error.decision", "error")
    except LookupError:
        message("error.not_found", "error")
    else:
        message(done_key, **(params(result) if params else {}))
    if not service.incident_exists(org_id, incident_id):
        return redirect(url_for("workspace.incident_list"))
    return _back(incident_id)


def _deciding_org(incident_id: uuid.UUID, need: str) -> int:
    """Return the organisation whose incident is decided on; 403 for a shared one it may not.

    A missing incident, or another organisation's that nothing shares, goes on as the
    person's own organisation's: the decision then says "not found", as for any missing one.
    """
    scope = current_scope()
    try:
        item, detail = incidents.get_visible(scope, incident_id)
    except LookupError:
        return scope.viewer
    if item.org_id == scope.viewer:
        return scope.viewer
    if need == "comment" and detail == "full":
        return item.org_id
    # Status, responsibility and the grouping stay with the owner (the agreement's terms).
    abort(403)


def _back(incident_id: uuid.UUID) -> BaseResponse:
    """Redirect to the incident's page."""
    return redirect(url_for("workspace.incident", incident_id=incident_id))


def _picked(field: str) -> uuid.UUID | None:
    """Read the other incident of a merge or move: picked from the list, else pasted."""
    return find_uuid(request.form.get(f"{field}_id", "").strip() or request.form.get(field, ""))


def _refuse(incident_id: uuid.UUID, key: str) -> BaseResponse:
    """Say why a decision cannot start, and go back to the incident."""
    message(key, "error")
    return _back(incident_id)


def _own(incident_id: uuid.UUID, report_id: uuid.UUID) -> bool:
    """Tell whether the report is (still) one of this incident's."""
    return service.report_in_incident(current_user.org.id, incident_id, report_id)


@bp.post("/incidents/<uuid:incident_id>/status")
@login_required
def set_status(incident_id: uuid.UUID) -> BaseResponse:
    """Move the incident through the status workflow."""
    status = request.form.get("status", "")[:40]
    return _decide(incident_id, "done.status", incidents.set_status, incident_id, status)


@bp.post("/incidents/<uuid:incident_id>/responsible")
@login_required
def set_responsible(incident_id: uuid.UUID) -> BaseResponse:
    """Name (or clear) the organisation responsible for acting."""
    responsible = request.form.get("responsible", "")[:40] or None
    change = incidents.set_responsible
    return _decide(incident_id, "done.responsible", change, incident_id, responsible)


@bp.post("/incidents/<uuid:incident_id>/comment")
@login_required
def comment(incident_id: uuid.UUID) -> BaseResponse:
    """Comment on the incident (the reporting devices see it)."""
    body = clean_text(request.form.get("body", ""))
    change = incidents.add_comment
    return _decide(incident_id, "done.comment", change, incident_id, body, need="comment")


@bp.post("/incidents/<uuid:incident_id>/merge")
@login_required
def merge(incident_id: uuid.UUID) -> BaseResponse:
    """Merge another incident (picked or pasted) into this one, once confirmed.

    The first press shows what the merged incident will be called and asks again; only a
    form with confirm=yes (the confirmation's own) merges.
    """
    source = _picked("source")
    if source is None:
        return _refuse(incident_id, "error.bad_id")
    if request.form.get("confirm") != "yes":
        return _confirm_merge(incident_id, source)
    return _decide(incident_id, "done.merge", incidents.merge, incident_id, source)


def _confirm_merge(incident_id: uuid.UUID, source: uuid.UUID) -> BaseResponse:
    """Show the merge's result (its name and size) with a button that makes it."""
    org_id = _deciding_org(incident_id, "own")
    try:
        preview = incidents.merge_preview(org_id, incident_id, source)
    except IncidentError as exc:
        key = f"error.{exc.code}"
        message(key if t(key) != key else "error.decision", "error")
        return _back(incident_id)
    except LookupError:
        message("error.not_found", "error")
        if not service.incident_exists(org_id, incident_id):
            return redirect(url_for("workspace.incident_list"))
        return _back(incident_id)
    html = render_template(
        "workspace/merge_confirm.html",
        target=_named(preview.target),
        source=_named(preview.source),
        result=incident_name(preview.name.category_code, preview.name.place),
        report_count=preview.report_count,
        summary=preview.name.summary,
    )
    return make_response(html)


def incident_name(category_code: str, place: str) -> str:
    """Name an incident as its page's heading does: "Skadegörelse – Busskuren"."""
    label = lb.category_label(category_code)
    return f"{label} – {place}" if place else label


def _named(item: Incident) -> dict[str, Any]:
    """Describe one of the merge's two incidents for the confirmation."""
    return {
        "id": str(item.id),
        "name": incident_name(item.category_code, item.place),
        "time": localtime(item.first_at),
        "report_count": item.report_count,
    }


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/split")
@login_required
def split(incident_id: uuid.UUID, report_id: uuid.UUID) -> BaseResponse:
    """Split a report out of the incident into an incident of its own."""
    _deciding_org(incident_id, "own")
    if not _own(incident_id, report_id):
        return _refuse(incident_id, "error.report_not_here")

    def new_incident(moved: Any) -> dict[str, Any]:
        return {"new": short_id(moved.id)}

    return _decide(incident_id, "done.split", incidents.move, report_id, None, new_incident)


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/move")
@login_required
def move(incident_id: uuid.UUID, report_id: uuid.UUID) -> BaseResponse:
    """Move a report of this incident into another one (picked or pasted)."""
    _deciding_org(incident_id, "own")
    target = _picked("target")
    if target is None:
        return _refuse(incident_id, "error.bad_id")
    if not _own(incident_id, report_id):
        return _refuse(incident_id, "error.report_not_here")
    resp = _decide(incident_id, "done.move", incidents.move, report_id, target)
    gone = not resp.location.endswith(str(incident_id))
    if gone and service.incident_exists(current_user.org.id, target):
        # The moved report was the last one: follow it to its new incident.
        return _back(target)
    return resp

"""Workspace decisions on an incident: status, responsible, comment, merge, split and move.

Every change is a POST with the CSRF token that redirects back (POST-redirect-GET), with
its outcome as a flashed message; `server.incidents.service` makes the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from server.incidents import service as incidents
from server.incidents.service import IncidentError
from server.workspace import bp, service
from server.workspace.auth import clean_text
from server.workspace.hooks import message
from server.workspace.i18n import t
from server.workspace.ids import find_uuid
from server.workspace.incident_views import short_id


def _decide(
    incident_id: uuid.UUID, action: Callable[[], dict[str, Any] | None], done_key: str
) -> BaseResponse:
    """Run a decision, flash its outcome and redirect back (to the list if the incident went).

    `action` may return parameters for the success message.
    """
    try:
        params = service.decide(action) or {}
    except IncidentError as exc:
        key = f"error.{exc.code}"
        message(key if t(key) != key else "error.decision", "error")
    except LookupError:
        message("error.not_found", "error")
    else:
        message(done_key, **params)
    if not service.incident_exists(incident_id):
        return redirect(url_for("workspace.incident_list"))
    return _back(incident_id)


def _back(incident_id: uuid.UUID) -> BaseResponse:
    """Redirect to the incident's page."""
    return redirect(url_for("workspace.incident", incident_id=incident_id))


def _none(_result: object) -> None:
    """Drop a decision's result (its success message has no parameters)."""


def _ids() -> tuple[int, int]:
    """Return the organisation's and the person's ids (read before any commit)."""
    return current_user.org.id, current_user.person.id


@bp.post("/incidents/<uuid:incident_id>/status")
@login_required
def set_status(incident_id: uuid.UUID) -> BaseResponse:
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
def set_responsible(incident_id: uuid.UUID) -> BaseResponse:
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
def comment(incident_id: uuid.UUID) -> BaseResponse:
    """Comment on the incident (the reporting devices see it)."""
    org_id, actor = _ids()
    body = clean_text(request.form.get("body", ""))
    return _decide(
        incident_id,
        lambda: _none(incidents.add_comment(org_id, incident_id, body, actor)),
        "done.comment",
    )


def _picked(field: str) -> uuid.UUID | None:
    """Read the other incident of a merge or move: picked from the list, else pasted."""
    return find_uuid(request.form.get(f"{field}_id", "").strip() or request.form.get(field, ""))


@bp.post("/incidents/<uuid:incident_id>/merge")
@login_required
def merge(incident_id: uuid.UUID) -> BaseResponse:
    """Merge another incident (picked or pasted) into this one."""
    org_id, actor = _ids()
    source = _picked("source")
    if source is None:
        message("error.bad_id", "error")
        return _back(incident_id)
    return _decide(
        incident_id,
        lambda: _none(incidents.merge(org_id, incident_id, source, actor)),
        "done.merge",
    )


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/split")
@login_required
def split(incident_id: uuid.UUID, report_id: uuid.UUID) -> BaseResponse:
    """Split a report out of the incident into an incident of its own."""
    org_id, actor = _ids()
    if not service.report_in_incident(org_id, incident_id, report_id):
        message("error.report_not_here", "error")
        return _back(incident_id)

    def run() -> dict[str, Any]:
        return {"new": short_id(incidents.move(org_id, report_id, None, actor).id)}

    return _decide(incident_id, run, "done.split")


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/move")
@login_required
def move(incident_id: uuid.UUID, report_id: uuid.UUID) -> BaseResponse:
    """Move a report of this incident into another one (picked or pasted)."""
    org_id, actor = _ids()
    target = _picked("target")
    if target is None:
        message("error.bad_id", "error")
        return _back(incident_id)
    if not service.report_in_incident(org_id, incident_id, report_id):
        message("error.report_not_here", "error")
        return _back(incident_id)
    resp = _decide(
        incident_id, lambda: _none(incidents.move(org_id, report_id, target, actor)), "done.move"
    )
    gone = not resp.location.endswith(str(incident_id))
    if gone and service.incident_exists(target):
        # The moved report was the last one: follow it to its new incident.
        return _back(target)
    return resp

"""An admin erases a report of the organisation's own incident (`server.privacy.erasure`).

The incident page offers it per report to admins only, as a form that asks for the reason
and a confirmation; the POST here checks both, then erases the report everywhere (its
photos, the incident's summary, the archived digests) and records the reason in the audit
log. A shared incident is refused (403) like any decision on it; another organisation's
incident the person cannot see answers as a missing one.
"""

from __future__ import annotations

import uuid

from flask import redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from server.audit.service import Actor
from server.domain_errors import NotFound
from server.privacy import erasure
from server.workspace import bp, service
from server.workspace.auth import client_address
from server.workspace.decision_views import _back, _deciding_org, _own, _refuse
from server.workspace.hooks import message

CONFIRMED = "yes"


@bp.post("/incidents/<uuid:incident_id>/reports/<uuid:report_id>/erase")
@login_required
def erase_report(incident_id: uuid.UUID, report_id: uuid.UUID) -> BaseResponse:
    """Erase one report of this incident for good, after the form's confirmation."""
    org_id = _deciding_org(incident_id, "own")
    if not service.incident_exists(org_id, incident_id):
        message("error.not_found", "error")
        return redirect(url_for("workspace.incident_list"))
    if not _own(incident_id, report_id):
        return _refuse(incident_id, "error.report_not_here")
    reason = request.form.get("reason", "")
    if reason not in erasure.ERASE_REASONS:
        return _refuse(incident_id, "error.erase_reason")
    if request.form.get("confirm") != CONFIRMED:
        return _refuse(incident_id, "error.erase_confirm")
    actor = Actor(current_user.person.id, client_address())
    try:
        done = erasure.erase_report(report_id, reason, actor)
    except NotFound:
        return _refuse(incident_id, "error.report_not_here")
    message("done.erase", digests=len(done.digests))
    if not service.incident_exists(org_id, incident_id):
        return redirect(url_for("workspace.incident_list"))
    return _back(incident_id)

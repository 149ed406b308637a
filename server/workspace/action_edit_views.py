"""Editing an action on its page: text, owner, priority and due date ("Ändra").

The values are checked by the same rules as a new action's (`action_in`) and changed by
`server.actions.service.edit_action`, which puts the changes on the action's timeline. A
refused edit shows the action's page again with the values as sent and the reason (400).
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response as BaseResponse

from server.actions import service as actions
from server.actions.schemas import ActionError, action_in
from server.workspace import bp
from server.workspace.action_views import MAX_ROW_ID, _actor, _form_values, action_page
from server.workspace.auth import clean_text
from server.workspace.hooks import message
from server.workspace.scoping import current_scope


@bp.post(f"/atgardsplan/<int(max={MAX_ROW_ID}):action_id>/edit")
@login_required
def action_edit(action_id: int) -> BaseResponse | tuple[str, int]:
    """Change an action's text, owner, priority and due date; a refusal keeps the input."""
    form = request.form
    org_id = current_scope().viewer
    try:
        # Whose action and whether it is open, before the values: a partner's action is
        # missing here whatever was sent.
        actions.check_editable(org_id, action_id)
        item = action_in(
            text=clean_text(form.get("text", "")),
            owner_kind=form.get("owner_kind", ""),
            owner_name=clean_text(form.get("owner_name", "")),
            priority=form.get("priority", ""),
            due_date=form.get("due_date", ""),
        )
        changes = actions.edit_action(org_id, action_id, item, _actor())
    except LookupError:
        # Another organisation's action (even one shared with us) is missing here.
        abort(404)
    except ActionError as exc:
        values = _form_values(form)
        values["report_ids"], values["incident_ids"] = [], []
        return action_page(action_id, edit=values, edit_error=exc.code, status=400)
    message("action.done.edited" if changes else "action.done.unchanged")
    return redirect(url_for("workspace.action", action_id=action_id))

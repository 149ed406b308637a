"""The åtgärdsplan's rules: create an action from its sources, edit it, move it on.

Every change is one transaction: the action, a line of its timeline (`ActionEvent`: who,
when, from → to) and an audit log entry commit together or not at all. Reads live in
`server.actions.queries`.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update

from server.actions.models import (
    FINAL_STATUSES,
    FORWARD,
    Action,
    ActionEvent,
    ActionIncident,
    ActionReport,
)
from server.actions.schemas import ActionError, ActionIn, StatusIn
from server.audit import service as audit
from server.audit.service import Actor
from server.db import phase
from server.domain_errors import NotFound
from server.extensions import db
from server.incidents.models import Incident
from server.orgs.counter import lock_grouping
from server.photos import service as photos
from server.reports.models import Report
from sync.clock import utcnow


def allowed_next(status: str) -> tuple[str, ...]:
    """Return the statuses an action may move to: the next step forward, or avslagen."""
    if status in FINAL_STATUSES:
        return ()
    step = FORWARD.index(status)
    return (FORWARD[step + 1], "avslagen")


def _event(action: Action, actor: Actor, kind: str, **data: Any) -> None:
    """Add a line to the action's timeline."""
    db.session.add(
        ActionEvent(
            action_id=action.id, actor_id=actor.person_id, kind=kind, at=utcnow(), data=data
        )
    )


def _check_sources(org_id: int, item: ActionIn) -> None:
    """Refuse a source id that is not one of the organisation's reports or incidents.

    Another organisation's report answers exactly like a missing one.
    """
    if item.report_ids:
        found = set(
            db.session.scalars(
                select(Report.id).where(Report.org_id == org_id, Report.id.in_(item.report_ids))
            )
        )
        if missing := [i for i in item.report_ids if i not in found]:
            raise ActionError("unknown_source", f"No report {missing[0]}.")
    if item.incident_ids:
        found = set(
            db.session.scalars(
                select(Incident.id).where(
                    Incident.org_id == org_id, Incident.id.in_(item.incident_ids)
                )
            )
        )
        if missing := [i for i in item.incident_ids if i not in found]:
            raise ActionError("unknown_source", f"No incident {missing[0]}.")


def create(org_id: int, item: ActionIn, actor: Actor) -> Action:
    """Create a proposed action (föreslagen) of the organisation, linked to its sources."""
    with phase("write"):
        # Freezing pins reports: a grouping pass of the organisation must not run meanwhile.
        lock_grouping(org_id)
        _check_sources(org_id, item)
        now = utcnow()
        action = Action(
            org_id=org_id,
            text=item.text,
            owner_kind=item.owner_kind,
            owner_name=item.owner_name,
            priority=item.priority,
            due_date=item.due_date,
            status="foreslagen",
            reason="",
            created_by=actor.person_id,
            created_at=now,
            updated_at=now,
        )
        db.session.add(action)
        db.session.flush()
        db.session.add_all(ActionReport(action_id=action.id, report_id=r) for r in item.report_ids)
        db.session.add_all(
            ActionIncident(action_id=action.id, incident_id=i) for i in item.incident_ids
        )
        _freeze(list(item.incident_ids))
        _event(action, actor, "created", new="foreslagen")
        audit.add(org_id, "action.create", str(action.id), actor)
    return action


def _freeze(incident_ids: list[uuid.UUID]) -> None:
    """Pin the incidents an action is made from: a decision was taken about them.

    As for a status or a comment, the automatic grouping then never moves their reports,
    so it never empties (and deletes) an incident an action points at.
    """
    if not incident_ids:
        return
    db.session.execute(update(Incident).where(Incident.id.in_(incident_ids)).values(frozen=True))
    db.session.execute(
        update(Report).where(Report.incident_id.in_(incident_ids)).values(incident_pinned=True)
    )


def _locked(org_id: int, action_id: int) -> Action:
    """Load the organisation's action afresh in the open write, or raise NotFound."""
    action = db.session.scalar(
        select(Action)
        .where(Action.id == action_id, Action.org_id == org_id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    if action is None:
        raise NotFound("not_found", f"no action {action_id}")
    return action


def check_move(org_id: int, action_id: int, status: str) -> None:
    """Refuse a move the workflow does not allow, before anything (a photo) is stored."""
    with phase("read"):
        current = db.session.scalar(
            select(Action.status).where(Action.id == action_id, Action.org_id == org_id)
        )
    if current is None:
        raise NotFound("not_found", f"no action {action_id}")
    if status not in allowed_next(current):
        raise ActionError("bad_transition", f"An action cannot go from {current} to {status}.")


def set_status(
    org_id: int, action_id: int, change: StatusIn, actor: Actor, after_photo: str | None = None
) -> Action:
    """Move an action one step forward, or to avslagen; klar and avslagen are final."""
    with phase("write"):
        action = _locked(org_id, action_id)
        old = action.status
        if change.status not in allowed_next(old):
            raise ActionError(
                "bad_transition", f"An action cannot go from {old} to {change.status}."
            )
        action.status = change.status
        action.updated_at = utcnow()
        data: dict[str, Any] = {"old": old, "new": change.status}
        if change.status == "beslutad":
            action.decided_at = action.updated_at
        if change.status == "avslagen":
            action.reason = change.reason
            data["reason"] = change.reason
        if change.status == "klar":
            action.done_date = change.done_date
            action.after_photo = after_photo
            data["done_date"] = str(change.done_date)
            if after_photo:
                data["photo"] = after_photo
        _event(action, actor, "status", **data)
        audit.add(org_id, "action.status", f"{action.id} {old}->{change.status}", actor)
    return action


# What an edit may change, in the order the timeline names the changes.
EDITABLE = ("text", "owner_kind", "owner_name", "priority", "due_date")


def check_editable(org_id: int, action_id: int) -> None:
    """Refuse an edit of another organisation's action (NotFound) or a closed one."""
    with phase("read"):
        current = db.session.scalar(
            select(Action.status).where(Action.id == action_id, Action.org_id == org_id)
        )
    if current is None:
        raise NotFound("not_found", f"no action {action_id}")
    if current in FINAL_STATUSES:
        raise ActionError("closed", f"Action {action_id} is {current} and final.")


def edit_action(org_id: int, action_id: int, item: ActionIn, actor: Actor) -> dict[str, Any]:
    """Change an open action's text, owner, priority and due date; return what changed.

    The changes ({field: [old, new]}) go on the timeline like a change of status; an edit
    that changes nothing records nothing. A closed action (klar, avslagen) is final.
    """
    with phase("write"):
        action = _locked(org_id, action_id)
        if action.status in FINAL_STATUSES:
            raise ActionError("closed", f"Action {action_id} is {action.status} and final.")
        changes: dict[str, list[Any]] = {}
        for name in EDITABLE:
            old, new = getattr(action, name), getattr(item, name)
            if old != new:
                # Dates as text: the timeline is JSON.
                changes[name] = [_plain(old), _plain(new)]
                setattr(action, name, new)
        if changes:
            action.updated_at = utcnow()
            _event(action, actor, "edited", changes=changes)
            audit.add(org_id, "action.edit", f"{action.id} {','.join(changes)}", actor)
    return changes


def _plain(value: Any) -> Any:
    """Return a value as the timeline's JSON keeps it (a date as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class _Uploader:
    """Who uploads an after-photo to the photo pipeline: the organisation, no device."""

    org_id: int
    id: None = None


def store_after_photo(org_id: int, data: bytes) -> str:
    """Verify, strip and store an after-photo through the photo pipeline; return its hash.

    The pipeline's rules hold: a file that is not an allowed image is refused
    (UnsupportedMedia / Unprocessable / TooLarge), its metadata is stripped.
    """
    if not data:
        raise ActionError("empty_photo", "The photo was empty.")
    sha = hashlib.sha256(data).hexdigest()
    # No device uploaded it: the pipeline records the organisation and no device.
    photos.save_upload(_Uploader(org_id), sha, data)  # type: ignore[arg-type]
    return sha

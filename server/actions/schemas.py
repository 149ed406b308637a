"""Parsing what a coordinator sends about an action: plain values in, checked values out.

The workspace form and the command line both hand raw strings here; every rule that a
value alone can break is checked once, and each refusal is an `ActionError` with a
catalog code (`action.error.<code>`), never an exception the caller did not expect.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from server.actions.models import (
    ACTION_STATUSES,
    MAX_OWNER_NAME,
    MAX_REASON,
    MAX_TEXT,
    OWNER_KINDS,
    PRIORITIES,
)
from server.domain_errors import Invalid


class ActionError(Invalid):
    """An action or a change of one that a rule refuses, with a code for the message."""


@dataclass(frozen=True)
class ActionIn:
    """A new action, checked: its text, owner, priority, due date and sources."""

    text: str
    owner_kind: str
    owner_name: str = ""
    priority: str = "normal"
    due_date: date | None = None
    report_ids: tuple[uuid.UUID, ...] = field(default_factory=tuple)
    incident_ids: tuple[uuid.UUID, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StatusIn:
    """A change of status, checked as far as values alone allow."""

    status: str
    reason: str = ""
    done_date: date | None = None


def parse_date(raw: str | None, code: str = "bad_date") -> date | None:
    """Read a YYYY-MM-DD date (empty: None); refuse anything else."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad(code)
    except ValueError:
        return _bad(code)


def _bad(code: str) -> date:
    """Refuse a malformed date."""
    raise ActionError(code, "A date is written YYYY-MM-DD.")


def parse_ids(raw: Iterable[str]) -> tuple[uuid.UUID, ...]:
    """Read source ids (UUIDs), dropping blanks and repeats; refuse a malformed one."""
    out: list[uuid.UUID] = []
    for item in raw:
        item = item.strip()
        if not item:
            continue
        try:
            value = uuid.UUID(item)
        except ValueError:
            raise ActionError("unknown_source", f"No report or incident {item!r}.") from None
        if value not in out:
            out.append(value)
    return tuple(out)


def action_in(
    text: str,
    owner_kind: str,
    owner_name: str = "",
    priority: str = "normal",
    due_date: str = "",
    report_ids: Iterable[str] = (),
    incident_ids: Iterable[str] = (),
) -> ActionIn:
    """Check a new action's values; raise ActionError for the first one a rule refuses."""
    text = text.strip()
    if not text:
        raise ActionError("text_required", "Describe the action.")
    if len(text) > MAX_TEXT:
        raise ActionError("text_too_long", f"An action is at most {MAX_TEXT} characters.")
    if owner_kind not in OWNER_KINDS:
        raise ActionError("bad_owner_kind", f"Choose an owner: {', '.join(OWNER_KINDS)}.")
    owner_name = owner_name.strip()
    if len(owner_name) > MAX_OWNER_NAME:
        raise ActionError(
            "owner_too_long", f"An owner's name is at most {MAX_OWNER_NAME} characters."
        )
    if priority not in PRIORITIES:
        raise ActionError("bad_priority", f"Choose a priority: {', '.join(PRIORITIES)}.")
    return ActionIn(
        text=text,
        owner_kind=owner_kind,
        owner_name=owner_name,
        priority=priority,
        due_date=parse_date(due_date),
        report_ids=parse_ids(report_ids),
        incident_ids=parse_ids(incident_ids),
    )


def status_in(status: str, reason: str = "", done_date: str = "") -> StatusIn:
    """Check a change of status's values (the transition itself is the service's rule)."""
    if status not in ACTION_STATUSES:
        raise ActionError("unknown_status", f"Unknown status {status!r}.")
    reason = reason.strip()
    if status == "avslagen" and not reason:
        raise ActionError("reason_required", "Say why the action will not be done.")
    if len(reason) > MAX_REASON:
        raise ActionError("reason_too_long", f"A reason is at most {MAX_REASON} characters.")
    done = parse_date(done_date)
    if status == "klar" and done is None:
        raise ActionError("done_date_required", "Give the date the action was done.")
    return StatusIn(status=status, reason=reason if status == "avslagen" else "", done_date=done)

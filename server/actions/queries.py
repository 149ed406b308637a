"""The åtgärdsplan's read side: actions a scope may see, their sources, the overdue ones.

Sharing (docs/actions.md): an organisation sees its own actions in full. Another
organisation's action is visible only when every one of its sources (reports and
incidents) is shared with the viewer at `reports` or more, by the same agreement rules as
the sources themselves (category and area); its text and after-photo only when every
source is shared at `full`. An action with no source has no category or area an
agreement could be checked against: it is shared only by a `full` agreement that covers
every category and every area.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from analysis.calendar import STOCKHOLM
from server.actions.models import FINAL_STATUSES, Action, ActionEvent, ActionIncident, ActionReport
from server.extensions import db
from server.incidents.models import Incident
from server.photos import service as photos
from server.photos.storage import VARIANTS
from server.reports.models import Report
from server.sharing.rules import Scope, at_least
from sync.ids import is_sha256

# Actions one list reads at most (an organisation's plan is hundreds, not thousands).
MAX_ACTIONS = 5000


@dataclass(frozen=True)
class Source:
    """One report or incident an action came from: what an agreement and a map need."""

    kind: str  # "report", "walk" (a report made on a safety walk) or "incident"
    id: uuid.UUID
    org_id: int
    category: str
    area_id: int | None
    lat: float | None
    lon: float | None
    at: datetime


@dataclass
class ActionRow:
    """An action as a list shows it: with its sources, ownership and level of detail."""

    action: Action
    detail: str  # "full" or "reports"
    own: bool
    sources: list[Source] = field(default_factory=list)

    @property
    def area_ids(self) -> set[int]:
        """Return the areas of the action's sources."""
        return {s.area_id for s in self.sources if s.area_id is not None}

    @property
    def point(self) -> tuple[float, float] | None:
        """Return (lat, lon) of the first located source, oldest first; None without one."""
        for s in sorted(self.sources, key=lambda s: s.at):
            if s.lat is not None and s.lon is not None:
                return s.lat, s.lon
        return None

    @property
    def source_kind(self) -> str:
        """Say where the action came from: "incidents", "walk", "reports" or "none"."""
        if any(s.kind == "incident" for s in self.sources):
            return "incidents"
        if any(s.kind == "walk" for s in self.sources):
            return "walk"
        return "reports" if self.sources else "none"

    @property
    def free_text(self) -> bool:
        """Tell whether the viewer may read the action's text and see its after-photo."""
        return self.detail == "full"

    def overdue(self, today: date) -> bool:
        """Tell whether the due date has passed and the action is not finished."""
        return is_overdue(self.action, today)


def is_overdue(action: Action, today: date) -> bool:
    """Tell whether an action's due date has passed while it is not klar or avslagen."""
    return (
        action.due_date is not None
        and action.due_date < today
        and action.status not in FINAL_STATUSES
    )


def sources_of(action_ids: Iterable[int]) -> dict[int, list[Source]]:
    """Return the sources of each action (reports and incidents), read in two queries."""
    ids = sorted(set(action_ids))
    out: dict[int, list[Source]] = defaultdict(list)
    if not ids:
        return out
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for row in db.session.execute(
            select(
                ActionIncident.action_id,
                Incident.id,
                Incident.org_id,
                Incident.category_code,
                Incident.area_id,
                Incident.lat,
                Incident.lon,
                Incident.first_at,
            )
            .join(Incident, Incident.id == ActionIncident.incident_id)
            .where(ActionIncident.action_id.in_(chunk))
        ):
            out[row[0]].append(Source("incident", *row[1:]))
        for row in db.session.execute(
            select(
                ActionReport.action_id,
                Report.id,
                Report.org_id,
                Report.category_code,
                Report.area_id,
                Report.lat,
                Report.lon,
                Report.created_at,
                Report.walk_id,
            )
            .join(Report, Report.id == ActionReport.report_id)
            .where(ActionReport.action_id.in_(chunk))
        ):
            kind = "walk" if row[-1] is not None else "report"
            out[row[0]].append(Source(kind, *row[1:-1]))
    return out


def shared_detail(scope: Scope, owner: int, sources: list[Source]) -> str | None:
    """Return how much of another organisation's action the scope may see (None: nothing)."""
    if owner == scope.viewer:
        return "full"
    if not sources:
        unlimited = any(
            g.owner == owner and g.detail == "full" and g.categories is None and g.area_ids is None
            for g in scope.grants
        )
        return "full" if unlimited else None
    levels = [scope.detail(owner, s.category, s.area_id) for s in sources]
    if not all(at_least(level, "reports") for level in levels):
        return None
    return "full" if all(level == "full" for level in levels) else "reports"


def visible_actions(scope: Scope) -> list[ActionRow]:
    """Return the actions the scope may see, own and shared, newest first."""
    owners = sorted(scope.owners("reports"))
    actions = list(
        db.session.scalars(
            select(Action)
            .where(Action.org_id.in_(owners))
            .order_by(Action.created_at.desc(), Action.id.desc())
            .limit(MAX_ACTIONS)
        )
    )
    sources = sources_of(a.id for a in actions)
    rows = []
    for action in actions:
        found = sources.get(action.id, [])
        detail = shared_detail(scope, action.org_id, found)
        if detail is not None:
            rows.append(ActionRow(action, detail, action.org_id == scope.viewer, found))
    return rows


def get_visible(scope: Scope, action_id: int) -> ActionRow:
    """Return one action the scope may see, or raise LookupError (another's answers alike)."""
    action = db.session.get(Action, action_id)
    if action is None or action.org_id not in scope.owners("reports"):
        raise LookupError(action_id)
    found = sources_of([action.id]).get(action.id, [])
    detail = shared_detail(scope, action.org_id, found)
    if detail is None:
        raise LookupError(action_id)
    return ActionRow(action, detail, action.org_id == scope.viewer, found)


def events(action_id: int) -> list[ActionEvent]:
    """Return an action's timeline, oldest first."""
    return list(
        db.session.scalars(
            select(ActionEvent)
            .where(ActionEvent.action_id == action_id)
            .order_by(ActionEvent.at, ActionEvent.id)
        )
    )


def overdue(org_id: int, today: date) -> list[Action]:
    """Return the organisation's overdue actions, earliest due date first."""
    return list(
        db.session.scalars(
            select(Action)
            .where(
                Action.org_id == org_id,
                Action.status.not_in(sorted(FINAL_STATUSES)),
                Action.due_date.is_not(None),
                Action.due_date < today,
            )
            .order_by(Action.due_date, Action.id)
        )
    )


def actions_for_incident(org_id: int, incident_id: uuid.UUID) -> list[Action]:
    """Return the organisation's actions made from one incident."""
    return list(
        db.session.scalars(
            select(Action)
            .join(ActionIncident, ActionIncident.action_id == Action.id)
            .where(Action.org_id == org_id, ActionIncident.incident_id == incident_id)
            .order_by(Action.created_at)
        )
    )


def photo_named(org_id: int, sha256: str) -> bool:
    """Tell whether one of the organisation's actions has this after-photo."""
    found = db.session.scalar(
        select(Action.id).where(Action.org_id == org_id, Action.after_photo == sha256).limit(1)
    )
    return found is not None


def after_photos(org_id: int) -> set[str]:
    """Return every after-photo hash of the organisation's actions (the purge keeps them)."""
    return set(
        db.session.scalars(
            select(Action.after_photo).where(
                Action.org_id == org_id, Action.after_photo.is_not(None)
            )
        )
    )


def in_period(org_id: int, start: datetime, end: datetime, today: date) -> dict[str, int]:
    """Count the organisation's actions decided and done in a period, and overdue now."""
    decided = done = 0
    # A done date is a Stockholm calendar day: compare with the period's local days.
    first, last = start.astimezone(STOCKHOLM).date(), end.astimezone(STOCKHOLM).date()
    for decided_at, done_date in db.session.execute(
        select(Action.decided_at, Action.done_date).where(Action.org_id == org_id)
    ):
        if decided_at is not None and start <= decided_at < end:
            decided += 1
        if done_date is not None and first <= done_date < last:
            done += 1
    return {"decided": decided, "done": done, "overdue": len(overdue(org_id, today))}


def after_photo_file(scope: Scope, sha256: str, size: str) -> photos.PhotoRef | None:
    """Return the file of an action's after-photo the scope may see in full, else None.

    The same rule as the action's page: own actions, and another organisation's action
    only when every source is shared at `full`. Anything else answers None, like a
    missing photo.
    """
    if not is_sha256(sha256) or size not in VARIANTS:
        return None
    owners = sorted(scope.owners("full"))
    found = list(
        db.session.scalars(
            select(Action).where(Action.org_id.in_(owners), Action.after_photo == sha256)
        )
    )
    sources = sources_of(a.id for a in found)
    for action in found:
        if shared_detail(scope, action.org_id, sources.get(action.id, [])) != "full":
            continue
        photo = photos.find(action.org_id, sha256)
        if photo is not None:
            ref = photos.file_for(photo, size)
            if photos.is_stored(ref):
                return ref
    return None

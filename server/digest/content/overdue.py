"""The åtgärdsplan in the digest: overdue actions, and a week's or a month's counts.

Only the organisation's own åtgärdsplan: another organisation's actions are its own to
follow up. Nothing at all when none is overdue, so a calm digest stays short.
"""

from __future__ import annotations

from datetime import date, datetime

from server.actions.queries import in_period, overdue
from server.digest.content.model import ActionPlanCounts, OverdueAction, OverdueActions

# Actions listed by name; the rest are counted.
OVERDUE_LIMIT = 5


def overdue_actions(org_id: int, day: date) -> OverdueActions | None:
    """Return the actions due before `day` and not finished, earliest first (None: none)."""
    found = overdue(org_id, day)
    if not found:
        return None
    items = tuple(
        OverdueAction(a.id, a.text, a.owner_kind, a.owner_name, a.due_date, a.status)
        for a in found[:OVERDUE_LIMIT]
        if a.due_date is not None
    )
    return OverdueActions(items=items, total=len(found))


def plan_counts(
    org_id: int, kind: str, start: datetime, end: datetime, day: date
) -> ActionPlanCounts | None:
    """Count the actions decided and done in a week or a month, and those overdue on `day`."""
    if kind == "night":
        return None
    counts = in_period(org_id, start, end, day)
    return ActionPlanCounts(counts["decided"], counts["done"], counts["overdue"])

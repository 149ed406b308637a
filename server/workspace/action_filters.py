"""The åtgärdsplan's filter and order: owner, status, area, source and only the overdue.

One query string for the page and its exports (`PlanFilter.query`); an unknown value
filters nothing, as the incident list's filter does with an unknown category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from server.actions import queries
from server.actions.models import ACTION_STATUSES, FINAL_STATUSES, OWNER_KINDS

# Where an action came from (the walks add "walk" once merged: a source report with a walk_id).
SOURCE_KINDS = ("incidents", "walk", "reports", "none")


@dataclass(frozen=True)
class PlanFilter:
    """The åtgärdsplan's filter: owner kind, status, area, source, only overdue."""

    owner: str = ""
    status: str = ""
    area: int | None = None
    source: str = ""
    overdue: bool = False

    def keeps(self, row: queries.ActionRow, day: date) -> bool:
        """Tell whether a row passes the filter."""
        a = row.action
        return (
            (not self.owner or a.owner_kind == self.owner)
            and (not self.status or a.status == self.status)
            and (self.area is None or self.area in row.area_ids)
            and (not self.source or row.source_kind == self.source)
            and (not self.overdue or row.overdue(day))
        )

    @property
    def query(self) -> str:
        """Return the filter as a query string (for page and export links)."""
        parts = [
            f"owner={self.owner}" if self.owner else "",
            f"status={self.status}" if self.status else "",
            f"area={self.area}" if self.area is not None else "",
            f"source={self.source}" if self.source else "",
            "overdue=1" if self.overdue else "",
        ]
        return "&".join(p for p in parts if p)


def parse_plan_filter(args: Any) -> PlanFilter:
    """Read the filter from the query string; an unknown value filters nothing."""
    area_raw = str(args.get("area", ""))
    return PlanFilter(
        owner=o if (o := args.get("owner", "")) in OWNER_KINDS else "",
        status=s if (s := args.get("status", "")) in ACTION_STATUSES else "",
        area=int(area_raw) if area_raw.isascii() and area_raw.isdigit() else None,
        source=s if (s := args.get("source", "")) in SOURCE_KINDS else "",
        overdue=args.get("overdue") == "1",
    )


def plan_order(row: queries.ActionRow) -> tuple[bool, bool, date, float]:
    """Order the plan: open actions by due date, undated ones, then the finished ones.

    The overdue ones come first by themselves (their due dates are the earliest); the
    finished ones go last, newest first.
    """
    a = row.action
    finished = a.status in FINAL_STATUSES
    return (finished, a.due_date is None, a.due_date or date.max, -a.created_at.timestamp())

"""The EST-style weekly export: one row per report and per action of an ISO week.

For the municipality's statutory lägesbild (lag 2023:196): week, date, time, kind,
category (Swedish name), area, position rounded to 3 decimals (about 100 m: a place, not a
doorstep), and the reporter's organisation kind. Never a person's or a device's name, and
no free text. The week is Monday 00:00 to Monday 00:00 in Europe/Stockholm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from analysis.calendar import STOCKHOLM, days_window
from server.actions import queries
from server.actions.models import Action
from server.categories.models import Category
from server.extensions import db
from server.geography.models import Area
from server.orgs.models import Organisation
from server.reports.models import Report

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
# Rows one export holds at most (a municipality's week is hundreds).
MAX_ROWS = 50_000
COLUMNS = (
    "vecka",
    "datum",
    "tid",
    "typ",
    "kategori",
    "område",
    "lat",
    "lon",
    "rapportörens organisation",
)


class BadWeek(ValueError):
    """The week is not an ISO week written YYYY-Www."""


def parse_week(raw: str) -> tuple[int, int]:
    """Read an ISO week "2026-W49"; raise BadWeek for anything else."""
    found = WEEK_RE.match(raw.strip())
    if not found:
        raise BadWeek(raw)
    year, week = int(found.group(1)), int(found.group(2))
    # Weeks at the ends of the calendar overflow the conversion to UTC; no report is there.
    if not 2000 <= year <= 9998:
        raise BadWeek(raw)
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadWeek(raw) from None
    return year, week


def week_window(year: int, week: int) -> tuple[datetime, datetime]:
    """Return Monday 00:00 to the next Monday 00:00 (Stockholm) of an ISO week."""
    monday = date.fromisocalendar(year, week, 1)
    return days_window(monday, monday + timedelta(days=6))


def row_kind(source: str) -> str:
    """Name a row's kind: "rapport", "trygghetsvandring" (a walk observation) or "åtgärd"."""
    return {"action": "åtgärd", "walk": "trygghetsvandring"}.get(source, "rapport")


@dataclass(frozen=True)
class EstRow:
    """One row of the export."""

    week: str
    day: str
    time: str
    kind: str
    category: str
    area: str
    lat: float | None
    lon: float | None
    org_kind: str

    def values(self) -> tuple[object, ...]:
        """Return the row's cells in column order."""
        return (
            self.week,
            self.day,
            self.time,
            self.kind,
            self.category,
            self.area,
            self.lat,
            self.lon,
            self.org_kind,
        )


def _round(value: float | None) -> float | None:
    """Round a coordinate to 3 decimals (about 100 m) for privacy."""
    return None if value is None else round(value, 3)


def est_rows(org_id: int, year: int, week: int) -> list[EstRow]:
    """Return the organisation's reports and actions of the ISO week, in time order."""
    start, end = week_window(year, week)
    label = f"{year}-W{week:02d}"
    categories = dict(db.session.execute(select(Category.code, Category.label_sv)).all())
    areas = dict(db.session.execute(select(Area.id, Area.name).where(Area.org_id == org_id)).all())
    org = db.session.get(Organisation, org_id)
    org_kind = org.kind if org else ""
    found: list[tuple[datetime, EstRow]] = []

    def add(
        at: datetime,
        kind: str,
        category: str,
        area_id: int | None,
        lat: float | None,
        lon: float | None,
    ) -> None:
        """Add one row, its time in Stockholm's wall clock."""
        local = at.astimezone(STOCKHOLM)
        row = EstRow(
            week=label,
            day=local.strftime("%Y-%m-%d"),
            time=local.strftime("%H:%M"),
            kind=kind,
            category=categories.get(category, category),
            area=areas.get(area_id, "") if area_id is not None else "",
            lat=_round(lat),
            lon=_round(lon),
            org_kind=org_kind,
        )
        found.append((at, row))

    for r in db.session.execute(
        select(
            Report.created_at,
            Report.category_code,
            Report.area_id,
            Report.lat,
            Report.lon,
            Report.walk_id,
        )
        .where(
            Report.org_id == org_id,
            Report.created_at >= start,
            Report.created_at < end,
            # A follow-up walk's mark re-checks an earlier observation; it is not a new one.
            Report.follows.is_(None),
        )
        .order_by(Report.created_at)
        .limit(MAX_ROWS)
    ):
        kind = row_kind("walk" if r.walk_id is not None else "report")
        add(r.created_at, kind, r.category_code, r.area_id, r.lat, r.lon)
    actions = list(
        db.session.scalars(
            select(Action)
            .where(Action.org_id == org_id, Action.created_at >= start, Action.created_at < end)
            .order_by(Action.created_at)
            .limit(MAX_ROWS)
        )
    )
    sources = queries.sources_of(a.id for a in actions)
    for a in actions:
        row = queries.ActionRow(a, "full", True, sources.get(a.id, []))
        first = min(row.sources, key=lambda s: s.at) if row.sources else None
        point = row.point
        area_id = first.area_id if first else None
        add(
            a.created_at,
            row_kind("action"),
            first.category if first else "",
            area_id,
            point[0] if point else None,
            point[1] if point else None,
        )
    found.sort(key=lambda pair: pair[0])
    return [row for _at, row in found[:MAX_ROWS]]

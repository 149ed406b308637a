"""Read-side queries for the workspace and the digest.

Every query is bounded by a time window and goes through `ix_reports_org_created`, so its
cost grows with the window, not with the size of the store.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, func, select

from analysis.calendar import STOCKHOLM, days_window
from server.categories import NOT_INCIDENTS
from server.extensions import db
from server.incidents.chunks import in_chunks
from server.incidents.models import CLOSED_STATUSES, Incident
from server.reports.models import Report
from server.sharing.rules import Scope
from server.sharing.scope import visible

# The area key of reports outside every area (area ids start at 1).
NO_AREA = 0
SORTS = ("time", "-time", "reports", "severity", "category", "status")
# Incidents per query when a page is read lazily (`lazy_page_of_incidents`); also the size
# of one IN list, which SQLite bounds.
PAGE_CHUNK = 500


def as_scope(scope: Scope | int) -> Scope:
    """Take a scope, or an organisation id meaning that organisation's own items only."""
    return scope if isinstance(scope, Scope) else Scope.own(scope)


def visible_reports(scope: Scope | int, wanted: str = "counts") -> object:
    """Return the WHERE clause for the reports a scope may see at `wanted` or more."""
    return visible(as_scope(scope), Report.org_id, Report.category_code, Report.area_id, wanted)


def visible_incidents(scope: Scope | int, wanted: str = "reports") -> object:
    """Return the WHERE clause for the incidents a scope may see at `wanted` or more.

    An incident is shared as a whole when its own category and area are covered.
    """
    return visible(
        as_scope(scope), Incident.org_id, Incident.category_code, Incident.area_id, wanted
    )


@dataclass
class IncidentFilter:
    """What the coordinator filtered the incident list by."""

    start: datetime
    end: datetime
    categories: Sequence[str] = ()
    areas: Sequence[int] = ()
    statuses: Sequence[str] = ()
    responsible: Sequence[str] = ()
    device_kinds: Sequence[str] = ()
    sort: str = "-time"
    # Leave out calm rounds (presence, not incidents) unless categories are chosen.
    hide_calm: bool = False


@dataclass
class IncidentRow:
    """An incident with the reports it had in the window."""

    # A plain row of some Incident columns where the caller asked for only those.
    incident: Incident | Row[Any]
    reports_in_window: int
    kinds: list[str] = field(default_factory=list)


def incident_ids_in_window(
    scope: Scope | int, start: datetime, end: datetime
) -> Counter[uuid.UUID]:
    """Count, per incident, the reports created in [start, end) of the organisations in scope.

    A shared report counts only when its own category and area are covered at `reports`
    or more (an incident may hold reports of related categories); which incidents may be
    seen is for the incident query to decide.
    """
    # Counted by the database: one row per incident, not one per report of the window
    # (the map's week is thousands of reports, each a row and a UUID per request; issue 14).
    rows = db.session.execute(
        select(Report.incident_id, func.count())
        .where(
            visible_reports(scope, "reports"),
            Report.created_at >= start,
            Report.created_at < end,
            Report.incident_id.is_not(None),
        )
        .group_by(Report.incident_id)
    )
    return Counter({incident_id: int(n) for incident_id, n in rows})


def _filtered(
    query: Select[Any], scope: Scope | int, f: IncidentFilter, ids: Iterable[uuid.UUID]
) -> Select[Any]:
    """Add the filter's SQL conditions (all but the device kinds) to an incident query."""
    query = query.where(visible_incidents(scope), Incident.id.in_(list(ids)))
    if f.categories:
        query = query.where(Incident.category_code.in_(f.categories))
    elif f.hide_calm:
        query = query.where(Incident.category_code.not_in(sorted(NOT_INCIDENTS)))
    if f.areas:
        query = query.where(Incident.area_id.in_(f.areas))
    if f.statuses:
        query = query.where(Incident.status.in_(f.statuses))
    if f.responsible:
        query = query.where(Incident.responsible.in_(f.responsible))
    return query


def list_incidents(scope: Scope | int, f: IncidentFilter, limit: int = 500) -> list[IncidentRow]:
    """Return the visible incidents with reports in the window that pass the filter, sorted."""
    counts = incident_ids_in_window(scope, f.start, f.end)
    if not counts:
        return []
    rows = [
        IncidentRow(incident=i, reports_in_window=counts[i.id], kinds=list(i.device_kinds or []))
        for i in db.session.scalars(_filtered(select(Incident), scope, f, counts))
    ]
    if f.device_kinds:
        wanted = set(f.device_kinds)
        rows = [r for r in rows if wanted & set(r.kinds)]
    return sort_rows(rows, f.sort)[:limit]


# What the list's orders and its device-kind filter read: a page is chosen from these
# columns alone, so only its own incidents are loaded in full (issue 14: a window of
# 10,000 full rows left the allocator holding memory after every list page).
SORT_COLUMNS = (
    Incident.id,
    Incident.first_at,
    Incident.report_count,
    Incident.status,
    Incident.urgent,
    Incident.max_severity,
    Incident.category_code,
)


def page_of_incidents(
    scope: Scope | int,
    f: IncidentFilter,
    offset: int,
    size: int,
    limit: int = 500,
    columns: Sequence[Any] = (),
) -> tuple[list[IncidentRow], int]:
    """Return `list_incidents(scope, f, limit)[offset:offset + size]` and how many passed.

    The count is of every incident that passes the filter, before the limit. With
    `columns`, each row's `incident` is a plain row of just those Incident columns
    (attributes of the same names; no kinds unless `Incident.device_kinds` is one).
    """
    rows, found = lazy_page_of_incidents(scope, f, offset, size, limit, columns)
    return list(rows), found


def lazy_page_of_incidents(
    scope: Scope | int,
    f: IncidentFilter,
    offset: int,
    size: int,
    limit: int = 500,
    columns: Sequence[Any] = (),
    chunk: int = PAGE_CHUNK,
) -> tuple[Iterator[IncidentRow], int]:
    """Return `page_of_incidents`'s rows as an iterator that loads them `chunk` at a time.

    The page is chosen at once (the count is known), its rows are read only as the caller
    takes them: a caller that writes each row out before taking the next holds one chunk
    of rows, not the map's 2,000 (issue 14).
    """
    counts = incident_ids_in_window(scope, f.start, f.end)
    if not counts:
        return iter(()), 0
    sorting = (*SORT_COLUMNS, Incident.device_kinds) if f.device_kinds else SORT_COLUMNS
    keys: Sequence[Any] = db.session.execute(_filtered(select(*sorting), scope, f, counts)).all()
    if f.device_kinds:
        wanted = set(f.device_kinds)
        keys = [k for k in keys if wanted & set(k.device_kinds or [])]
    found = len(keys)
    ordered = sorted(keys, key=sort_key(f.sort), reverse=f.sort == "-time")
    chosen = [k.id for k in ordered[offset : min(offset + size, limit)]]
    return _rows_of(chosen, counts, columns, chunk), found


def _rows_of(
    chosen: list[uuid.UUID], counts: Counter[uuid.UUID], columns: Sequence[Any], chunk: int
) -> Iterator[IncidentRow]:
    """Yield the chosen incidents' rows in order, reading them `chunk` at a time."""
    for ids in in_chunks(chosen, chunk):
        wanted_rows = select(*columns) if columns else select(Incident)
        fetched = db.session.execute(wanted_rows.where(Incident.id.in_(ids)))
        full = {i.id: i for i in (fetched.all() if columns else fetched.scalars())}
        # An incident merged away between the two queries is left out, not an error.
        for i in (full.get(c) for c in ids):
            if i is not None:
                yield IncidentRow(
                    incident=i,
                    reports_in_window=counts[i.id],
                    kinds=list(getattr(i, "device_kinds", None) or []),
                )


def sort_key(sort: str) -> Callable[[Any], tuple[Any, ...]]:
    """Return the key of an order, for an Incident or a row with the same attribute names.

    Every order ends with the id, so equal incidents keep a fixed order; "-time" is "time"
    reversed (the caller passes reverse=True).
    """
    keyed: dict[str, Callable[[Any], tuple[Any, ...]]] = {
        "time": lambda i: (i.first_at, str(i.id)),
        "-time": lambda i: (i.first_at, str(i.id)),
        "reports": lambda i: (-i.report_count, i.first_at, str(i.id)),
        # "Brådskande först" by what the list shows: open before closed (the status badge),
        # then "Brådskande" (the badge), then the severity (shown in words), then time.
        "severity": lambda i: (
            i.status in CLOSED_STATUSES,
            not i.urgent,
            -(i.max_severity or 0),
            i.first_at,
            str(i.id),
        ),
        "category": lambda i: (i.category_code, i.first_at, str(i.id)),
        "status": lambda i: (i.status, i.first_at, str(i.id)),
    }
    return keyed.get(sort, keyed["-time"])


def sort_rows(rows: list[IncidentRow], sort: str) -> list[IncidentRow]:
    """Sort incident rows; every order ends with the id, so equal rows keep a fixed order."""
    key = sort_key(sort)
    return sorted(rows, key=lambda r: key(r.incident), reverse=sort == "-time")


def reports_in_window(
    scope: Scope | int,
    start: datetime,
    end: datetime,
    incident_ids: Iterable[uuid.UUID] | None = None,
    wanted: str = "reports",
) -> list[Report]:
    """Return the reports in scope created in [start, end), oldest first.

    A shared report is visible when its own category and area are covered at `wanted`.
    """
    query = select(Report).where(
        visible_reports(scope, wanted), Report.created_at >= start, Report.created_at < end
    )
    if incident_ids is not None:
        query = query.where(Report.incident_id.in_(list(incident_ids)))
    return list(db.session.scalars(query.order_by(Report.created_at, Report.id)))


@dataclass
class DailyCounts:
    """Reports per local day, per category and per area, over a range of days."""

    first_day: date
    last_day: date
    by_category: dict[tuple[str, date], int]
    by_area: dict[tuple[int, date], int]  # NO_AREA for reports outside every area
    total: dict[date, int]


def daily_counts(
    scope: Scope | int, first_day: date, last_day: date, tz: ZoneInfo = STOCKHOLM
) -> DailyCounts:
    """Count reports per local calendar day (by category and by area), first..last inclusive.

    Calm rounds are presence, not reports of something: left out, as the digest does.
    """
    start, end = days_window(first_day, last_day, tz)
    by_category: Counter[tuple[str, date]] = Counter()
    by_area: Counter[tuple[int, date]] = Counter()
    total: Counter[date] = Counter()
    rows = db.session.execute(
        select(Report.created_at, Report.category_code, Report.area_id).where(
            visible_reports(scope),
            Report.created_at >= start,
            Report.created_at < end,
            Report.category_code.not_in(sorted(NOT_INCIDENTS)),
        )
    )
    for created_at, category, area in rows:
        day = created_at.astimezone(tz).date()
        by_category[(category, day)] += 1
        by_area[(area or NO_AREA, day)] += 1
        total[day] += 1
    return DailyCounts(first_day, last_day, dict(by_category), dict(by_area), dict(total))


# --- the morning digest (server/digest/content/) -------------------------------------------


def counts_in_window(
    scope: Scope | int, start: datetime, end: datetime
) -> dict[tuple[str, int], int]:
    """Count the reports in scope in [start, end) per (category, area); NO_AREA if none.

    Every level of sharing adds to the numbers (`counts` is exactly that).

    One grouped query over the window (`ix_reports_org_created`): the digest runs it for the
    period and for each comparison period, so its cost follows the windows, not the store.
    """
    rows = db.session.execute(
        select(Report.category_code, Report.area_id, func.count())
        .where(visible_reports(scope), Report.created_at >= start, Report.created_at < end)
        .group_by(Report.category_code, Report.area_id)
    )
    counts: Counter[tuple[str, int]] = Counter()
    for category, area, count in rows:
        counts[(category, area or NO_AREA)] += int(count)
    return dict(counts)


def devices_reporting(org_id: int, start: datetime, end: datetime) -> set[int]:
    """Return the ids of the organisation's devices with a report created in [start, end)."""
    return set(
        db.session.scalars(
            select(Report.device_id)
            .where(Report.org_id == org_id, Report.created_at >= start, Report.created_at < end)
            .distinct()
        )
    )

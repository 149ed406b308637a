"""Read the incident filter from a query string, forgivingly, and offer its choices.

Every value a browser (or anyone) can send is either understood or set aside with a
message: a bad date falls back to the default window, an unknown category is ignored. The
list, the exports and the map share this parser, so they always show the same incidents,
and `filter_options` gives every page's filter form (_filters.html) the same choices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from analysis.calendar import STOCKHOLM, days_window, supported
from server.devices.models import DEVICE_KINDS
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE
from server.incidents.queries import SORTS, IncidentFilter, as_scope
from server.sharing.rules import Scope
from server.workspace import labels as lb
from server.workspace.i18n import t
from server.workspace.scoping import scope_area_names

DEFAULT_DAYS = 7
MAX_DAYS = 400
MULTI_KEYS = ("category", "area", "status", "responsible", "kind")


@dataclass
class ParsedFilter:
    """The filter to run, what the form shows, and what was set aside (catalog keys)."""

    filter: IncidentFilter
    values: dict[str, str | list[str]]
    messages: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        """Return the understood filter as a query string (for export and map links)."""
        pairs: list[tuple[str, str]] = []
        for key in ("from", "to", *MULTI_KEYS, "sort"):
            value = self.values.get(key)
            if isinstance(value, list):
                pairs.extend((key, v) for v in value)
            elif value:
                pairs.append((key, value))
        return urlencode(pairs)


def parse_moment(raw: str, end: bool) -> datetime | None:
    """Read a date ("2026-11-21") or a local date and time ("2026-11-21T18:00").

    A bare date as the end of a window means the whole day (up to midnight after it).
    Returns None for anything else, including dates outside 2000–2100.
    """
    raw = raw.strip()
    if not raw or len(raw) > 40:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if not supported(day):
                return None
            start, end_of_day = days_window(day, day)
            return end_of_day if end else start
        moment = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        return None
    if not supported(moment.date()):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment


def default_window(now: datetime, days: int = DEFAULT_DAYS) -> tuple[datetime, datetime]:
    """Return the last `days` local calendar days, today included."""
    today = now.astimezone(STOCKHOLM).date()
    return days_window(today - timedelta(days=days - 1), today)


def form_value(moment: datetime) -> str:
    """Show a window bound as a local date and time (the form's datetime-local inputs)."""
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M")


def _known(values: Iterable[str], allowed: Iterable[str]) -> tuple[list[str], bool]:
    """Keep the allowed values (in order, once); tell whether any were dropped."""
    allowed = set(allowed)
    kept: list[str] = []
    dropped = False
    for value in values:
        if not value:
            continue
        if value in allowed and value not in kept:
            kept.append(value)
        else:
            dropped = True
    return kept, dropped


def parse_filter(
    args: MultiDict[str, str],
    scope: Scope | int,
    now: datetime,
    window: tuple[datetime, datetime] | None = None,
) -> ParsedFilter:
    """Build the incident filter from query arguments (`window`: the default time window)."""
    messages: list[str] = []
    start, end = window or default_window(now)
    raw_from, raw_to = args.get("from", ""), args.get("to", "")
    if raw_from or raw_to:
        asked_start = parse_moment(raw_from, end=False) if raw_from else start
        asked_end = parse_moment(raw_to, end=True) if raw_to else end
        if asked_start is None or asked_end is None:
            messages.append("filter.bad_date")
        elif asked_start >= asked_end:
            messages.append("filter.empty_window")
        else:
            start, end = asked_start, asked_end
            if end - start > timedelta(days=MAX_DAYS):
                start = end - timedelta(days=MAX_DAYS)
                messages.append("filter.window_capped")
    categories = [c.code for c in lb.categories()]
    areas = [str(a) for a in _area_names(scope)]
    chosen: dict[str, list[str]] = {}
    dropped_any = False
    for key, allowed in (
        ("category", categories),
        ("area", areas),
        ("status", INCIDENT_STATUSES),
        ("responsible", RESPONSIBLE),
        ("kind", DEVICE_KINDS),
    ):
        chosen[key], dropped = _known(args.getlist(key)[:50], allowed)
        dropped_any = dropped_any or dropped
    sort = args.get("sort", "") or "-time"
    if sort not in SORTS:
        sort = "-time"
        dropped_any = True
    if dropped_any:
        messages.append("filter.ignored")
    return ParsedFilter(
        filter=IncidentFilter(
            start=start,
            end=end,
            categories=chosen["category"],
            areas=[int(a) for a in chosen["area"]],
            statuses=chosen["status"],
            responsible=chosen["responsible"],
            device_kinds=chosen["kind"],
            sort=sort,
        ),
        values={
            "from": form_value(start),
            "to": form_value(end),
            **chosen,
            "sort": sort,
        },
        messages=messages,
    )


def _area_names(scope: Scope | int) -> dict[int, str]:
    """Return the areas a filter may choose: the viewer's, and those of organisations sharing."""
    return scope_area_names(as_scope(scope))


def filter_options(scope: Scope | int, parsed: ParsedFilter) -> dict[str, Any]:
    """Return what the shared filter form (_filters.html) shows: values, messages, choices."""
    areas = _area_names(scope)
    return {
        "parsed": parsed,
        "values": parsed.values,
        "filter_messages": [t(k) for k in parsed.messages],
        "categories": [(c.code, lb.category_label(c.code)) for c in lb.categories()],
        "areas": sorted(areas.items(), key=lambda a: a[1]),
        "statuses": [(s, lb.status_label(s)) for s in INCIDENT_STATUSES],
        "responsibles": [(r, lb.responsible_label(r)) for r in RESPONSIBLE],
        "kinds": [(k, lb.kind_label(k)) for k in DEVICE_KINDS],
        "sorts": [(s, t(f"sort.{s}")) for s in SORTS],
    }

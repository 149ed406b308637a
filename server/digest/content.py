"""What the morning digest and the weekly/monthly lägesbild say: one organisation's view.

`build_digest` reads a period of the organisation's reports and incidents and returns a
`Digest`: a tree of frozen dataclasses holding plain values only (no ORM objects), so it
can be rendered (`server.digest.render`) after the database session is gone.

Periods (`period_for`), all in local wall-clock time (Europe/Stockholm), so a period that
crosses a daylight-saving change is as long as the clock on the wall says:

- ``night``: 18:00 the day before `day` to 06:00 on `day` (`queries.night_window`); 11 or
  13 hours across a daylight-saving change.
- ``week``: the seven days ending at 06:00 on `day` (06:00 seven days earlier to 06:00 on
  `day`): seven whole nights. Sent on a Monday it is the past Monday-to-Monday week.
- ``month``: the calendar month before `day`'s month, from 06:00 on its 1st to 06:00 on the
  1st of `day`'s month, so every night belongs to the month of its evening.

Every section is bounded by time, so the cost follows the period, not the store:

- trends compare the period with the same period 1..4 weeks back (night: the same weekday's
  night; week: the four weeks before) or 1..4 months back (month), one grouped count
  query per period;
- recurring places look at the last 28 days before the period's end (a month: the month);
- follow-ups are open incidents first reported in the 90 days before the period (those
  with reports in the period are in its own list instead), at most `FOLLOWUP_LIMIT` shown
  with the number of the rest;
- devices: the organisation's devices (tens to hundreds) and, for silence, the reports of
  the `SILENT_LOOKBACK_DAYS` days before the night.

Devices are only ever named by kind (väktare, fältare, nattvandrare): never a display name
or an id, never a person.

- *Unsent reports*: a device (not revoked) whose latest outbox count — what the phone said
  it still held at its last pull (`outbox_pending` at `outbox_reported_at`, known by `now`)
  — is above zero. Its count and time are shown with its last contact.
- *Silent* (nights only): a device (not revoked) that was out — it reported in the night,
  or in the `SILENT_LOOKBACK_DAYS` days before it, or was seen during the night — but has
  not been heard from (`last_seen_at`) since `SILENT_AFTER` before the night's end (04:00
  for the default night), nor since. A phone that comes back after the night is not silent.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import case, func, select

from analysis.trends import direction_of
from server.categories.models import Category
from server.devices.models import Device
from server.extensions import db
from server.geography.models import Area, NamedPlace
from server.geography.service import RECURRING_DAYS, recurring_places
from server.incidents.models import CLOSED_STATUSES, INCIDENT_STATUSES, Incident
from server.incidents.queries import (
    NIGHT_END,
    NO_AREA,
    STOCKHOLM,
    counts_in_window,
    devices_reporting,
    night_window,
)
from server.orgs.models import Organisation
from server.photos.models import Photo
from server.reports.models import Report
from sync.clock import utcnow

KINDS = ("night", "week", "month")
# The calm-round category: proof that a patrol was out, never an incident to act on.
CALM = "lugnt"
# Periods compared with (the same weekday's night / week 1..4 weeks back, or 1..4 months).
COMPARE_PERIODS = 4
# Follow-ups: open incidents first reported this many days before the period, at most
# FOLLOWUP_LIMIT listed (with the number of the rest).
FOLLOWUP_DAYS = 90
FOLLOWUP_LIMIT = 30
# A device that was out but has not been heard from since this long before the night's end
# has gone silent; "out" includes having reported in the days before the night.
SILENT_AFTER = timedelta(hours=2)
SILENT_LOOKBACK_DAYS = 2
# "Kräver åtgärd": at most this many listed (urgent ones are few; the rest are counted).
ACTION_LIMIT = 50
# Incidents listed by area; a week or a month lists the most pressing ones and counts the rest.
LIST_LIMIT = {"night": 500, "week": 200, "month": 200}
PLACES_LIMIT = 10
PHOTOS_PER_ITEM = 3
SHORT_TEXT = 160
OPEN_STATUSES = tuple(s for s in INCIDENT_STATUSES if s not in CLOSED_STATUSES)
# Incidents fetched per query (bounded IN lists).
CHUNK = 500

CalmState = Literal["incidents", "calm_rounds", "no_reports"]


# --- the digest as plain values --------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInfo:
    """A category's labels in both languages and whether it is urgent."""

    code: str
    label_sv: str
    label_en: str
    urgent: bool
    sort_order: int


@dataclass(frozen=True)
class KindCount:
    """How many devices of one kind reported in the period, and how many reports."""

    kind: str
    devices: int
    reports: int


@dataclass(frozen=True)
class DeviceAlert:
    """A device to check, by kind only: it holds unsent reports or has gone silent."""

    kind: str
    unsent: int  # what the phone last said it still held (0: nothing known unsent)
    counted_at: datetime | None  # when it said so
    last_seen_at: datetime | None
    silent: bool
    reports_in_period: int


@dataclass(frozen=True)
class IncidentItem:
    """One incident as the digest shows it."""

    id: str
    category: str
    status: str
    responsible: str | None
    urgent: bool
    max_severity: int | None
    at: datetime  # its first report in the period (follow-ups: its first report)
    first_at: datetime
    last_at: datetime
    reports_in_period: int
    report_count: int
    area_id: int  # NO_AREA outside every area
    area: str | None
    place: str  # the reporter's place text
    named_place: str | None  # the coordinator's named place
    text: str  # the start of the first description
    kinds: tuple[str, ...]  # reporter kinds, never names
    photos: tuple[str, ...]  # SHA-256 of the photos to show (stored ones only)
    more_photos: int


@dataclass(frozen=True)
class AreaGroup:
    """The period's incidents in one area."""

    area_id: int
    name: str | None  # None: outside every area
    incidents: tuple[IncidentItem, ...]
    reports: int


@dataclass(frozen=True)
class Period:
    """A half-open time window [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class TrendRow:
    """A count in the period against the same count in the comparison periods."""

    key: str  # a category code, or an area id as text ("0": outside every area)
    name: str | None  # the area's name (None for categories and outside every area)
    count: int
    previous: tuple[int, ...]  # 1, 2, 3, 4 periods back
    mean: float
    direction: str  # "up", "down" or "same" (analysis.trends.direction_of)


@dataclass(frozen=True)
class Trends:
    """Counts per category and per area against the comparison periods."""

    periods: tuple[Period, ...]  # the period itself, then 1..4 back
    totals: tuple[int, ...]  # reports per period, same order
    total_direction: str
    by_category: tuple[TrendRow, ...]
    by_area: tuple[TrendRow, ...]


@dataclass(frozen=True)
class PlaceItem:
    """A recurring place (28 days) with new reports in the period."""

    lat: float
    lon: float
    count: int
    new_in_period: int
    first_seen: datetime
    last_seen: datetime
    recent: int  # reports in the last 7 days
    previous: int  # reports in the 7 days before
    trend: str  # "up", "down" or "flat" (analysis.places.trend_of)
    categories: tuple[tuple[str, int], ...]
    named_place: str | None
    place: str
    area: str | None
    incident_ids: tuple[str, ...]  # incidents of its reports in the period, oldest first


@dataclass(frozen=True)
class FollowUps:
    """Open incidents from before the period and who owns them."""

    items: tuple[IncidentItem, ...]
    total: int
    since: datetime
    by_responsible: tuple[tuple[str | None, int], ...]


@dataclass(frozen=True)
class Calm:
    """Whether anything happened, and whether calm rounds ("lugnt") came in."""

    state: CalmState  # "incidents", "calm_rounds" (only lugnt) or "no_reports"
    calm_reports: int
    calm_kinds: tuple[KindCount, ...]
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True)
class Digest:
    """One organisation's digest of one period: everything the renderer needs."""

    org_id: int
    org_name: str
    kind: str
    day: date
    start: datetime
    end: datetime
    tz: str
    generated_at: datetime
    reports: int  # every report of the period, calm rounds included
    incidents: int  # incidents with reports in the period, calm rounds excluded
    action: tuple[IncidentItem, ...]
    action_total: int
    reporting: tuple[KindCount, ...]
    unsent: tuple[DeviceAlert, ...]
    silent: tuple[DeviceAlert, ...]
    areas: tuple[AreaGroup, ...]
    unlisted: int  # incidents of the period left out of `areas` (LIST_LIMIT)
    trends: Trends
    places: tuple[PlaceItem, ...]
    places_total: int
    followups: FollowUps
    calm: Calm
    categories: dict[str, CategoryInfo] = field(default_factory=dict)
    data_dir: str | None = None  # the photo store's root (thumbnails for e-mail)

    @property
    def is_calm(self) -> bool:
        """Tell whether nothing but calm rounds (or nothing at all) was reported."""
        return self.calm.state != "incidents"

    @property
    def zone(self) -> ZoneInfo:
        """Return the digest's time zone."""
        return ZoneInfo(self.tz)


# --- periods ---------------------------------------------------------------------------------


def _check(kind: str, day: date) -> None:
    """Reject unknown kinds and datetimes (a period is named by a calendar day)."""
    if kind not in KINDS:
        raise ValueError(f"unknown digest kind {kind!r}; use one of {', '.join(KINDS)}")
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"day must be a date, got {type(day).__name__}")


def _month_start(day: date, back: int) -> date:
    """Return the 1st of the month `back` months before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - back
    return date(index // 12, index % 12 + 1, 1)


def period_for(kind: str, day: date, tz: ZoneInfo = STOCKHOLM) -> tuple[datetime, datetime]:
    """Return the period a digest of `kind` sent on `day` covers, as local datetimes.

    night: 18:00 the day before to 06:00 on `day`; week: 06:00 seven days before `day` to
    06:00 on `day`; month: 06:00 on the 1st of the month before `day`'s month to 06:00 on
    the 1st of `day`'s month. See the module docstring.
    """
    _check(kind, day)
    if kind == "night":
        return night_window(day, tz)
    if kind == "week":
        return (
            datetime.combine(day - timedelta(days=7), NIGHT_END, tzinfo=tz),
            datetime.combine(day, NIGHT_END, tzinfo=tz),
        )
    return (
        datetime.combine(_month_start(day, 1), NIGHT_END, tzinfo=tz),
        datetime.combine(_month_start(day, 0), NIGHT_END, tzinfo=tz),
    )


def comparison_periods(
    kind: str, day: date, count: int = COMPARE_PERIODS, tz: ZoneInfo = STOCKHOLM
) -> list[tuple[datetime, datetime]]:
    """Return the periods the digest compares with: 1..count weeks (months) back."""
    _check(kind, day)
    if kind == "month":
        return [period_for("month", _month_start(day, back), tz) for back in range(1, count + 1)]
    return [period_for(kind, day - timedelta(weeks=back), tz) for back in range(1, count + 1)]


# --- the build -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """A report of the period: the columns the digest needs."""

    id: str
    incident_id: uuid.UUID | None
    device_id: int
    created_at: datetime
    category: str
    area_id: int
    place_id: int | None
    place: str
    photos: tuple[str, ...]


def build_digest(org_id: int, kind: str, day: date, *, now: datetime | None = None) -> Digest:
    """Build the organisation's digest of the period `period_for(kind, day)`.

    `now` is the moment the digest describes (default: the current time): device states
    reported after it are not used. Raises LookupError for an unknown organisation.
    """
    _check(kind, day)
    now = now or utcnow()
    tz = STOCKHOLM
    start, end = period_for(kind, day, tz)
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    categories = {
        c.code: CategoryInfo(c.code, c.label_sv, c.label_en, c.urgent, c.sort_order)
        for c in db.session.scalars(select(Category))
    }
    areas: dict[int, str] = dict(
        db.session.execute(select(Area.id, Area.name).where(Area.org_id == org_id)).all()
    )
    places: dict[int, str] = dict(
        db.session.execute(
            select(NamedPlace.id, NamedPlace.name).where(NamedPlace.org_id == org_id)
        ).all()
    )
    rows = _period_reports(org_id, start, end)
    kinds = _kinds(org_id, {r.device_id for r in rows})
    incidents = _incidents(org_id, {r.incident_id for r in rows if r.incident_id is not None})
    present = _stored_photos(org_id, {sha for r in rows for sha in r.photos})

    by_incident: dict[uuid.UUID, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.incident_id is not None:
            by_incident[r.incident_id].append(r)
    items = [
        _item(incident, by_incident[incident.id], kinds, areas, places, present)
        for incident in incidents
        if incident.category_code != CALM
    ]
    urgent_codes = {code for code, c in categories.items() if c.urgent}

    action_all = sorted(
        (i for i in items if i.urgent and i.status not in CLOSED_STATUSES),
        key=lambda i: (
            i.category not in urgent_codes,
            -(i.max_severity or 0),
            i.at,
            i.id,
        ),
    )
    listed = sorted(items, key=_priority)[: LIST_LIMIT[kind]]
    unsent, silent = _device_alerts(org_id, kind, start, end, now, rows)
    found, places_total = _recurring(org_id, start, end, rows, areas, places)
    return Digest(
        org_id=org_id,
        org_name=org.name,
        kind=kind,
        day=day,
        start=start,
        end=end,
        tz=tz.key,
        generated_at=now,
        reports=len(rows),
        incidents=len(items),
        action=tuple(action_all[:ACTION_LIMIT]),
        action_total=len(action_all),
        reporting=_kind_counts(rows, kinds),
        unsent=unsent,
        silent=silent,
        areas=_by_area(listed, rows, areas),
        unlisted=len(items) - len(listed),
        trends=_trends(org_id, kind, day, tz, areas, categories),
        places=found,
        places_total=places_total,
        followups=_followups(org_id, start, areas, places, {i.id for i in incidents}),
        calm=_calm(rows, kinds),
        categories=categories,
        data_dir=current_app.config.get("DATA_DIR") if has_app_context() else None,
    )


def _period_reports(org_id: int, start: datetime, end: datetime) -> list[_Row]:
    """Load the columns the digest needs of the reports in [start, end), oldest first."""
    result = db.session.execute(
        select(
            Report.id,
            Report.incident_id,
            Report.device_id,
            Report.created_at,
            Report.category_code,
            Report.area_id,
            Report.place_id,
            Report.place,
            Report.photos,
        )
        .where(Report.org_id == org_id, Report.created_at >= start, Report.created_at < end)
        .order_by(Report.created_at, Report.id)
    )
    return [
        _Row(
            id=str(r.id),
            incident_id=r.incident_id,
            device_id=r.device_id,
            created_at=r.created_at,
            category=r.category_code,
            area_id=r.area_id or NO_AREA,
            place_id=r.place_id,
            place=r.place or "",
            photos=tuple(p for p in (r.photos or []) if isinstance(p, str)),
        )
        for r in result
    ]


def _kinds(org_id: int, device_ids: set[int]) -> dict[int, str]:
    """Map the organisation's device ids to their kinds."""
    out: dict[int, str] = {}
    ids = sorted(device_ids)
    for first in range(0, len(ids), CHUNK):
        out.update(
            db.session.execute(
                select(Device.id, Device.kind).where(
                    Device.org_id == org_id, Device.id.in_(ids[first : first + CHUNK])
                )
            ).all()
        )
    return out


def _incidents(org_id: int, ids: set[uuid.UUID]) -> list[Incident]:
    """Load the organisation's incidents with these ids."""
    out: list[Incident] = []
    ordered = sorted(ids)
    for first in range(0, len(ordered), CHUNK):
        out.extend(
            db.session.scalars(
                select(Incident).where(
                    Incident.org_id == org_id, Incident.id.in_(ordered[first : first + CHUNK])
                )
            )
        )
    return out


def _stored_photos(org_id: int, hashes: set[str]) -> set[str]:
    """Return which of the photos are stored (uploaded) for the organisation."""
    found: set[str] = set()
    ordered = sorted(hashes)
    for first in range(0, len(ordered), CHUNK):
        found.update(
            db.session.scalars(
                select(Photo.sha256).where(
                    Photo.org_id == org_id, Photo.sha256.in_(ordered[first : first + CHUNK])
                )
            )
        )
    return found


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """Return the text on one line, cut at a word boundary with an ellipsis if too long."""
    flat = " ".join((text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"


def _item(
    incident: Incident,
    rows: Sequence[_Row],
    kinds: dict[int, str],
    areas: dict[int, str],
    places: dict[int, str],
    present: set[str],
) -> IncidentItem:
    """Describe an incident with its reports of the period (`rows`, oldest first)."""
    photos: list[str] = []
    for r in rows:
        for sha in r.photos:
            if sha in present and sha not in photos:
                photos.append(sha)
    area_id = incident.area_id or NO_AREA
    return IncidentItem(
        id=str(incident.id),
        category=incident.category_code,
        status=incident.status,
        responsible=incident.responsible,
        urgent=bool(incident.urgent),
        max_severity=incident.max_severity,
        at=rows[0].created_at if rows else incident.first_at,
        first_at=incident.first_at,
        last_at=incident.last_at,
        reports_in_period=len(rows),
        report_count=incident.report_count,
        area_id=area_id,
        area=areas.get(area_id),
        place=incident.place or "",
        named_place=places.get(incident.place_id) if incident.place_id else None,
        text=short_text(incident.summary or ""),
        kinds=tuple(sorted({kinds[r.device_id] for r in rows if r.device_id in kinds})),
        photos=tuple(photos[:PHOTOS_PER_ITEM]),
        more_photos=max(0, len(photos) - PHOTOS_PER_ITEM),
    )


def _priority(item: IncidentItem) -> tuple[Any, ...]:
    """Order for choosing what a long period lists: urgent, severe, many reports first."""
    return (not item.urgent, -(item.max_severity or 0), -item.reports_in_period, item.at, item.id)


def _by_area(
    items: Iterable[IncidentItem], rows: Sequence[_Row], areas: dict[int, str]
) -> tuple[AreaGroup, ...]:
    """Group incidents by area (by name; outside every area last), each by time."""
    grouped: dict[int, list[IncidentItem]] = defaultdict(list)
    for item in items:
        grouped[item.area_id].append(item)
    reports = Counter(r.area_id for r in rows if r.category != CALM)
    order = sorted(grouped, key=lambda a: (a == NO_AREA, (areas.get(a) or "").casefold(), a))
    return tuple(
        AreaGroup(
            area_id=a,
            name=areas.get(a),
            incidents=tuple(sorted(grouped[a], key=lambda i: (i.at, i.id))),
            reports=reports.get(a, 0),
        )
        for a in order
    )


def _kind_counts(rows: Iterable[_Row], kinds: dict[int, str]) -> tuple[KindCount, ...]:
    """Count devices and reports per device kind."""
    devices: dict[str, set[int]] = defaultdict(set)
    reports: Counter[str] = Counter()
    for r in rows:
        kind = kinds.get(r.device_id, "other")
        devices[kind].add(r.device_id)
        reports[kind] += 1
    ordered = sorted(devices, key=_kind_key)
    return tuple(KindCount(kind, len(devices[kind]), reports[kind]) for kind in ordered)


def _kind_key(kind: str) -> tuple[int, str]:
    """Order kinds as the product names them: väktare, fältare, nattvandrare, other."""
    order = ("vaktare", "faltare", "nattvandrare")
    return (order.index(kind) if kind in order else len(order), kind)


def _calm(rows: Sequence[_Row], kinds: dict[int, str]) -> Calm:
    """Say whether the period was calm, and whether calm rounds came in."""
    calm_rows = [r for r in rows if r.category == CALM]
    if len(calm_rows) < len(rows):
        state: CalmState = "incidents"
    elif calm_rows:
        state = "calm_rounds"
    else:
        state = "no_reports"
    return Calm(
        state=state,
        calm_reports=len(calm_rows),
        calm_kinds=_kind_counts(calm_rows, kinds),
        first_at=calm_rows[0].created_at if calm_rows else None,
        last_at=calm_rows[-1].created_at if calm_rows else None,
    )


def _trends(
    org_id: int,
    kind: str,
    day: date,
    tz: ZoneInfo,
    areas: dict[int, str],
    categories: dict[str, CategoryInfo],
) -> Trends:
    """Count the period and each comparison period per category and per area."""
    windows = [period_for(kind, day, tz), *comparison_periods(kind, day, tz=tz)]
    counts = [counts_in_window(org_id, s, e) for s, e in windows]
    per_category: dict[str, list[int]] = defaultdict(lambda: [0] * len(windows))
    per_area: dict[int, list[int]] = defaultdict(lambda: [0] * len(windows))
    for index, window_counts in enumerate(counts):
        for (category, area), n in window_counts.items():
            per_category[category][index] += n
            per_area[area][index] += n
    totals = tuple(sum(c.values()) for c in counts)

    def row(key: str, name: str | None, slots: list[int]) -> TrendRow:
        previous = tuple(slots[1:])
        return TrendRow(
            key=key,
            name=name,
            count=slots[0],
            previous=previous,
            mean=sum(previous) / len(previous),
            direction=direction_of(slots[0], previous),
        )

    order = {code: (c.sort_order, code) for code, c in categories.items()}
    return Trends(
        periods=tuple(Period(s, e) for s, e in windows),
        totals=totals,
        total_direction=direction_of(totals[0], totals[1:]),
        by_category=tuple(
            row(code, None, per_category[code])
            for code in sorted(per_category, key=lambda c: order.get(c, (10_000, c)))
        ),
        by_area=tuple(
            row(str(a), areas.get(a), per_area[a])
            for a in sorted(
                per_area, key=lambda a: (a == NO_AREA, (areas.get(a) or "").casefold(), a)
            )
        ),
    )


def _recurring(
    org_id: int,
    start: datetime,
    end: datetime,
    rows: Sequence[_Row],
    areas: dict[int, str],
    places: dict[int, str],
) -> tuple[tuple[PlaceItem, ...], int]:
    """Return the recurring places (28 days, or the period if longer) with new reports."""
    if not rows:
        return (), 0
    days = recurring_days(start, end)
    by_id = {r.id: r for r in rows}
    found: list[PlaceItem] = []
    for place in recurring_places(org_id, now=end, days=days):
        new = [by_id[i] for i in place.report_ids if i in by_id]
        # recurring_places includes reports at exactly `end`; the period is half-open.
        if not new:
            continue
        new.sort(key=lambda r: (r.created_at, r.id))
        named = Counter(r.place_id for r in new if r.place_id is not None)
        texts = Counter(r.place.strip() for r in new if r.place.strip())
        area = Counter(r.area_id for r in new).most_common(1)[0][0]
        incident_ids: list[str] = []
        for r in new:
            if r.incident_id is not None and str(r.incident_id) not in incident_ids:
                incident_ids.append(str(r.incident_id))
        found.append(
            PlaceItem(
                lat=place.center_lat,
                lon=place.center_lon,
                count=place.count,
                new_in_period=len(new),
                first_seen=place.first_seen,
                last_seen=place.last_seen,
                recent=place.recent,
                previous=place.previous,
                trend=place.trend,
                categories=place.categories,
                named_place=places.get(named.most_common(1)[0][0]) if named else None,
                place=texts.most_common(1)[0][0] if texts else "",
                area=areas.get(area),
                incident_ids=tuple(incident_ids),
            )
        )
    return tuple(found[:PLACES_LIMIT]), len(found)


def recurring_days(start: datetime, end: datetime) -> int:
    """Return the days recurring places look back over: 28, or the whole period if longer."""
    return max(RECURRING_DAYS, math.ceil((end - start) / timedelta(days=1)))


def _followups(
    org_id: int,
    start: datetime,
    areas: dict[int, str],
    places: dict[int, str],
    listed: set[uuid.UUID],
) -> FollowUps:
    """Return open incidents first reported in the FOLLOWUP_DAYS before the period.

    Incidents with reports in the period are left out: the period's own list shows them
    (with their status and owner).
    """
    since = start - timedelta(days=FOLLOWUP_DAYS)
    where = [
        Incident.org_id == org_id,
        Incident.first_at >= since,
        Incident.first_at < start,
        # IN (the open statuses) rather than NOT IN (the closed ones): an index on the
        # status can serve it.
        Incident.status.in_(OPEN_STATUSES),
        Incident.category_code != CALM,
    ]
    if listed:
        where.append(Incident.id.not_in(sorted(listed)))
    by_responsible = db.session.execute(
        select(Incident.responsible, func.count()).where(*where).group_by(Incident.responsible)
    ).all()
    total = sum(int(n) for _, n in by_responsible)
    # Owned or in progress first (oldest first: longest waiting), then urgent ones (oldest
    # first), then the rest, newest first.
    rank = case(
        ((Incident.responsible.is_not(None)) | (Incident.status == "atgard_pagar"), 0),
        (Incident.urgent.is_(True), 1),
        else_=2,
    )
    oldest_first = case((rank < 2, Incident.first_at), else_=None)
    chosen = (
        list(
            db.session.scalars(
                select(Incident)
                .where(*where)
                .order_by(rank, oldest_first, Incident.first_at.desc(), Incident.id)
                .limit(FOLLOWUP_LIMIT)
            )
        )
        if total
        else []
    )
    items = tuple(_item(i, (), {}, areas, places, set()) for i in chosen)
    return FollowUps(
        items=items,
        total=total,
        since=since,
        by_responsible=tuple(
            sorted(
                ((r, int(n)) for r, n in by_responsible),
                key=lambda pair: (pair[0] is None, pair[0] or ""),
            )
        ),
    )


def _device_alerts(
    org_id: int,
    kind: str,
    start: datetime,
    end: datetime,
    now: datetime,
    rows: Sequence[_Row],
) -> tuple[tuple[DeviceAlert, ...], tuple[DeviceAlert, ...]]:
    """Return the devices holding unsent reports, and (nights) the devices gone silent."""
    reported = Counter(r.device_id for r in rows)
    active: set[int] = set()
    if kind == "night":
        active = set(reported) | devices_reporting(
            org_id, start - timedelta(days=SILENT_LOOKBACK_DAYS), start
        )
    cond = (Device.outbox_pending > 0) & (Device.outbox_reported_at <= now)
    if kind == "night":
        cond = (
            cond
            | Device.id.in_(sorted(active))
            | ((Device.last_seen_at >= start) & (Device.last_seen_at < end))
        )
    devices = db.session.execute(
        select(
            Device.id,
            Device.kind,
            Device.last_seen_at,
            Device.outbox_pending,
            Device.outbox_reported_at,
        ).where(Device.org_id == org_id, Device.revoked_at.is_(None), cond)
    ).all()
    cutoff = end - SILENT_AFTER
    unsent: list[DeviceAlert] = []
    silent: list[DeviceAlert] = []
    for d in devices:
        known = d.outbox_reported_at is not None and d.outbox_reported_at <= now
        pending = int(d.outbox_pending or 0) if known else 0
        seen = d.last_seen_at
        is_silent = kind == "night" and (seen is None or seen < cutoff)
        alert = DeviceAlert(
            kind=d.kind,
            unsent=pending,
            counted_at=d.outbox_reported_at if known else None,
            last_seen_at=seen,
            silent=is_silent,
            reports_in_period=reported.get(d.id, 0),
        )
        if pending > 0:
            unsent.append(alert)
        elif is_silent:
            silent.append(alert)

    def order(a: DeviceAlert) -> tuple[Any, ...]:
        return (_kind_key(a.kind), a.last_seen_at or datetime.min.replace(tzinfo=end.tzinfo))

    return tuple(sorted(unsent, key=order)), tuple(sorted(silent, key=order))


__all__ = [
    "ACTION_LIMIT",
    "CALM",
    "FOLLOWUP_DAYS",
    "FOLLOWUP_LIMIT",
    "KINDS",
    "SILENT_AFTER",
    "SILENT_LOOKBACK_DAYS",
    "STOCKHOLM",
    "AreaGroup",
    "Calm",
    "CategoryInfo",
    "DeviceAlert",
    "Digest",
    "FollowUps",
    "IncidentItem",
    "KindCount",
    "Period",
    "PlaceItem",
    "TrendRow",
    "Trends",
    "build_digest",
    "comparison_periods",
    "period_for",
    "recurring_days",
    "short_text",
]

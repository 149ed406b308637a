"""The digest as plain values: a tree of frozen dataclasses, no ORM objects.

`build_digest` returns a `Digest`; `server.digest.render` renders it after the database
session is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from server.categories import CALM  # noqa: F401  (re-exported)

CalmState = Literal["incidents", "calm_rounds", "no_reports"]


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
    owner: int | None = None  # the sharing organisation's id; None: the digest's own
    # How much of a shared incident may be shown: at "reports" the content left out free
    # text (text, place) and photos already, and the renderers say so.
    detail: str = "full"


@dataclass(frozen=True)
class Owner:
    """An organisation that shares with the digest's one: its items or its counts."""

    id: int
    name: str
    kind: str  # organisation kind (kommun, vaktbolag, ...), named in the digest's language
    detail: str  # the most generous level any of its agreements gives: counts|reports|full


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
    direction: str  # "up", "down", "same" or "new" (analysis.trends.direction_of)


@dataclass(frozen=True)
class Trends:
    """Counts per category and per area against the comparison periods."""

    periods: tuple[Period, ...]  # the period itself, then 1..4 back (those since the first report)
    totals: tuple[int, ...]  # reports per period, same order
    total_direction: str
    by_category: tuple[TrendRow, ...]
    by_area: tuple[TrendRow, ...]

    @property
    def total_mean(self) -> float:
        """Return the mean of the comparison periods' totals (0.0 without any)."""
        previous = self.totals[1:]
        return sum(previous) / len(previous) if previous else 0.0


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
class OverdueAction:
    """An action of the åtgärdsplan whose due date has passed while it is not finished."""

    id: int
    text: str
    owner_kind: str  # kommun, polis, fastighetsagare, other
    owner_name: str  # a unit or a company, never a person
    due_date: date
    status: str


@dataclass(frozen=True)
class OverdueActions:
    """The organisation's overdue actions: how many, and the first few by due date."""

    items: tuple[OverdueAction, ...]
    total: int


@dataclass(frozen=True)
class ActionPlanCounts:
    """The åtgärdsplan in a week's or a month's lägesbild: decided and done in the period."""

    decided: int
    done: int
    overdue: int  # overdue on the digest's day


@dataclass(frozen=True)
class RoundMiss:
    """A planned round run that was missed, incomplete or not synced, for the digest."""

    round_name: str
    start: datetime
    missing: tuple[str, ...]  # required checkpoints not scanned, by name
    reason: str | None  # the guard's reason for ending early


@dataclass(frozen=True)
class FlaggedCheckpoint:
    """A checkpoint whose scans were flagged in the period, with the flags' counts."""

    name: str
    scans: int
    flags: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class RoundArea:
    """The guard rounds of one area in the period ("Ronder")."""

    area_id: int | None
    name: str | None  # None: rounds without an area
    planned: int
    completed: int
    late: int
    incomplete: tuple[RoundMiss, ...]
    missed: tuple[RoundMiss, ...]
    not_synced: tuple[RoundMiss, ...]
    flags: tuple[tuple[str, int], ...]  # flag → flagged scans, most first
    flagged: tuple[FlaggedCheckpoint, ...]  # the checkpoints with most flagged scans


@dataclass(frozen=True)
class Calm:
    """Whether anything happened, and whether calm rounds ("lugnt") came in."""

    state: CalmState  # "incidents", "calm_rounds" (only lugnt) or "no_reports"
    calm_reports: int
    calm_kinds: tuple[KindCount, ...]
    first_at: datetime | None
    last_at: datetime | None


@dataclass(frozen=True)
class Purged:
    """What the night's retention purge removed (server.retention), for one short line."""

    texts: int  # reports whose free text and photos were cleared
    reports: int  # whole reports deleted
    photos: int
    comments: int
    audit: int
    digests: int

    @property
    def total(self) -> int:
        """Return how many things went in all."""
        return self.texts + self.reports + self.photos + self.comments + self.audit + self.digests


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
    reports: int  # reports of the period, calm rounds excluded (they are in `calm`)
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
    owners: tuple[Owner, ...] = ()  # organisations sharing with this one, by name
    # Which agreements the digest was built under (None: the organisation's own items
    # only); an archived copy built under other agreements is rebuilt (digest.archive).
    scope_key: str | None = None
    # The night digest: what the purge at 03:30 removed (None: nothing, or another kind).
    purged: Purged | None = None
    # Overdue actions of the åtgärdsplan ("Förfallna åtgärder"; None: there are none).
    overdue_actions: OverdueActions | None = None
    # The weekly and monthly lägesbild: actions decided, done and overdue (None: a night).
    action_plan: ActionPlanCounts | None = None
    # Guard rounds per area ("Ronder"; None: the organisation has no rounds).
    rounds: tuple[RoundArea, ...] | None = None

    @property
    def is_calm(self) -> bool:
        """Tell whether nothing but calm rounds (or nothing at all) was reported."""
        return self.calm.state != "incidents"

    def owner(self, org_id: int) -> Owner | None:
        """Return a sharing organisation of the digest by id."""
        return next((o for o in self.owners if o.id == org_id), None)

    @property
    def zone(self) -> ZoneInfo:
        """Return the digest's time zone."""
        return ZoneInfo(self.tz)

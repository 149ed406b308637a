"""Deterministic grouping of field reports into incidents.

Three guards reporting the same car fire is one incident with three reports. Grouping is
seed-anchored and greedy: reports are processed in canonical order ``(created_at, id)``;
each one joins the best open incident whose anchor it matches (same or related category,
inside the anchor's time window and radius) or starts a new incident keyed by its own id.
Because the order is canonical and every tie is broken, the mapping never depends on the
order in which reports arrive, and a report's key depends only on the reports before it.

An incident's anchor is the report named by its key when that report belongs to it,
otherwise its earliest member (the seed was moved out by the coordinator). Matching against
the anchor, not against any member, stops chains: an incident can never creep down a street
one report at a time.

Coordinator decisions (merge, split, move) arrive as ``pinned`` keys: a pinned report keeps
its key and is never regrouped; it still counts as a member and can anchor its incident.
"""

from __future__ import annotations

import heapq
import math
import unicodedata
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from analysis.anchor_index import AnchorIndex
from analysis.distance import haversine_m
from analysis.grouping_rules import GroupRule, Rules
from sync.clock import as_utc

_ZERO = timedelta(0)
_NO_PINS: Mapping[str, str] = MappingProxyType({})
_LATEST = datetime.max.replace(tzinfo=UTC)


def _coordinate(value: float, limit: float, what: str) -> float:
    """Return a coordinate as a float, rejecting non-numbers and values out of range."""
    # bool is an int subclass; True as a latitude is a caller bug, not 1°.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{what} out of range: {value!r}")
    return float(value)


def normalise_place(place: str) -> str:
    """Return the place text as compared: NFKC, case-folded, whitespace collapsed."""
    # NFKC: phones may send "Ö" composed or decomposed; both must name the same square.
    return " ".join(unicodedata.normalize("NFKC", place).casefold().split())


# Slots, no dict per instance: one per report of a grouping pass's window, thousands at
# once, several passes a second under a stream of pushes (issue 14).
@dataclass(frozen=True, slots=True)
class ReportPoint:
    """Hold what grouping needs to know about one report."""

    id: str
    created_at: datetime
    category: str
    lat: float | None
    lon: float | None
    place: str = ""

    def __post_init__(self) -> None:
        """Normalise the time to UTC and reject half or impossible positions."""
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"id must be a non-empty str, got {self.id!r}")
        if not isinstance(self.category, str):
            raise TypeError(f"category must be a str, got {type(self.category).__name__}")
        if not isinstance(self.place, str):
            raise TypeError(f"place must be a str, got {type(self.place).__name__}")
        object.__setattr__(self, "created_at", as_utc(self.created_at, "created_at"))
        if (self.lat is None) != (self.lon is None):
            # Half a position is a caller bug; treating it as "no fix" would hide it.
            raise ValueError("lat and lon must both be set or both be None")
        if self.lat is not None and self.lon is not None:
            object.__setattr__(self, "lat", _coordinate(self.lat, 90.0, "lat"))
            object.__setattr__(self, "lon", _coordinate(self.lon, 180.0, "lon"))

    @property
    def has_position(self) -> bool:
        """Return whether the report carries a GPS position."""
        return self.lat is not None


def _order(report: ReportPoint) -> tuple[datetime, str]:
    """Return the canonical processing key of a report."""
    return (report.created_at, report.id)


def _reach(
    report: ReportPoint, place: str, anchor: ReportPoint, anchor_place: str, rule: GroupRule
) -> float | None:
    """Return how far the report is from the anchor for ranking, or None when out of reach."""
    age = report.created_at - anchor.created_at
    # age < 0 cannot happen in canonical order (anchors come first); kept as the rule says.
    if age < _ZERO or age > rule.window:
        return None
    r_lat, r_lon, a_lat, a_lon = report.lat, report.lon, anchor.lat, anchor.lon
    if r_lat is not None and r_lon is not None and a_lat is not None and a_lon is not None:
        # Two fixes: distance only. A shared place name does not stretch the radius;
        # names like "Centrum" cover far more ground than one scene.
        distance = haversine_m(r_lat, r_lon, a_lat, a_lon)
        return distance if distance <= rule.radius_m else None
    # Without a fix on one side only the place text can tell. It ranks as the edge of the
    # radius, so a real nearby fix beats a name match.
    if place and place == anchor_place:
        return rule.radius_m
    return None


class _Open:
    """Track the incidents a report may still join, by anchor category, expiring them."""

    def __init__(self, rules: Rules, closed: AbstractSet[str], places: Mapping[str, str]) -> None:
        """Start with no incidents; `places` maps report ids to their normalised place text."""
        self.rules = rules
        self.closed = closed
        self.places = places
        self.anchors: dict[str, ReportPoint] = {}
        self.by_category: dict[str, dict[str, ReportPoint]] = {}
        # The same anchors by position and place, so a report meets only those near it.
        self.index: dict[str, AnchorIndex] = {}
        # (last moment the anchor can be joined, key, anchor id); stale entries are skipped.
        self.expiry: list[tuple[datetime, str, str]] = []

    def expire(self, now: datetime) -> None:
        """Forget incidents whose anchor's window ended before now."""
        # Reports come in time order, so an expired anchor never matches again; only a new
        # anchor (the report named by the key arriving) can reopen the incident.
        while self.expiry and self.expiry[0][0] < now:
            _, key, anchor_id = heapq.heappop(self.expiry)
            anchor = self.anchors[key]
            if anchor.id == anchor_id:
                self._forget(anchor.category, key)

    def _forget(self, category: str, key: str) -> None:
        """Stop offering an incident's anchor under its category."""
        self.by_category.get(category, {}).pop(key, None)
        index = self.index.get(category)
        if index is not None:
            index.discard(key)

    def add(self, key: str, report: ReportPoint) -> None:
        """Record a report as a member of an incident, updating its anchor."""
        current = self.anchors.get(key)
        # The first member anchors until the report named by the key joins; that one
        # anchors for good (a coordinator merge keeps the incident's own seed).
        if current is not None and report.id != key:
            return
        if current is not None:
            self._forget(current.category, key)
        self.anchors[key] = report
        rule = self.rules.rule_for(report.category)
        if key in self.closed or not rule.groups:
            return
        self.by_category.setdefault(report.category, {})[key] = report
        index = self.index.get(report.category)
        if index is None:
            index = self.index[report.category] = AnchorIndex(rule.radius_m)
        index.add(key, report.lat, report.lon, self.places[report.id])
        try:
            last = report.created_at + rule.window
        except OverflowError:
            last = _LATEST
        heapq.heappush(self.expiry, (last, key, report.id))

    def best(self, report: ReportPoint, place: str) -> str | None:
        """Return the key of the incident the report joins, or None to start its own."""
        if not self.rules.rule_for(report.category).groups:
            return None
        places = self.places
        best: tuple[float, datetime, str] | None = None
        # Set iteration order varies between runs; the min over a total order does not.
        for category in self.rules.related_to(report.category):
            index = self.index.get(category)
            if index is None:
                continue
            rule = self.rules.rule_for(category)
            anchors = self.by_category[category]
            # The index only narrows the candidates; _reach below still decides each one.
            for key in set(index.candidates(report.lat, report.lon, place)):
                anchor = anchors[key]
                distance = _reach(report, place, anchor, places[anchor.id], rule)
                if distance is None:
                    continue
                # THE tie-break order: the nearest anchor wins (a place-name match counts
                # as the radius); at equal distance the earliest anchor, the one that has
                # been an incident longest; then the smallest key, so the order is total.
                rank = (distance, anchor.created_at, key)
                if best is None or rank < best:
                    best = rank
        return None if best is None else best[2]


def group_reports(
    reports: Iterable[ReportPoint],
    rules: Rules,
    pinned: Mapping[str, str] = _NO_PINS,
    closed: AbstractSet[str] = frozenset(),
) -> dict[str, str]:
    """Return every report's incident key.

    A report joins the best open incident whose anchor it matches, else starts an incident
    keyed by its own id. It matches an anchor when the anchor's key is not in ``closed``,
    the categories are the same or related, ``0 <= created_at - anchor.created_at <=
    window`` and the haversine distance is at most ``radius_m`` (window and radius from the
    ANCHOR's category); when either lacks a position, when both have the same non-empty
    normalised place text instead. A category whose rule has radius 0 never groups.

    A report in ``pinned`` keeps ``pinned[id]`` and is never regrouped; pins of reports
    not passed are ignored. A report whose own id pinned reports already carry as a key
    joins them when it starts an incident, and anchors that incident from then on.
    ``closed`` only stops joining: the unpinned members a closed incident should keep must
    be pinned, or a regroup may move them out.
    """
    given = list(reports)
    for report in given:
        if not isinstance(report, ReportPoint):
            raise TypeError(f"reports must be ReportPoint, got {type(report).__name__}")
    ordered = sorted(given, key=_order)
    places: dict[str, str] = {}
    for report in ordered:
        if report.id in places:
            raise ValueError(f"duplicate report id {report.id!r}")
        places[report.id] = normalise_place(report.place)
    incidents = _Open(rules, closed, places)
    keys: dict[str, str] = {}
    for report in ordered:
        incidents.expire(report.created_at)
        key = pinned.get(report.id)
        if key is None:
            key = incidents.best(report, places[report.id]) or report.id
        elif not isinstance(key, str) or not key:
            raise ValueError(f"pinned key of {report.id!r} must be a non-empty str")
        keys[report.id] = key
        incidents.add(key, report)
    return keys

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from analysis.calendar import to_utc
from analysis.distance import EARTH_RADIUS_M, haversine_m  # noqa: F401  (re-exported)

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


@dataclass(frozen=True)
class GroupRule:
    """Say how far and how long an incident anchored in a category reaches."""

    radius_m: float
    window: timedelta

    def __post_init__(self) -> None:
        """Reject negative or non-finite reaches."""
        if isinstance(self.radius_m, bool) or not isinstance(self.radius_m, int | float):
            raise TypeError(f"radius_m must be a number, got {type(self.radius_m).__name__}")
        if not math.isfinite(self.radius_m) or self.radius_m < 0:
            raise ValueError(f"radius_m must be finite and >= 0, got {self.radius_m!r}")
        if not isinstance(self.window, timedelta):
            raise TypeError(f"window must be a timedelta, got {type(self.window).__name__}")
        if self.window < _ZERO:
            raise ValueError(f"window must be >= 0, got {self.window!r}")
        object.__setattr__(self, "radius_m", float(self.radius_m))

    @property
    def groups(self) -> bool:
        """Return whether reports of this rule ever share an incident."""
        # Radius 0 is the "never" flag: it also disables place-text matching, which has no
        # radius of its own, so a calm round at the same named square stays on its own.
        return self.radius_m > 0


# Every report its own incident (calm rounds, rumours).
NEVER = GroupRule(0.0, _ZERO)


def _pairs(
    related: Iterable[Iterable[str]] | Mapping[str, Iterable[str]],
) -> frozenset[frozenset[str]]:
    """Return relatedness declarations as the set of unordered category pairs they imply."""
    if isinstance(related, Mapping):
        groups: list[Iterable[str]] = [[key, *others] for key, others in related.items()]
        # {"samling": {"brott", "narkotika"}} relates samling to each of the two, but not
        # brott to narkotika: a mapping entry is a star, a group is a clique.
        star = True
    else:
        groups = list(related)
        star = False
    pairs: set[frozenset[str]] = set()
    for group in groups:
        # A bare string would iterate as letters and silently relate "b", "r", "o", ...
        if isinstance(group, str):
            raise TypeError(f"a related group must be a collection of codes, got {group!r}")
        codes = list(group)
        for code in codes:
            if not isinstance(code, str) or not code:
                raise ValueError(f"category codes must be non-empty str, got {code!r}")
        heads = codes[:1] if star else codes
        pairs.update(frozenset((a, b)) for a in heads for b in codes if a != b)
    return frozenset(pairs)


@dataclass(frozen=True)
class Rules:
    """Hold the grouping rule of every category and which categories may share an incident.

    ``related`` takes groups of codes (every pair in a group is related) or a mapping from a
    code to the codes related to it; either way it is stored as the frozenset of unordered
    pairs. Relatedness is symmetric, not transitive, and every code is related to itself.
    """

    default: GroupRule
    per_category: Mapping[str, GroupRule] = field(default_factory=dict)
    related: Iterable[frozenset[str]] | Mapping[str, Iterable[str]] = ()
    _partners: Mapping[str, frozenset[str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        """Freeze the tables and check that every rule is a GroupRule."""
        if not isinstance(self.default, GroupRule):
            raise TypeError("default must be a GroupRule")
        table = dict(self.per_category)
        for code, rule in table.items():
            if not isinstance(code, str) or not code or not isinstance(rule, GroupRule):
                raise TypeError(f"per_category must map codes to GroupRule, got {code!r}")
        pairs = _pairs(self.related)
        partners: dict[str, set[str]] = {}
        for pair in pairs:
            a, b = sorted(pair)
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
        object.__setattr__(self, "per_category", MappingProxyType(table))
        object.__setattr__(self, "related", pairs)
        object.__setattr__(
            self,
            "_partners",
            MappingProxyType({code: frozenset(others) for code, others in partners.items()}),
        )

    def rule_for(self, category: str) -> GroupRule:
        """Return the rule of a category, the default for codes without their own."""
        return self.per_category.get(category, self.default)

    def are_related(self, a: str, b: str) -> bool:
        """Return whether reports of these two categories may share an incident."""
        return a == b or b in self._partners.get(a, ())

    def related_to(self, category: str) -> frozenset[str]:
        """Return the categories that may share an incident with this one, itself included."""
        return self._partners.get(category, frozenset()) | {category}

    def max_window(self) -> timedelta:
        """Return the largest window of any rule that groups at all."""
        # Rules that never group never anchor a join, so their window reaches nothing.
        windows = [r.window for r in (self.default, *self.per_category.values()) if r.groups]
        return max(windows, default=_ZERO)


# The taxonomy's defaults. The ANCHOR's rule decides (see group_reports): an incident's
# nature, set by its first report, says how far it is seen from and how long it lasts.
DEFAULT_RULES = Rules(
    # A short-lived scene seen from a street corner: drugs, support needs, other.
    default=GroupRule(150.0, timedelta(hours=2)),
    per_category={
        # A fire is seen (and smelt) from afar and the scene lasts until the fire is out.
        "brand": GroupRule(300.0, timedelta(hours=3)),
        # Violence is short and local; two fights an hour apart are two incidents.
        "brott": GroupRule(200.0, timedelta(hours=1)),
        # A group drifts around a square and can stay for the evening.
        "samling": GroupRule(200.0, timedelta(hours=3)),
        # Graffiti or a smashed bus shelter is found again by every round of the night.
        "skadegorelse": GroupRule(100.0, timedelta(hours=12)),
        # A broken lamp stays broken for days and is pinned to one spot.
        "miljo": GroupRule(50.0, timedelta(days=7)),
        # An unsafe spot is a property of the place for days, a little less exactly located.
        "otrygg_plats": GroupRule(100.0, timedelta(days=7)),
        # Vehicles move: reports of the same moped run come from a wider area, briefly.
        "trafik": GroupRule(300.0, timedelta(hours=1)),
        # One person in one place; a second report within the hour is likely the same person.
        "stod": GroupRule(100.0, timedelta(hours=1)),
        # Rumours: the position is where the reporter heard it, not where it happens, and
        # the text is free-form, so nothing tells two rumours to be the same one.
        "rykten": NEVER,
        # A calm round is a fact about one round; every calm report stays its own.
        "lugnt": NEVER,
    },
    related=(
        # A gathering that turns violent is reported as samling by one walker and brott by
        # the next; it is one scene. Brand is deliberately related to nothing: fires are
        # urgent and arson is reported as brand, while vandalism's 12 h window would pull
        # unrelated later fires into a graffiti incident.
        frozenset({"samling", "brott"}),
        # A group smoking cannabis is reported as samling or as narkotika.
        frozenset({"samling", "narkotika"}),
        # A dead street lamp (miljo) is what makes the passage an unsafe place.
        frozenset({"miljo", "otrygg_plats"}),
    ),
)


@dataclass(frozen=True)
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
        object.__setattr__(self, "created_at", to_utc(self.created_at, "created_at"))
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

    def __init__(self, rules: Rules, closed: AbstractSet[str]) -> None:
        """Start with no incidents."""
        self.rules = rules
        self.closed = closed
        self.anchors: dict[str, ReportPoint] = {}
        self.by_category: dict[str, dict[str, ReportPoint]] = {}
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
                self.by_category[anchor.category].pop(key, None)

    def add(self, key: str, report: ReportPoint) -> None:
        """Record a report as a member of an incident, updating its anchor."""
        current = self.anchors.get(key)
        # The first member anchors until the report named by the key joins; that one
        # anchors for good (a coordinator merge keeps the incident's own seed).
        if current is not None and report.id != key:
            return
        if current is not None:
            self.by_category.get(current.category, {}).pop(key, None)
        self.anchors[key] = report
        rule = self.rules.rule_for(report.category)
        if key in self.closed or not rule.groups:
            return
        self.by_category.setdefault(report.category, {})[key] = report
        try:
            last = report.created_at + rule.window
        except OverflowError:
            last = _LATEST
        heapq.heappush(self.expiry, (last, key, report.id))

    def best(self, report: ReportPoint, place: str, places: Mapping[str, str]) -> str | None:
        """Return the key of the incident the report joins, or None to start its own."""
        if not self.rules.rule_for(report.category).groups:
            return None
        best: tuple[float, datetime, str] | None = None
        # Set iteration order varies between runs; the min over a total order does not.
        for category in self.rules.related_to(report.category):
            rule = self.rules.rule_for(category)
            for key, anchor in self.by_category.get(category, {}).items():
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
    incidents = _Open(rules, closed)
    keys: dict[str, str] = {}
    for report in ordered:
        incidents.expire(report.created_at)
        key = pinned.get(report.id)
        if key is None:
            key = incidents.best(report, places[report.id], places) or report.id
        elif not isinstance(key, str) or not key:
            raise ValueError(f"pinned key of {report.id!r} must be a non-empty str")
        keys[report.id] = key
        incidents.add(key, report)
    return keys


def recompute_since(new_created_at: Iterable[datetime], rules: Rules) -> datetime | None:
    """Return the creation time from which to regroup when these reports arrive.

    This is ``min(new) - rules.max_window()``, None when nothing arrived. A report's key
    depends only on the reports before it in canonical order, so keys can in fact change
    only from ``min(new)`` on; the extra window is a safe margin that costs one more window
    of regrouping.

    The caller then calls ``group_reports`` with, and replaces the keys of, every report
    created at or after ``since`` (unpinned unless the coordinator pinned it), plus, pinned
    to their current keys as context:

    - every report created in ``[since - max_window, since)``;
    - for every key in the resulting ``pinned`` map, the report named by the key if it
      belongs to that key, and the key's earliest member, however old (unless already
      passed). Without them an old
      incident with a member inside the context would be anchored at that younger member
      and start accepting reports its real anchor is too old for. Passing every member of
      those incidents also satisfies this.

    The same applies after a coordinator decision, a deletion or an edit of time, place or
    category: pass the affected reports' creation times (old and new for a time edit).
    """
    moments = [to_utc(moment, "new_created_at") for moment in new_created_at]
    if not moments:
        return None
    try:
        return min(moments) - rules.max_window()
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def rules_from_json(doc: Any, base: Rules = DEFAULT_RULES) -> Rules:
    """Build rules from a JSON document, over `base`; raise ValueError naming each problem.

    The document: ``{"default": {"radius_m": 150, "window_minutes": 120},
    "categories": {"brand": {"radius_m": 300, "window_minutes": 180}, "lugnt": "never"},
    "related": [["samling", "brott"]]}``. Every key is optional: categories are merged over
    the base rules, and ``related`` (when given) replaces the base's declarations.
    """
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise ValueError("grouping rules must be a JSON object")
    unknown = set(doc) - {"default", "categories", "related"}
    if unknown:
        problems.append(f"unknown keys: {', '.join(sorted(unknown))}")

    def rule(where: str, value: Any) -> GroupRule | None:
        if value == "never":
            return NEVER
        if not isinstance(value, Mapping) or set(value) != {"radius_m", "window_minutes"}:
            problems.append(f'{where}: give radius_m and window_minutes, or "never"')
            return None
        radius, minutes = value["radius_m"], value["window_minutes"]
        ok = all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in (radius, minutes)
        )
        if not ok or not (0 <= radius <= 10_000) or not (0 <= minutes <= 60 * 24 * 31):
            problems.append(f"{where}: radius_m 0–10000 and window_minutes 0–44640")
            return None
        return GroupRule(float(radius), timedelta(minutes=minutes))

    default = rule("default", doc["default"]) if "default" in doc else base.default
    table = dict(base.per_category)
    categories = doc.get("categories", {})
    if not isinstance(categories, Mapping):
        problems.append("categories must be an object of category code → rule")
        categories = {}
    for code, value in categories.items():
        parsed = rule(f"categories.{code}", value)
        if parsed is not None:
            table[code] = parsed
    related: Any = base.related
    if "related" in doc:
        related = doc["related"]
        if not isinstance(related, list) or not all(
            isinstance(g, list) and all(isinstance(c, str) and c for c in g) for g in related
        ):
            problems.append("related must be a list of lists of category codes")
            related = base.related
    if problems or default is None:
        raise ValueError("; ".join(problems))
    return Rules(default=default, per_category=table, related=related)

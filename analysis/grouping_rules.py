"""The grouping's rules: how far and how long an incident reaches, per category, and which
categories may share an incident; built in code (`DEFAULT_RULES`) or from JSON."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

_ZERO = timedelta(0)


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

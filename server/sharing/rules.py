"""The pure rule of sharing: how much of an owner's item a viewing organisation may see.

No database and no Flask: the service loads the agreements, the views and the digest ask
`detail_for` about each item (or `scope_of` for a whole query).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Levels of detail, least to most: aggregates only; incidents and reports without free
# text, photos or device names; everything.
DETAILS = ("counts", "reports", "full")
_RANK = {name: rank for rank, name in enumerate(DETAILS)}


@dataclass(frozen=True)
class Agreement:
    """One directional agreement: `from_org` shares with `to_org`, limited and timed."""

    id: int
    from_org: int
    to_org: int
    detail: str
    starts_at: datetime
    ends_at: datetime | None = None
    revoked_at: datetime | None = None
    categories: frozenset[str] | None = None  # None: every category
    areas: frozenset[str] | None = None  # area codes of `from_org`; None: every area

    def in_force(self, now: datetime) -> bool:
        """Tell whether the agreement applies at `now` (started, not ended, not revoked)."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    def covers(self, category: str, area: str | None) -> bool:
        """Tell whether an item of this category and area falls under the agreement.

        An item without an area never falls under an agreement limited to areas: the limit
        is a promise about where, and an unplaced item cannot keep it.
        """
        if self.categories is not None and category not in self.categories:
            return False
        return self.areas is None or (area is not None and area in self.areas)


def detail_for(
    viewer: int,
    owner: int,
    category: str,
    area: str | None,
    agreements: Iterable[Agreement],
    now: datetime,
) -> str | None:
    """Return how much of the owner's item the viewer may see, or None for nothing.

    An organisation always sees its own items in full. Otherwise every agreement from the
    owner to the viewer that is in force and covers the item counts, and the most generous
    one wins (tie-break: the higher level of detail; agreements never subtract).
    """
    if viewer == owner:
        return "full"
    best: str | None = None
    for a in agreements:
        if a.from_org != owner or a.to_org != viewer:
            continue
        if not a.in_force(now) or not a.covers(category, area):
            continue
        if best is None or _RANK[a.detail] > _RANK[best]:
            best = a.detail
    return best


def at_least(detail: str | None, wanted: str) -> bool:
    """Tell whether a granted level (or None) reaches the wanted one."""
    return detail is not None and _RANK[detail] >= _RANK[wanted]


@dataclass(frozen=True)
class Grant:
    """What one agreement in force gives a viewer, with its areas resolved to area ids."""

    owner: int
    detail: str
    categories: frozenset[str] | None = None  # None: every category
    area_ids: frozenset[int] | None = None  # ids of the owner's areas; None: every area

    def covers(self, category: str, area_id: int | None) -> bool:
        """Tell whether an item of this category and area falls under the grant."""
        if self.categories is not None and category not in self.categories:
            return False
        return self.area_ids is None or (area_id is not None and area_id in self.area_ids)


@dataclass(frozen=True)
class Scope:
    """What one organisation may read: its own items in full, plus its grants.

    A query, a page or a digest takes a scope instead of an organisation id; `Scope.own`
    is the scope of someone who reads only their own organisation (an analyst, a viewer).
    """

    viewer: int
    grants: tuple[Grant, ...] = ()

    @classmethod
    def own(cls, org_id: int) -> Scope:
        """Return the scope of an organisation that reads only its own items."""
        return cls(org_id)

    def detail(self, owner: int, category: str, area_id: int | None) -> str | None:
        """Return how much of an owner's item the viewer may see, or None for nothing.

        Own items are `full`. Otherwise the most generous covering grant wins (tie-break:
        the higher level of detail; grants never subtract).
        """
        if owner == self.viewer:
            return "full"
        best: str | None = None
        for g in self.grants:
            covered = g.owner == owner and g.covers(category, area_id)
            if covered and (best is None or _RANK[g.detail] > _RANK[best]):
                best = g.detail
        return best

    def grants_at_least(self, wanted: str) -> tuple[Grant, ...]:
        """Return the grants that reach the wanted level of detail."""
        return tuple(g for g in self.grants if at_least(g.detail, wanted))

    def owners(self, wanted: str = "counts") -> set[int]:
        """Return the organisations whose items the viewer may see at `wanted` or more."""
        return {self.viewer} | {g.owner for g in self.grants_at_least(wanted)}

    @property
    def shares(self) -> bool:
        """Tell whether anything of another organisation is visible at all."""
        return bool(self.grants)

"""Find the reports a grouping pass can affect, so the pass regroups only those.

`analysis.grouping.group_reports` processes reports in canonical order ``(created_at, id)``;
a report's key depends only on the incidents open before it: their anchors (the report
named by the key once it is a member, else the earliest member), whether they are closed,
and which of them it can reach. A pass adds new reports (the pending ones, whose key is
None) to a stored grouping that, without them, is the grouping's own result: every stored
key is what `group_reports` gives for the stored reports with the same pins and closed keys
(the stored state is a fixpoint; see "Assumption" below). The full regroup (F) runs
`group_reports` over every report of the pass's window; the local one runs it over the set
`regroup` (C) with the reports in `keep` and every other given report pinned at its stored
key. `affected` returns C and `keep`; `regroup_locally` does the whole local regroup.

Definitions. A report x *reaches* a report a when `group_reports` would let x join an
incident anchored at a, leaving out only whether that incident is closed: both categories
group, they are related, ``0 <= x.created_at - a.created_at <= window`` of a's category
and the two are within a's radius (or share the normalised place text when one lacks a
position). C is the least set that holds the pending reports and is closed under:

1. T, the *touched keys*, holds the stored key of every report in C, the id of every
   report in C (the key it gets when it starts an incident), the stored key of every
   *stored anchor* that a member of C reaches, and the caller's `extra_keys` (the old
   incidents of edited reports). The stored anchors are, per stored key, the report named
   by the key when it is a member, and the earliest member (in canonical order): the only
   reports that ever anchor an incident in a grouping of the given reports. The unpinned
   members of an extra key are in C: the edited report, as it was, may have anchored
   them, and it is no longer there (a report a member did not choose can leave without
   changing its choice).
2. P, the *possible anchors*, holds C and every report whose stored key is in T.
3. Every unpinned report that reaches a member of P is in C.

`keep` is P without C. Pinned reports are never in C: their key cannot change.

Why this is exact. Compare F with G, the grouping of the same reports without the pending
ones (which by the assumption gives the stored keys), step by step in canonical order.

* By induction, every key F gives a report c in C is in T: it is c's pin (none: C holds no
  pinned report), c's own id, or the key of an anchor c reaches; that anchor is either in
  C (its key is in T by induction, being earlier) or outside C, with its stored key. Were
  that key not in T, its incident would be untouched (next point), so the anchor would be
  one in G too, a stored anchor, whose key rule 1 puts in T.
* An incident whose key is not in T has no member from C in F or in G, and (below) the same
  other members with the same keys, so its anchor is the same report at every moment in
  both runs. Only incidents keyed in T can differ, and all their anchors, in both runs, are
  members of C or reports with a stored key in T: members of P.
* A report x outside C is pinned (its key is its pin in both runs) or reaches no member of
  P (rule 3). Then the anchors it can reach are the same reports with the same keys in F
  and G, so `best` picks the same one (its order is total): F gives x its stored key.
* The local run holds C, every report with a key in T (all of P) and, pinned, any others
  the caller passes. For c in C, an anchor c reaches in F belongs to a key in T (rule 1),
  whose members are all present, with F's keys (by induction), so that anchor is present
  at the same moments. An anchor of an untouched key in the local run is the earliest of
  its members there, all pinned reports older than any other member (the caller passes
  only anchors), so a stored anchor: c does not reach it, or its key would be in T. The
  candidates are the same, so the local run gives c F's key.

There are no new tie-breaks: `group_reports` breaks every tie, and C does not depend on the
order in which the closure is computed (it is the least fixpoint of monotone rules).

Assumption. The stored keys are the grouping's own (what every earlier pass wrote). A
coordinator decision pins (freezes) the incidents it touches; if it changed an anchor that
unpinned reports of another incident relied on, those reports keep their stored key here,
where a full regroup would have moved them only if they happened to lie in its window.

Speed. The neighbour search goes through `AnchorIndex` per category and time bucket (one
bucket spans the longest window, so a search looks in two). Rule 3 searches the unpinned
reports outside C, and a report leaves that index when it joins C; rule 1 searches only the
stored anchors (at most two per incident). So a scene of a thousand reports at one spot
costs one pass over them, not a thousand, and the closure costs about the size of C and
P plus one index entry per report of a category it meets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analysis.anchor_index import AnchorIndex
from analysis.grouping import ReportPoint, _reach, group_reports, normalise_place
from analysis.grouping_rules import Rules

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


# Slots, no dict per instance: one per report of a grouping pass's window (issue 14).
@dataclass(frozen=True, slots=True)
class StoredReport:
    """Hold one report of the pass: its point, stored key (None: waiting) and pin."""

    point: ReportPoint
    key: str | None
    pinned: bool = False

    def __post_init__(self) -> None:
        """Reject a pinned report without a key: a pin names the incident it keeps."""
        if self.pinned and self.key is None:
            raise ValueError(f"pinned report {self.point.id!r} needs a key")


@dataclass(frozen=True)
class Affected:
    """The reports to regroup and those to pass along pinned at their stored key."""

    regroup: frozenset[str]
    keep: frozenset[str]


class _Grid:
    """Index the reports of one category by time bucket, position and place text."""

    def __init__(self, radius_m: float, span: timedelta) -> None:
        """Start empty; cells fit the largest radius, buckets the longest window."""
        self.radius_m = radius_m
        self.span = span
        self.buckets: dict[int, AnchorIndex] = {}

    def bucket(self, moment: datetime) -> int:
        """Return the time bucket of a moment."""
        return (moment - _EPOCH) // self.span

    def add(self, report: ReportPoint, place: str) -> None:
        """Index a report."""
        bucket = self.bucket(report.created_at)
        index = self.buckets.get(bucket)
        if index is None:
            index = self.buckets[bucket] = AnchorIndex(self.radius_m)
        index.add(report.id, report.lat, report.lon, place)

    def discard(self, report: ReportPoint) -> None:
        """Forget a report (nothing happens when it is not indexed)."""
        index = self.buckets.get(self.bucket(report.created_at))
        if index is not None:
            index.discard(report.id)

    def near(
        self, report: ReportPoint, place: str, start: datetime, end: datetime
    ) -> Iterator[str]:
        """Yield (possibly with repeats) the ids that may be in reach between start and end."""
        for bucket in range(self.bucket(start), self.bucket(end) + 1):
            index = self.buckets.get(bucket)
            if index is not None:
                yield from index.candidates(report.lat, report.lon, place)


class _Closure:
    """Grow C, T and P from the pending reports to the least fixpoint."""

    def __init__(self, reports: list[StoredReport], rules: Rules) -> None:
        """Index the reports by id and key; the grids are built per category on demand."""
        self.rules = rules
        self.by_id = {s.point.id: s for s in reports}
        # Per category, so a grid is built from its own reports, not from all of them.
        self.by_category: dict[str, list[StoredReport]] = {}
        for s in reports:
            self.by_category.setdefault(s.point.category, []).append(s)
        self.places = {s.point.id: normalise_place(s.point.place) for s in reports}
        self.by_key: dict[str, list[str]] = {}
        for s in sorted(reports, key=lambda s: (s.point.created_at, s.point.id)):
            if s.key is not None:
                self.by_key.setdefault(s.key, []).append(s.point.id)
        # The stored anchors: the report named by each key when it is a member, and each
        # key's earliest member. Only they can anchor an incident no report of C touches.
        self.anchors = {members[0] for members in self.by_key.values()}
        self.anchors |= {k for k in self.by_key if k in self.by_id and self.by_id[k].key == k}
        grouping = [r for r in (rules.default, *rules.per_category.values()) if r.groups]
        self.radius = max((r.radius_m for r in grouping), default=0.0)
        self.span = max((r.window for r in grouping), default=timedelta(0))
        # Reports that may still join C (unpinned, not in C yet), and the stored anchors.
        self.free: dict[str, _Grid] = {}
        self.anchor_grids: dict[str, _Grid] = {}
        self.regroup: set[str] = set()
        self.touched: set[str] = set()
        self.possible: set[str] = set()
        self.todo: list[str] = []

    def _build(self, category: str, chosen: Callable[[StoredReport], bool]) -> _Grid:
        """Index the reports of a category that `chosen` accepts."""
        grid = _Grid(self.radius, self.span)
        for s in self.by_category.get(category, ()):
            if chosen(s):
                grid.add(s.point, self.places[s.point.id])
        return grid

    def free_grid(self, category: str) -> _Grid:
        """Return the index of a category's reports that may still join C."""
        grid = self.free.get(category)
        if grid is None:
            grid = self.free[category] = self._build(
                category,
                lambda s: s.key is not None and not s.pinned and s.point.id not in self.regroup,
            )
        return grid

    def anchor_grid(self, category: str) -> _Grid:
        """Return the index of a category's stored anchors."""
        grid = self.anchor_grids.get(category)
        if grid is None:
            grid = self.anchor_grids[category] = self._build(
                category, lambda s: s.point.id in self.anchors
            )
        return grid

    def add_regroup(self, rid: str) -> None:
        """Put a report in C (rules 1 and 2 follow at once)."""
        if rid in self.regroup:
            return
        self.regroup.add(rid)
        point = self.by_id[rid].point
        grid = self.free.get(point.category)
        if grid is not None:
            grid.discard(point)  # found once: later searches need not look at it again
        self.add_possible(rid)
        key = self.by_id[rid].key
        if key is not None:
            self.touch(key)
        self.touch(rid)
        for anchor in self.reached_by(rid):
            anchor_key = self.by_id[anchor].key
            if anchor_key is not None:
                self.touch(anchor_key)

    def touch(self, key: str) -> None:
        """Put a key in T and its stored members in P."""
        if key in self.touched:
            return
        self.touched.add(key)
        for rid in self.by_key.get(key, ()):
            self.add_possible(rid)

    def add_possible(self, rid: str) -> None:
        """Put a report in P; its reachers are looked for in `run`."""
        if rid not in self.possible:
            self.possible.add(rid)
            self.todo.append(rid)

    def run(self) -> None:
        """Apply rule 3 until nothing changes."""
        while self.todo:
            for rid in list(self.reaching(self.todo.pop())):
                self.add_regroup(rid)

    def reaching(self, rid: str) -> Iterator[str]:
        """Yield the unpinned reports outside C (once each) that reach this one."""
        anchor = self.by_id[rid].point
        rule = self.rules.rule_for(anchor.category)
        if not rule.groups:
            return  # its incident can be joined only through another anchor
        place = self.places[rid]
        try:
            end = anchor.created_at + rule.window
        except OverflowError:
            end = _LATEST
        seen: set[str] = set()
        for category in sorted(self.rules.related_to(anchor.category)):
            if not self.rules.rule_for(category).groups:
                continue
            for other in self.free_grid(category).near(anchor, place, anchor.created_at, end):
                if other == rid or other in seen:
                    continue
                seen.add(other)
                report = self.by_id[other].point
                if _reach(report, self.places[other], anchor, place, rule) is not None:
                    yield other

    def reached_by(self, rid: str) -> Iterator[str]:
        """Yield the stored anchors (once each) that this report reaches."""
        report = self.by_id[rid].point
        if not self.rules.rule_for(report.category).groups:
            return  # it starts its own incident whatever is near
        place = self.places[rid]
        seen: set[str] = set()
        for category in sorted(self.rules.related_to(report.category)):
            rule = self.rules.rule_for(category)
            if not rule.groups:
                continue
            try:
                start = report.created_at - rule.window
            except OverflowError:
                start = _EARLIEST
            grid = self.anchor_grid(category)
            for other in grid.near(report, place, start, report.created_at):
                if other == rid or other in seen:
                    continue
                seen.add(other)
                anchor = self.by_id[other].point
                if _reach(report, place, anchor, self.places[other], rule) is not None:
                    yield other


def affected(
    reports: Iterable[StoredReport], rules: Rules, extra_keys: AbstractSet[str] = frozenset()
) -> Affected:
    """Return the reports a pass must regroup (C) and those it must pass pinned (P minus C).

    The pending reports are those whose key is None; `extra_keys` are keys whose members
    may have changed for another reason (an edited report left them).
    """
    given = list(reports)
    closure = _Closure(given, rules)
    if len(closure.by_id) != len(given):
        raise ValueError("duplicate report id")
    for s in given:
        if s.key is None:
            closure.add_regroup(s.point.id)
    for key in sorted(extra_keys):
        # The edited report is gone from its old incident: whoever joined that incident
        # may have joined through it, so every unpinned member is regrouped.
        for rid in closure.by_key.get(key, ()):
            if not closure.by_id[rid].pinned:
                closure.add_regroup(rid)
        closure.touch(key)
    closure.run()
    regroup = frozenset(closure.regroup)
    return Affected(regroup=regroup, keep=frozenset(closure.possible - regroup))


def regroup_locally(
    reports: Iterable[StoredReport],
    rules: Rules,
    closed: AbstractSet[str] = frozenset(),
    extra_keys: AbstractSet[str] = frozenset(),
) -> dict[str, str]:
    """Return the new key of every report of C; every other report keeps its stored key."""
    given = list(reports)
    found = affected(given, rules, extra_keys)
    chosen = [s for s in given if s.point.id in found.regroup or s.point.id in found.keep]
    pinned: Mapping[str, str] = {
        s.point.id: s.key for s in chosen if s.point.id not in found.regroup and s.key is not None
    }
    keys = group_reports([s.point for s in chosen], rules, pinned=pinned, closed=closed)
    return {rid: keys[rid] for rid in found.regroup}

"""The week view of guard rounds: per owner and area, rounds by nights, cells of statuses.

A guard company's rounds are its own; a customer sees them through a sharing agreement
(server.sharing) in force at `reports` or `full` that covers every category (rounds are
not reports of a category) and the round's area. The end reason, free text, only at `full`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from server.rounds.status import DEFAULT_CUTOFF, RunRow, statuses
from server.sharing.rules import Scope, at_least

# Worst first: a cell of several runs shows the worst status of its night.
FIRST_YEAR, LAST_YEAR = 2000, 9998  # as the EST export's weeks
SEVERITY = ("missed", "incomplete", "not_synced", "late", "pending", "completed")


@dataclass(frozen=True)
class Cell:
    """One round's planned runs on one night."""

    runs: tuple[RunRow, ...]

    @property
    def status(self) -> str | None:
        """Return the worst status of the night's runs (None: nothing planned)."""
        found = {r.status for r in self.runs}
        return next((s for s in SEVERITY if s in found), None)

    @property
    def completed(self) -> int:
        """Count the night's runs completed (late ones too: all was scanned)."""
        return sum(r.status in ("completed", "late") for r in self.runs)

    @property
    def missing(self) -> tuple[str, ...]:
        """Return the checkpoints missed in a run of the night that is over, each once."""
        over = ("missed", "incomplete", "not_synced")
        return tuple(
            dict.fromkeys(name for r in self.runs if r.status in over for name in r.missing)
        )


@dataclass
class WeekGroup:
    """One owner's rounds in one area over the week."""

    owner: int
    area_id: int | None
    full: bool  # the end reasons may be shown
    rows: dict[tuple[int, str], list[Cell]] = field(default_factory=dict)


def week_start(day: date) -> date:
    """Return the Monday of the day's ISO week."""
    return day - timedelta(days=day.weekday())


def parse_week(text: str | None, today: date) -> date:
    """Return the Monday of an ISO week written 2026-W18, or raise ValueError.

    By default the week of last night (on a Monday morning, the week just ended).
    """
    if not text:
        return week_start(today - timedelta(days=1))
    try:
        year, week = text.split("-W")
        # The calendar's ends overflow the nights around the week; no round runs there.
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            raise ValueError(f"the year must be {FIRST_YEAR}–{LAST_YEAR}")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a week such as 2026-W18.") from exc


def visible_owners(scope: Scope) -> dict[int, tuple[frozenset[int] | None, bool]]:
    """Return whose rounds the scope sees: owner → (area ids or None for all, full)."""
    out: dict[int, tuple[frozenset[int] | None, bool]] = {scope.viewer: (None, True)}
    for g in scope.grants_at_least("reports"):
        if g.owner == scope.viewer or g.categories is not None:
            continue
        areas, full = out.get(g.owner, (frozenset(), False))
        merged = None if areas is None or g.area_ids is None else areas | g.area_ids
        out[g.owner] = (merged, full or at_least(g.detail, "full"))
    return out


def week(
    scope: Scope, monday: date, now: datetime, cutoff: time = DEFAULT_CUTOFF
) -> list[WeekGroup]:
    """Return the week's groups (owner, area) with a row per round and a cell per night."""
    nights = [monday + timedelta(days=i) for i in range(7)]
    groups: dict[tuple[int, int | None], WeekGroup] = {}
    for owner, (areas, full) in sorted(visible_owners(scope).items()):
        per_round: dict[tuple[int, str, int | None], dict[date, list[RunRow]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for r in statuses(owner, nights[0], nights[-1], now, cutoff):
            if areas is not None and r.area_id not in areas:
                continue
            per_round[(r.round_id, r.round_name, r.area_id)][r.night].append(r)
        for (round_id, name, area_id), by_night in sorted(
            per_round.items(), key=lambda kv: kv[0][1]
        ):
            group = groups.setdefault((owner, area_id), WeekGroup(owner, area_id, full))
            group.rows[(round_id, name)] = [Cell(tuple(by_night.get(n, ()))) for n in nights]
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0] != scope.viewer, k))]

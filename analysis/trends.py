"""Report counts compared with the same weekday of the previous weeks.

A Tuesday is compared with the Tuesdays before it, never with the Monday: weekly rhythms
(weekend nights, school days) would otherwise drown every real change. Counts are keyed by
calendar ``date`` (the municipality's local date), so daylight-saving shifts cannot move a
report between days here; the caller decides the local date once.

History: a comparison period before the organisation's first report is not a quiet
period, it is no period at all. `usable_history` is the one rule, used by the trends page
and the digest alike: only comparison periods that start on or after the (local) day of the
first report count, and with none left there is no direction ("new": too little history).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

K = TypeVar("K", bound=Hashable)

# "new": no comparison period lies within the organisation's history, so nothing to compare.
Direction = Literal["up", "down", "same", "new"]

# A change must be at least this many reports before it is called up or down: going from
# 0 to 1 report is noise, not a trend.
MIN_CHANGE = 2


@dataclass(frozen=True)
class Baseline:
    """Compare one count with the mean of the same period in previous weeks."""

    day: date
    count: int
    mean: float
    previous: tuple[int, ...]
    delta: float
    ratio: float | None
    direction: Direction


def _check_day(day: date, what: str) -> None:
    """Reject datetimes and non-dates: counts are per calendar day."""
    # datetime is a date subclass; a datetime key never equals a date key, so a count
    # would silently read as zero.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{what} must be a date, got {type(day).__name__}")


def _check_weeks(weeks: int) -> None:
    """Reject week counts that are not positive ints."""
    if type(weeks) is not int or weeks < 1:
        raise ValueError(f"weeks must be a positive int, got {weeks!r}")


def usable_history(starts: Sequence[date], first_day: date | None) -> int:
    """Return how many comparison periods, nearest first, start on or after `first_day`.

    `starts` are the comparison periods' first local days, nearest first (1, 2, ... back);
    `first_day` is the local day of the first report of the data compared (None: no cut).
    A period that began before the first report would count the days before the
    deployment as zeros, so it and every older one are left out: the result is a prefix.
    """
    if first_day is None:
        return len(starts)
    usable = 0
    for start in starts:
        _check_day(start, "start")
        if start < first_day:
            break
        usable += 1
    return usable


def mean_of(previous: tuple[int, ...]) -> float:
    """Return the mean of the comparison counts (0.0 without any)."""
    return sum(previous) / len(previous) if previous else 0.0


def direction_of(count: int, previous: tuple[int, ...]) -> Direction:
    """Return "up"/"down" when count differs from the mean by >= max(2, mean/2), else "same".

    Without any comparison count ("previous" empty) the direction is "new".
    """
    if not previous:
        return "new"
    # THE rule: |count - mean| >= max(MIN_CHANGE, mean / 2). Both parts are needed: the
    # absolute floor ignores 0 → 1 on quiet days, the relative part ignores 30 → 32 on
    # busy ones. Evaluated in integers (everything times 2 * weeks) so edge cases are
    # exact: mean = total / weeks is not exact in binary for weeks = 3.
    weeks, total = len(previous), sum(previous)
    twice_delta = 2 * (count * weeks - total)
    threshold = max(2 * MIN_CHANGE * weeks, total)
    if twice_delta >= threshold:
        return "up"
    if -twice_delta >= threshold:
        return "down"
    return "same"


def _compare(day: date, count: int, previous: tuple[int, ...]) -> Baseline:
    """Return the baseline of a count against its previous counts."""
    mean = mean_of(previous)
    return Baseline(
        day=day,
        count=count,
        mean=mean,
        previous=previous,
        delta=count - mean,
        ratio=count / mean if mean > 0 else None,
        direction=direction_of(count, previous),
    )


def _history(day: date, weeks: int, first_day: date | None) -> int:
    """Return how many of the weeks before `day` lie within the history (`usable_history`)."""
    if first_day is not None:
        _check_day(first_day, "first_day")
    starts = [day - timedelta(weeks=back) for back in range(1, weeks + 1)]
    return usable_history(starts, first_day)


def baseline(
    counts: Mapping[date, int], day: date, weeks: int = 4, first_day: date | None = None
) -> Baseline:
    """Compare the count of a day with the same weekday 1..weeks weeks back (missing = 0).

    Weeks before `first_day` (the first report's day) are left out (`usable_history`).
    """
    _check_day(day, "day")
    _check_weeks(weeks)
    usable = _history(day, weeks, first_day)
    previous = tuple(counts.get(day - timedelta(weeks=back), 0) for back in range(1, usable + 1))
    return _compare(day, counts.get(day, 0), previous)


def _sum7(counts: Mapping[date, int], start: date) -> int:
    """Return the total of the seven days from start."""
    return sum(counts.get(start + timedelta(days=offset), 0) for offset in range(7))


def weekly(
    counts: Mapping[date, int], week_start: date, weeks: int = 4, first_day: date | None = None
) -> Baseline:
    """Compare the 7 days from week_start with the 7-day sums of the weeks before.

    Weeks that start before `first_day` (the first report's day) are left out.
    """
    # Any weekday may start the week (a rolling "last 7 days" works too); the result's
    # day is week_start and count is the 7-day sum. The same direction rule applies.
    _check_day(week_start, "week_start")
    _check_weeks(weeks)
    usable = _history(week_start, weeks, first_day)
    previous = tuple(
        _sum7(counts, week_start - timedelta(weeks=back)) for back in range(1, usable + 1)
    )
    return _compare(week_start, _sum7(counts, week_start), previous)


def series(counts: Mapping[date, int], start: date, end: date) -> list[tuple[date, int]]:
    """Return (day, count) for every day from start to end inclusive, gaps as zero."""
    _check_day(start, "start")
    _check_day(end, "end")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return [
        (start + timedelta(days=offset), counts.get(start + timedelta(days=offset), 0))
        for offset in range((end - start).days + 1)
    ]


def baseline_by_key(
    counts: Mapping[tuple[K, date], int],
    day: date,
    weeks: int = 4,
    first_day: date | None = None,
) -> dict[K, Baseline]:
    """Return a baseline per key (category, area) that has reports on the day or its baseline.

    Weeks before `first_day` (the first report's day) are left out (`usable_history`).
    """
    _check_day(day, "day")
    _check_weeks(weeks)
    weeks = _history(day, weeks, first_day)
    # The day itself and the same weekday in each of the usable previous weeks.
    wanted = {day - timedelta(weeks=back): back for back in range(weeks + 1)}
    per_key: dict[K, list[int]] = {}
    for (key, when), count in counts.items():
        back = wanted.get(when)
        # A key whose relevant counts are all zero is the same as an absent key: left out.
        if back is None or not count:
            continue
        per_key.setdefault(key, [0] * (weeks + 1))[back] += count
    # Sorted by key so that the result's order does not depend on the input's order.
    return {
        key: _compare(day, slots[0], tuple(slots[1:]))
        for key, slots in sorted(per_key.items(), key=lambda item: item[0])
    }

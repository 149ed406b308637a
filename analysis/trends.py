"""Report counts compared with the same weekday of the previous weeks.

A Tuesday is compared with the Tuesdays before it, never with the Monday: weekly rhythms
(weekend nights, school days) would otherwise drown every real change. Counts are keyed by
calendar ``date`` (the municipality's local date), so daylight-saving shifts cannot move a
report between days here; the caller decides the local date once.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

K = TypeVar("K", bound=Hashable)

Direction = Literal["up", "down", "same"]

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


def direction_of(count: int, previous: tuple[int, ...]) -> Direction:
    """Return "up"/"down" when count differs from the mean by >= max(2, mean/2), else "same"."""
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
    mean = sum(previous) / len(previous)
    return Baseline(
        day=day,
        count=count,
        mean=mean,
        previous=previous,
        delta=count - mean,
        ratio=count / mean if mean > 0 else None,
        direction=direction_of(count, previous),
    )


def baseline(counts: Mapping[date, int], day: date, weeks: int = 4) -> Baseline:
    """Compare the count of a day with the same weekday 1..weeks weeks back (missing = 0)."""
    _check_day(day, "day")
    _check_weeks(weeks)
    previous = tuple(counts.get(day - timedelta(weeks=back), 0) for back in range(1, weeks + 1))
    return _compare(day, counts.get(day, 0), previous)


def _sum7(counts: Mapping[date, int], start: date) -> int:
    """Return the total of the seven days from start."""
    return sum(counts.get(start + timedelta(days=offset), 0) for offset in range(7))


def weekly(counts: Mapping[date, int], week_start: date, weeks: int = 4) -> Baseline:
    """Compare the 7 days from week_start with the 7-day sums of the weeks before."""
    # Any weekday may start the week (a rolling "last 7 days" works too); the result's
    # day is week_start and count is the 7-day sum. The same direction rule applies.
    _check_day(week_start, "week_start")
    _check_weeks(weeks)
    previous = tuple(
        _sum7(counts, week_start - timedelta(weeks=back)) for back in range(1, weeks + 1)
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
    counts: Mapping[tuple[K, date], int], day: date, weeks: int = 4
) -> dict[K, Baseline]:
    """Return a baseline per key (category, area) that has reports on the day or its baseline."""
    _check_day(day, "day")
    _check_weeks(weeks)
    # The day itself and the same weekday in each of the previous weeks.
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

"""Tests for analysis.trends: counts against the same weekday of previous weeks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.trends import Baseline, baseline, baseline_by_key, direction_of, series, weekly

TUESDAY = date(2026, 11, 24)
WEEK = timedelta(weeks=1)


def tuesdays(today: int, *previous: int) -> dict[date, int]:
    """Return counts for TUESDAY and the Tuesdays before it, most recent first."""
    counts = {TUESDAY: today}
    for back, count in enumerate(previous, start=1):
        counts[TUESDAY - back * WEEK] = count
    return counts


# --- baseline --------------------------------------------------------------------------


def test_baseline_arithmetic() -> None:
    result = baseline(tuesdays(9, 4, 6, 2, 4), TUESDAY)
    assert result == Baseline(
        day=TUESDAY,
        count=9,
        mean=4.0,
        previous=(4, 6, 2, 4),
        delta=5.0,
        ratio=2.25,
        direction="up",
    )


def test_baseline_uses_only_the_same_weekday() -> None:
    counts = tuesdays(3, 3, 3, 3, 3)
    # Busy Mondays and Wednesdays around each Tuesday must not matter.
    for back in range(5):
        counts[TUESDAY - back * WEEK - timedelta(days=1)] = 50
        counts[TUESDAY - back * WEEK + timedelta(days=1)] = 50
    # A fifth week back is outside the default four.
    counts[TUESDAY - 5 * WEEK] = 100
    result = baseline(counts, TUESDAY)
    assert (result.previous, result.mean, result.direction) == ((3, 3, 3, 3), 3.0, "same")


def test_missing_days_are_zero() -> None:
    result = baseline({TUESDAY - 2 * WEEK: 8}, TUESDAY)
    assert result.count == 0
    assert result.previous == (0, 8, 0, 0)
    assert result.mean == 2.0
    assert result.delta == -2.0
    assert result.ratio == 0.0
    assert result.direction == "down"


def test_empty_history_has_no_ratio() -> None:
    result = baseline({TUESDAY: 3}, TUESDAY)
    assert (result.mean, result.ratio, result.delta, result.direction) == (0.0, None, 3.0, "up")
    assert baseline({}, TUESDAY).direction == "same"


def test_other_week_counts() -> None:
    counts = tuesdays(5, 1, 2, 3, 4, 5, 6)
    assert baseline(counts, TUESDAY, weeks=2).previous == (1, 2)
    assert baseline(counts, TUESDAY, weeks=6).mean == 3.5
    with pytest.raises(ValueError, match="weeks"):
        baseline(counts, TUESDAY, weeks=0)


def test_dst_is_irrelevant() -> None:
    # Sweden leaves summer time on 25 October 2026: a week spanning it is still 7 days,
    # and the Tuesdays either side line up.
    after = date(2026, 10, 27)
    counts = {after: 6, date(2026, 10, 20): 2, date(2026, 10, 13): 2, date(2026, 10, 6): 2}
    counts[date(2026, 9, 29)] = 2
    result = baseline(counts, after)
    assert result.previous == (2, 2, 2, 2)
    assert result.direction == "up"
    # And into summer time in March.
    spring = date(2026, 3, 31)
    assert baseline({date(2026, 3, 24): 4}, spring).previous == (4, 0, 0, 0)


def test_datetimes_are_rejected() -> None:
    with pytest.raises(TypeError, match="must be a date"):
        baseline({}, datetime(2026, 11, 24, 12, 0))
    with pytest.raises(TypeError, match="must be a date"):
        weekly({}, datetime(2026, 11, 24))
    with pytest.raises(TypeError, match="must be a date"):
        series({}, TUESDAY, datetime(2026, 11, 30))


# --- the direction rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "previous", "expected"),
    [
        # Quiet place, mean 1: the absolute floor of 2 decides.
        (2, (1, 1, 1, 1), "same"),  # +1
        (3, (1, 1, 1, 1), "up"),  # +2, exactly the floor
        (0, (1, 1, 1, 1), "same"),  # -1
        (1, (0, 0, 0, 0), "same"),  # 0 → 1 is noise
        (2, (0, 0, 0, 0), "up"),
        # Busy place, mean 10: half the mean (5) decides.
        (14, (10, 10, 10, 10), "same"),  # +4
        (15, (10, 10, 10, 10), "up"),  # +5, exactly half
        (6, (10, 10, 10, 10), "same"),  # -4
        (5, (10, 10, 10, 10), "down"),  # -5, exactly half
        # Mean 4: both parts equal 2.
        (6, (4, 4, 4, 4), "up"),
        (2, (4, 4, 4, 4), "down"),
        (5, (4, 4, 4, 4), "same"),
        # Mean 2.5 (non-integer): threshold max(2, 1.25) = 2.
        (5, (1, 2, 3, 4), "up"),  # +2.5
        (4, (1, 2, 3, 4), "same"),  # +1.5
        (0, (1, 2, 3, 4), "down"),  # -2.5
    ],
)
def test_direction_rule(count: int, previous: tuple[int, ...], expected: str) -> None:
    assert direction_of(count, previous) == expected
    assert baseline(tuesdays(count, *previous), TUESDAY).direction == expected


def test_direction_rule_exact_with_thirds() -> None:
    # Mean 20/3 over three weeks: threshold max(2, 10/3) = 10/3. In floats 10 - 20/3 is a
    # hair below 0.5 * 20/3, so a float comparison would call the exact edge "same".
    previous = (6, 7, 7)
    assert direction_of(10, previous) == "up"  # +10/3, exactly the threshold
    assert direction_of(9, previous) == "same"  # +7/3
    assert direction_of(3, previous) == "down"  # -11/3
    assert direction_of(4, previous) == "same"  # -8/3


def reference_direction(count: int, previous: tuple[int, ...]) -> str:
    """Return the documented rule evaluated with exact fractions."""
    mean = Fraction(sum(previous), len(previous))
    threshold = max(Fraction(2), mean / 2)
    if count - mean >= threshold:
        return "up"
    if mean - count >= threshold:
        return "down"
    return "same"


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 60),
    previous=st.lists(st.integers(0, 60), min_size=1, max_size=8).map(tuple),
)
def test_direction_matches_exact_rule(count: int, previous: tuple[int, ...]) -> None:
    assert direction_of(count, previous) == reference_direction(count, previous)


# --- weekly ----------------------------------------------------------------------------


def test_weekly_sums_seven_days_against_previous_weeks() -> None:
    start = date(2026, 11, 23)  # a Monday
    counts: dict[date, int] = {}
    for offset in range(7):
        counts[start + timedelta(days=offset)] = 2  # 14 this week
        for back in range(1, 5):
            # Previous weeks: 7, 7, 7, 7 spread over the week.
            counts[start - back * WEEK + timedelta(days=offset)] = 1
    counts[start + timedelta(days=7)] = 99  # next Monday: not part of this week
    counts[start - 5 * WEEK] = 99  # five weeks back: outside the baseline
    result = weekly(counts, start)
    assert (result.day, result.count, result.previous) == (start, 14, (7, 7, 7, 7))
    assert (result.mean, result.delta, result.ratio, result.direction) == (7.0, 7.0, 2.0, "up")


def test_weekly_any_start_day_and_gaps() -> None:
    start = date(2026, 11, 26)  # a Thursday: a rolling week
    result = weekly({start + timedelta(days=6): 3, start - timedelta(days=1): 4}, start, weeks=2)
    assert result.count == 3
    assert result.previous == (4, 0)
    assert result.direction == "same"


# --- series ----------------------------------------------------------------------------


def test_series_fills_gaps_with_zero() -> None:
    counts = {date(2026, 11, 1): 3, date(2026, 11, 4): 1, date(2026, 12, 1): 9}
    assert series(counts, date(2026, 10, 31), date(2026, 11, 4)) == [
        (date(2026, 10, 31), 0),
        (date(2026, 11, 1), 3),
        (date(2026, 11, 2), 0),
        (date(2026, 11, 3), 0),
        (date(2026, 11, 4), 1),
    ]


def test_series_single_day_and_reversed_range() -> None:
    assert series({}, TUESDAY, TUESDAY) == [(TUESDAY, 0)]
    with pytest.raises(ValueError, match="before start"):
        series({}, TUESDAY, TUESDAY - timedelta(days=1))


def test_series_across_dst_has_one_entry_per_day() -> None:
    days = series({}, date(2026, 10, 20), date(2026, 11, 2))
    assert len(days) == 14
    assert len({day for day, _ in days}) == 14


# --- baseline_by_key -------------------------------------------------------------------


def test_baseline_by_key_includes_keys_quiet_today() -> None:
    counts = {
        ("klotter", TUESDAY): 6,
        ("klotter", TUESDAY - WEEK): 2,
        ("brak", TUESDAY - WEEK): 4,
        ("brak", TUESDAY - 3 * WEEK): 4,
        ("annat", TUESDAY): 1,
        # Only outside the baseline's days, or zero: not listed.
        ("eld", TUESDAY - timedelta(days=1)): 5,
        ("eld", TUESDAY - 5 * WEEK): 5,
        ("vatten", TUESDAY): 0,
    }
    result = baseline_by_key(counts, TUESDAY)
    assert list(result) == ["annat", "brak", "klotter"]
    assert result["klotter"] == baseline({TUESDAY: 6, TUESDAY - WEEK: 2}, TUESDAY)
    assert result["brak"].count == 0
    assert result["brak"].previous == (4, 0, 4, 0)
    assert result["brak"].direction == "down"
    assert result["annat"].direction == "same"


def test_baseline_by_key_area_ids_and_weeks() -> None:
    counts = {(7, TUESDAY): 3, (3, TUESDAY - 2 * WEEK): 2}
    assert list(baseline_by_key(counts, TUESDAY, weeks=1)) == [7]
    assert list(baseline_by_key(counts, TUESDAY, weeks=2)) == [3, 7]


@settings(max_examples=150, deadline=None)
@given(
    counts=st.dictionaries(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 40)),
        st.integers(0, 9),
        max_size=40,
    ),
    weeks=st.integers(1, 5),
)
def test_baseline_by_key_equals_per_key_baseline(counts: dict, weeks: int) -> None:
    start = date(2026, 10, 1)
    dated = {(key, start + timedelta(days=n)): c for (key, n), c in counts.items()}
    day = start + timedelta(days=35)
    result = baseline_by_key(dated, day, weeks=weeks)
    for key in ["a", "b", "c"]:
        own = {when: c for (k, when), c in dated.items() if k == key}
        expected = baseline(own, day, weeks=weeks)
        if expected.count or any(expected.previous):
            assert result[key] == expected
        else:
            assert key not in result

"""The baseline counts only history: weeks before the first report are not zeros."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.trends import baseline, baseline_by_key, direction_of, usable_history, weekly

DAY = date(2026, 11, 20)
days = st.dates(min_value=date(2026, 9, 1), max_value=date(2026, 11, 30))
counts = st.dictionaries(days, st.integers(min_value=0, max_value=20), max_size=60)


def test_periods_before_the_first_report_are_left_out() -> None:
    starts = [DAY - timedelta(weeks=back) for back in range(1, 5)]
    assert usable_history(starts, None) == 4
    assert usable_history(starts, DAY - timedelta(weeks=4)) == 4
    assert usable_history(starts, DAY - timedelta(weeks=4) + timedelta(days=1)) == 3
    assert usable_history(starts, DAY - timedelta(weeks=1)) == 1
    assert usable_history(starts, DAY) == 0


def test_a_two_week_old_deployment_compares_with_its_two_weeks_only() -> None:
    first = DAY - timedelta(weeks=2)
    b = baseline({DAY: 3, first: 1, DAY - timedelta(weeks=1): 2}, DAY, first_day=first)
    assert b.previous == (2, 1) and b.mean == 1.5 and b.direction == "same"
    # The old rule read the weeks before as zeros and called it an increase.
    assert baseline({DAY: 3, first: 1, DAY - timedelta(weeks=1): 2}, DAY).mean == 0.75


def test_without_a_whole_week_of_history_there_is_no_direction() -> None:
    first = DAY - timedelta(days=3)
    b = baseline({DAY: 9, first: 4}, DAY, first_day=first)
    assert (b.previous, b.mean, b.direction, b.ratio) == ((), 0.0, "new", None)
    assert weekly({DAY: 9}, DAY, first_day=first).direction == "new"
    assert direction_of(5, ()) == "new"
    by_key = baseline_by_key({("brand", DAY): 4}, DAY, first_day=first)
    assert by_key["brand"].direction == "new"


def test_a_first_day_must_be_a_date() -> None:
    with pytest.raises(TypeError):
        usable_history(["2026-11-13"], DAY)  # type: ignore[list-item]


@settings(max_examples=200, deadline=None)
@given(counts=counts, noise=counts, first=days, day=days)
def test_counts_before_the_first_report_never_matter(counts, noise, first, day) -> None:
    """Whatever lies before the first report, the day's comparison is the same."""
    before = {d: n for d, n in noise.items() if d < first}
    kept = {d: n for d, n in counts.items() if d >= first}
    for compare in (baseline, weekly):
        a = compare(kept, day, first_day=first)
        b = compare({**kept, **before}, day, first_day=first)
        if day >= first:
            assert a == b


@settings(max_examples=200, deadline=None)
@given(counts=counts, first=days, day=days)
def test_the_baseline_averages_exactly_the_weeks_since_the_first_report(counts, first, day):
    b = baseline(counts, day, first_day=first)
    since = [back for back in range(1, 5) if day - timedelta(weeks=back) >= first]
    assert b.previous == tuple(counts.get(day - timedelta(weeks=k), 0) for k in since)
    assert (b.direction == "new") == (not since)
    if since:
        assert b == baseline(counts, day, weeks=len(since))

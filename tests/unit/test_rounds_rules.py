"""Guard rounds' pure rules: schedule windows over DST, flags and the status of a run."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.rounds import (
    PlannedRun,
    RunFacts,
    ScanFacts,
    Schedule,
    match_run,
    parse_window,
    planned_runs,
    run_status,
    scan_flags,
    window_bounds,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


NIGHT = Schedule(parse_window("22:00-02:00"))


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    # A Friday (2026-05-01) in summer time: 22:00+02:00 to 02:00+02:00 on Saturday.
    assert window_bounds(NIGHT, date(2026, 5, 1)) == (utc(2026, 5, 1, 20), utc(2026, 5, 2, 0))
    # A winter night: +01:00.
    assert window_bounds(NIGHT, date(2026, 12, 4)) == (utc(2026, 12, 4, 21), utc(2026, 12, 5, 1))


def test_the_night_into_summer_time_is_four_hours() -> None:
    # 22:00-02:00 on the night the clock jumps from 02:00 to 03:00: the guard walks 22, 23,
    # 00 and 01 o'clock, four real hours; the window closes at the jump (01:00 UTC).
    start, end = window_bounds(NIGHT, date(2026, 3, 28))
    assert (start, end) == (utc(2026, 3, 28, 21), utc(2026, 3, 29, 1))
    assert end - start == timedelta(hours=4)


def test_the_night_into_winter_time_is_five_hours() -> None:
    start, end = window_bounds(NIGHT, date(2026, 10, 24))
    assert (start, end) == (utc(2026, 10, 24, 20), utc(2026, 10, 25, 1))
    assert end - start == timedelta(hours=5)


def test_the_window_starting_on_a_dst_sunday_itself_is_ordinary() -> None:
    # The night of Sunday 29 March starts in summer time and ends on Monday.
    assert window_bounds(NIGHT, date(2026, 3, 29)) == (utc(2026, 3, 29, 20), utc(2026, 3, 30, 0))
    assert window_bounds(NIGHT, date(2026, 10, 25)) == (utc(2026, 10, 25, 21), utc(2026, 10, 26, 1))


def test_a_window_ending_in_the_march_gap_ends_at_the_jump() -> None:
    short = Schedule(parse_window("01:30-02:10"))
    start, end = window_bounds(short, date(2026, 3, 29))
    assert (start, end) == (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1))


def test_a_window_starting_in_the_march_gap_starts_at_the_jump() -> None:
    late = Schedule(parse_window("02:30-04:00"))
    start, end = window_bounds(late, date(2026, 3, 29))
    assert (start, end) == (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))


def test_a_window_wholly_inside_the_march_gap_never_ends_before_it_starts() -> None:
    inside = Schedule(parse_window("02:10-02:40"))
    start, end = window_bounds(inside, date(2026, 3, 29))
    assert start == utc(2026, 3, 29, 1) and end > start


def test_a_scan_at_half_past_one_on_the_march_night_is_inside_the_window() -> None:
    start, end = window_bounds(NIGHT, date(2026, 3, 28))
    assert start <= utc(2026, 3, 29, 0, 30) < end  # 01:30 winter time, an hour that exists


def test_weekdays_choose_the_nights() -> None:
    fridays = Schedule(parse_window("22:00-02:00"), weekdays=(4,))
    assert planned_runs(fridays, date(2026, 5, 1)) != []  # a Friday
    assert planned_runs(fridays, date(2026, 5, 2)) == []  # a Saturday


def test_every_n_minutes_gives_runs_within_the_window() -> None:
    hourly = Schedule(parse_window("22:00-00:30"), every_minutes=60, grace_minutes=10)
    runs = planned_runs(hourly, date(2026, 5, 1))
    assert [(r.start, r.end) for r in runs] == [
        (utc(2026, 5, 1, 20), utc(2026, 5, 1, 21)),
        (utc(2026, 5, 1, 21), utc(2026, 5, 1, 22)),
        (utc(2026, 5, 1, 22), utc(2026, 5, 1, 22, 30)),
    ]
    assert runs[0].deadline == utc(2026, 5, 1, 21, 10)


@pytest.mark.parametrize("text", ["22-02", "24:00-02:00", "22:00-22:00", "22:60-01:00", "", "x"])
def test_a_bad_window_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 23),
    st.integers(0, 59),
    st.one_of(st.none(), st.integers(5, 240)),
)
def test_runs_lie_inside_their_window_in_order(day, h1, m1, h2, m2, every) -> None:
    if (h1, m1) == (h2, m2):
        return
    schedule = Schedule(parse_window(f"{h1:02}:{m1:02}-{h2:02}:{m2:02}"), every_minutes=every)
    start, end = window_bounds(schedule, day)
    # A window is its wall-clock length give or take the one DST hour.
    assert timedelta(0) < end - start <= timedelta(hours=25)
    runs = planned_runs(schedule, day)
    assert runs[0].start == start and runs[-1].end == end
    for a, b in itertools.pairwise(runs):
        assert a.end == b.start and a.start < a.end


def test_a_run_matches_the_nearest_planned_run() -> None:
    hourly = planned_runs(Schedule(parse_window("22:00-01:00"), every_minutes=60), date(2026, 5, 1))
    assert match_run(hourly, utc(2026, 5, 1, 21, 5)) == hourly[1]
    assert match_run(hourly, utc(2026, 5, 1, 19, 30)) == hourly[0]  # 30 min early
    assert match_run(hourly, utc(2026, 5, 1, 18, 30)) is None  # too early to be any
    assert match_run(hourly, utc(2026, 5, 1, 23, 20)) is None  # after the last deadline


PLANNED = PlannedRun(
    date(2026, 5, 1), 0, utc(2026, 5, 1, 20), utc(2026, 5, 2, 0), timedelta(minutes=15)
)


def facts(**kw) -> ScanFacts:
    base = {
        "checkpoint_id": 1,
        "at": utc(2026, 5, 1, 21),
        "distance_m": 10.0,
        "radius_m": 50,
        "accuracy_m": 5.0,
        "typed": False,
    }
    return ScanFacts(**{**base, **kw})


def test_a_clean_scan_has_no_flags() -> None:
    assert scan_flags(facts(planned=PLANNED)) == []


def test_too_far_counts_radius_plus_accuracy() -> None:
    assert scan_flags(facts(distance_m=54.0)) == []
    assert scan_flags(facts(distance_m=56.0)) == ["too_far"]
    assert scan_flags(facts(distance_m=None)) == ["no_position"]


def test_out_of_order_when_an_earlier_required_checkpoint_is_unscanned() -> None:
    order = (1, 2, 3)
    both = frozenset({1, 2, 3})
    assert scan_flags(facts(checkpoint_id=3, order=order, required=both)) == ["out_of_order"]
    done = frozenset({1, 2})
    assert scan_flags(facts(checkpoint_id=3, order=order, required=both, scanned_before=done)) == []
    # An optional checkpoint may be skipped.
    optional = frozenset({1, 3})
    assert (
        scan_flags(
            facts(checkpoint_id=3, order=order, required=optional, scanned_before=frozenset({1}))
        )
        == []
    )


def test_too_early_and_out_of_window() -> None:
    assert scan_flags(facts(at=utc(2026, 5, 1, 19, 59), planned=PLANNED)) == ["too_early"]
    assert scan_flags(facts(at=utc(2026, 5, 2, 0, 15), planned=PLANNED)) == []  # in grace
    assert scan_flags(facts(at=utc(2026, 5, 2, 0, 16), planned=PLANNED)) == ["out_of_window"]


def test_rapid_repeat_within_two_minutes() -> None:
    at = utc(2026, 5, 1, 21)
    assert scan_flags(facts(earlier_same=(at - timedelta(seconds=119),))) == ["rapid_repeat"]
    assert scan_flags(facts(earlier_same=(at - timedelta(minutes=2),))) == []


def test_typed_code() -> None:
    assert scan_flags(facts(typed=True)) == ["typed_code"]


REQ = (1, 2)
CUTOFF = utc(2026, 5, 2, 4)  # the morning digest at 06:00 local


def run(scans, *, ended=None, reason=None, synced=None) -> RunFacts:
    return RunFacts(utc(2026, 5, 1, 20, 5), ended, reason, tuple(scans), synced)


def test_status_completed_and_late() -> None:
    scans = [(1, utc(2026, 5, 1, 20, 10)), (2, utc(2026, 5, 1, 23))]
    now = utc(2026, 5, 2, 5)
    assert run_status(PLANNED, REQ, run(scans), [], now, CUTOFF).status == "completed"
    late = [(1, utc(2026, 5, 1, 20, 10)), (2, utc(2026, 5, 2, 0, 20))]
    assert run_status(PLANNED, REQ, run(late), [], now, CUTOFF).status == "late"


def test_status_incomplete_needs_a_reason_or_the_cutoff() -> None:
    scans = [(1, utc(2026, 5, 1, 20, 10))]
    ended = utc(2026, 5, 1, 21)
    before = utc(2026, 5, 2, 3)
    got = run_status(
        PLANNED, REQ, run(scans, ended=ended, reason="Locked gate"), [], before, CUTOFF
    )
    assert (got.status, got.missing) == ("incomplete", (2,))
    # Not ended, device silent since before the deadline: not synced until the cut-off.
    silent = run(scans, synced=utc(2026, 5, 1, 20, 30))
    assert run_status(PLANNED, REQ, silent, [], before, CUTOFF).status == "not_synced"
    assert run_status(PLANNED, REQ, silent, [], utc(2026, 5, 2, 5), CUTOFF).status == "incomplete"
    # The device synced after the deadline and sent nothing more: incomplete at once.
    heard = run(scans, synced=utc(2026, 5, 2, 1))
    assert run_status(PLANNED, REQ, heard, [], before, CUTOFF).status == "incomplete"


def test_missed_versus_not_synced() -> None:
    before, after = utc(2026, 5, 2, 3), utc(2026, 5, 2, 5)
    # No run, the round's walker synced after the window started: missed.
    assert run_status(PLANNED, REQ, None, [utc(2026, 5, 1, 22)], before, CUTOFF).status == "missed"
    # No run, a walker silent since before the window: not synced, until the cut-off.
    quiet = [utc(2026, 5, 1, 19)]
    assert run_status(PLANNED, REQ, None, quiet, before, CUTOFF).status == "not_synced"
    assert run_status(PLANNED, REQ, None, quiet, after, CUTOFF).status == "missed"
    # The morning digest at the cut-off itself still says not synced.
    assert run_status(PLANNED, REQ, None, quiet, CUTOFF, CUTOFF).status == "not_synced"
    # Before the deadline nothing is missed yet.
    assert run_status(PLANNED, REQ, None, quiet, utc(2026, 5, 1, 23), CUTOFF).status == "pending"

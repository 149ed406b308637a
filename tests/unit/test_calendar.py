"""Nights, weeks, months and send slots in Stockholm wall-clock time, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from analysis.calendar import (
    STOCKHOLM,
    comparison_periods,
    days_window,
    due_day,
    last_night,
    latest_due_day,
    latest_slot,
    month_start,
    night_window,
    parse_timezone,
    period_for,
    previous_due_day,
    slot_for,
)
from sync.clock import as_utc

# The night of Thursday 19 to Friday 20 November 2026 (CET, +01:00).
DAY = date(2026, 11, 20)
# The last Sundays of March and October 2026: the clocks go forward, then back.
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)
SIX = time(6, 0)


def local(day: date, hhmm: str) -> datetime:
    """Return a Stockholm wall-clock time on `day` ("23:10")."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def length(start: datetime, end: datetime) -> timedelta:
    """Return the real duration between two aware times (not the wall-clock difference)."""
    # Python subtracts two datetimes with the same tzinfo as wall-clock times: 12 hours
    # for every night. Real durations need UTC.
    return end.astimezone(UTC) - start.astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """Return a UTC moment."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- periods ---------------------------------------------------------------------------------


def test_periods_are_wall_clock_windows():
    start, end = period_for("night", DAY)
    assert (start, end) == (local(date(2026, 11, 19), "18:00"), local(DAY, "06:00"))
    week = period_for("week", date(2026, 11, 23))
    assert week == (local(date(2026, 11, 16), "06:00"), local(date(2026, 11, 23), "06:00"))
    month = period_for("month", date(2026, 11, 1))
    assert month == (local(date(2026, 10, 1), "06:00"), local(date(2026, 11, 1), "06:00"))
    assert period_for("month", date(2026, 11, 30)) == month
    assert period_for("month", date(2027, 1, 5))[0] == local(date(2026, 12, 1), "06:00")
    back = comparison_periods("night", DAY)
    assert [p[1] for p in back] == [local(DAY - timedelta(weeks=w), "06:00") for w in (1, 2, 3, 4)]
    months = comparison_periods("month", date(2026, 11, 1))
    assert [p[0].month for p in months] == [9, 8, 7, 6]
    with pytest.raises(ValueError):
        period_for("day", DAY)
    with pytest.raises(TypeError):
        period_for("night", datetime(2026, 11, 20, tzinfo=UTC))


def test_daylight_saving_nights_are_13_and_11_hours():
    autumn = period_for("night", date(2026, 10, 25))
    spring = period_for("night", date(2027, 3, 28))
    assert length(*autumn) == timedelta(hours=13)
    assert length(*spring) == timedelta(hours=11)
    # The same weekday's night a week before is an ordinary 12 hours.
    before = comparison_periods("night", date(2026, 10, 25))[0]
    assert length(*before) == timedelta(hours=12)


def test_the_night_window_on_the_last_sundays_of_march_and_october():
    spring = night_window(SPRING)
    assert spring == (local(date(2026, 3, 28), "18:00"), local(SPRING, "06:00"))
    assert spring[0].astimezone(UTC) == utc(2026, 3, 28, 17)  # CET, +01:00
    assert spring[1].astimezone(UTC) == utc(2026, 3, 29, 4)  # CEST, +02:00
    assert length(*spring) == timedelta(hours=11)
    autumn = night_window(AUTUMN)
    assert autumn[0].astimezone(UTC) == utc(2026, 10, 24, 16)  # CEST
    assert autumn[1].astimezone(UTC) == utc(2026, 10, 25, 5)  # CET
    assert length(*autumn) == timedelta(hours=13)
    # The night after each change is 12 hours again.
    assert length(*night_window(SPRING + timedelta(days=1))) == timedelta(hours=12)
    assert length(*night_window(AUTUMN + timedelta(days=1))) == timedelta(hours=12)


def test_a_night_window_with_other_hours():
    start, end = night_window(DAY, STOCKHOLM, time(20, 0), time(4, 0))
    assert (start, end) == (local(date(2026, 11, 19), "20:00"), local(DAY, "04:00"))


def test_last_night_is_the_night_ending_on_the_local_date():
    # 23:30 UTC on the 19th is 00:30 on the 20th in Stockholm: the night in progress.
    assert last_night(utc(2026, 11, 19, 23, 30)) == night_window(DAY)
    assert last_night(utc(2026, 11, 20, 4, 59)) == night_window(DAY)
    assert last_night(utc(2026, 11, 20, 22, 0)) == night_window(DAY)
    assert last_night(utc(2026, 11, 20, 23, 0)) == night_window(DAY + timedelta(days=1))


def test_week_periods_are_seven_nights_and_follow_the_clock():
    monday = date(2026, 11, 23)
    start, end = period_for("week", monday)
    assert (start.weekday(), end.weekday()) == (0, 0)
    assert length(start, end) == timedelta(days=7)
    # The week holding the spring change is an hour short, the autumn one an hour long.
    assert length(*period_for("week", date(2026, 3, 30))) == timedelta(days=7, hours=-1)
    assert length(*period_for("week", date(2026, 10, 26))) == timedelta(days=7, hours=1)
    back = comparison_periods("week", monday)
    weeks_back = [local(monday - timedelta(weeks=w), "06:00") for w in (1, 2, 3, 4)]
    assert [p[1] for p in back] == weeks_back


def test_month_periods_cross_the_year_and_daylight_saving():
    assert period_for("month", date(2027, 1, 1)) == (
        local(date(2026, 12, 1), "06:00"),
        local(date(2027, 1, 1), "06:00"),
    )
    march = period_for("month", date(2026, 4, 1))
    assert length(*march) == timedelta(days=31, hours=-1)
    october = period_for("month", date(2026, 11, 1))
    assert length(*october) == timedelta(days=31, hours=1)
    months = comparison_periods("month", date(2027, 2, 1))
    assert [p[0].date() for p in months] == [
        date(2026, 12, 1),
        date(2026, 11, 1),
        date(2026, 10, 1),
        date(2026, 9, 1),
    ]
    assert comparison_periods("night", DAY, count=2) == comparison_periods("night", DAY)[:2]


def test_month_start_counts_back_over_years():
    assert month_start(date(2027, 1, 15)) == date(2027, 1, 1)
    assert month_start(date(2027, 1, 15), 1) == date(2026, 12, 1)
    assert month_start(date(2027, 1, 15), 13) == date(2025, 12, 1)


def test_days_window_is_midnight_to_midnight_local():
    assert days_window(DAY, DAY) == (local(DAY, "00:00"), local(DAY + timedelta(days=1), "00:00"))
    assert length(*days_window(SPRING, SPRING)) == timedelta(hours=23)
    assert length(*days_window(AUTUMN, AUTUMN)) == timedelta(hours=25)
    assert length(*days_window(date(2026, 11, 1), date(2026, 11, 30))) == timedelta(days=30)


# --- time zones ------------------------------------------------------------------------------


def test_as_utc_converts_aware_times_and_refuses_naive_ones():
    assert as_utc(local(DAY, "06:00"), "at") == utc(2026, 11, 20, 5)
    assert as_utc(local(date(2026, 7, 1), "06:00"), "at") == utc(2026, 7, 1, 4)
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        as_utc(datetime(2026, 11, 20, 6, 0), "at")
    with pytest.raises(TypeError, match="at must be a datetime"):
        as_utc(DAY, "at")  # type: ignore[arg-type]


def test_parse_timezone_names_a_zone_or_explains():
    assert parse_timezone("Europe/Stockholm") == STOCKHOLM
    assert parse_timezone("UTC") == ZoneInfo("UTC")
    for bad in ("Mars/Olympus", "", "../etc/passwd", "/etc/localtime"):
        with pytest.raises(ValueError, match="unknown time zone"):
            parse_timezone(bad)


# --- send slots ------------------------------------------------------------------------------


def test_due_days_are_every_day_mondays_and_the_first():
    thursday = date(2026, 11, 26)
    assert due_day("night", thursday) == thursday
    assert due_day("week", thursday) == date(2026, 11, 23)
    assert due_day("week", date(2026, 11, 23)) == date(2026, 11, 23)
    assert due_day("month", thursday) == date(2026, 11, 1)
    with pytest.raises(ValueError, match="unknown digest kind"):
        due_day("day", thursday)
    assert previous_due_day("night", date(2027, 1, 1)) == date(2026, 12, 31)
    assert previous_due_day("week", date(2026, 11, 23)) == date(2026, 11, 16)
    assert previous_due_day("month", date(2027, 1, 1)) == date(2026, 12, 1)


def test_the_slot_follows_the_wall_clock_across_daylight_saving():
    # 06:00 is 05:00 UTC in winter and 04:00 UTC in summer.
    assert slot_for("night", SPRING, SIX, STOCKHOLM).scheduled_for == utc(2026, 3, 29, 4)
    assert slot_for("night", AUTUMN, SIX, STOCKHOLM).scheduled_for == utc(2026, 10, 25, 5)
    # 05:59 summer time on the spring Sunday: that morning's digest is not due yet.
    before = latest_slot("night", SIX, STOCKHOLM, utc(2026, 3, 29, 3, 59))
    assert (before.day, before.scheduled_for) == (date(2026, 3, 28), utc(2026, 3, 28, 5))
    due = latest_slot("night", SIX, STOCKHOLM, utc(2026, 3, 29, 4, 0))
    assert (due.kind, due.day, due.scheduled_for) == ("night", SPRING, utc(2026, 3, 29, 4))
    # 05:30 winter time on the autumn Sunday (04:30 UTC): still yesterday's slot, even
    # though 06:00 summer time would have passed.
    autumn = latest_slot("night", SIX, STOCKHOLM, utc(2026, 10, 25, 4, 30))
    assert (autumn.day, autumn.scheduled_for) == (date(2026, 10, 24), utc(2026, 10, 24, 4))
    assert latest_slot("night", SIX, STOCKHOLM, utc(2026, 10, 25, 5)).day == AUTUMN


def test_a_send_time_in_the_changed_hour_takes_the_offset_before_the_change():
    # 02:30 does not exist on the spring Sunday: it is read as 02:30 CET (01:30 UTC).
    spring = slot_for("night", SPRING, time(2, 30), STOCKHOLM)
    # (Compared in UTC: Python never calls a time in a gap or a fold equal to another zone's.)
    assert spring.scheduled_for.astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on the autumn Sunday: the first one (CEST, 00:30 UTC) is meant.
    autumn = slot_for("night", AUTUMN, time(2, 30), STOCKHOLM)
    assert autumn.scheduled_for.astimezone(UTC) == utc(2026, 10, 25, 0, 30)


def test_week_and_month_slots_go_back_a_whole_period_when_not_yet_due():
    # Monday 30 March 2026, 05:59 summer time: the week digest of the 23rd is the latest.
    week = latest_slot("week", SIX, STOCKHOLM, utc(2026, 3, 30, 3, 59))
    assert (week.day, week.scheduled_for) == (date(2026, 3, 23), utc(2026, 3, 23, 5))
    assert latest_slot("week", SIX, STOCKHOLM, utc(2026, 3, 30, 4)).day == date(2026, 3, 30)
    assert latest_slot("week", SIX, STOCKHOLM, utc(2026, 4, 2, 12)).day == date(2026, 3, 30)
    # New Year's morning, 05:59 local: the December digest is the latest month one.
    month = latest_slot("month", SIX, STOCKHOLM, utc(2027, 1, 1, 4, 59))
    assert (month.day, month.scheduled_for) == (date(2026, 12, 1), utc(2026, 12, 1, 5))
    assert latest_slot("month", SIX, STOCKHOLM, utc(2027, 1, 1, 5)).day == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("kind", "now_local", "expected"),
    [
        ("night", "2026-11-20T05:59", date(2026, 11, 19)),  # tonight has not ended yet
        ("night", "2026-11-20T06:00", date(2026, 11, 20)),
        ("week", "2026-11-23T05:59", date(2026, 11, 16)),  # Monday before 06:00
        ("week", "2026-11-23T06:00", date(2026, 11, 23)),
        ("month", "2026-12-01T05:59", date(2026, 11, 1)),
        ("month", "2026-12-01T06:00", date(2026, 12, 1)),
    ],
)
def test_latest_due_day_is_the_latest_period_that_has_ended(kind, now_local, expected):
    now = datetime.fromisoformat(now_local).replace(tzinfo=STOCKHOLM)
    assert latest_due_day(kind, now) == expected

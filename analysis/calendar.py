"""Nights, weeks, months and send slots in local wall-clock time.

Every moment here is built from a calendar day and a wall-clock time in a zone
(`wall_clock`), never by adding hours to another moment, so a period across a
daylight-saving change is as long as the clock on the wall says: the night of the last
Sunday of March is 11 hours in Europe/Stockholm, that of the last Sunday of October 13.

Periods (`period_for`), each named by the calendar day its digest is sent on:

- ``night``: 18:00 the day before to 06:00 on the day (`night_window`).
- ``week``: the seven days ending at 06:00 on the day: seven whole nights. Sent on a
  Monday it is the past Monday-to-Monday week.
- ``month``: the calendar month before the day's month, from 06:00 on its 1st to 06:00 on
  the 1st of the day's month, so every night belongs to the month of its evening.

Comparison periods (`comparison_periods`) are the same period 1..4 weeks back (a night:
the same weekday's night) or 1..4 months back (a month).

Send slots: a night digest is due every day, a week digest on Mondays and a month digest
on the 1st (`due_day`), at a local send time (`slot_for`, `latest_slot`).

The standard library only: no web framework, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NIGHT_START = time(18, 0)
NIGHT_END = time(6, 0)
PERIOD_KINDS = ("night", "week", "month")
# Periods compared with (the same weekday's night / week 1..4 weeks back, or 1..4 months).
COMPARE_PERIODS = 4

Window = tuple[datetime, datetime]
# Dates the app works with: periods, their comparisons and the filters stay far from
# date.min and date.max, where the calendar arithmetic would overflow.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_timezone(name: str) -> ZoneInfo:
    """Return the IANA time zone, or explain that it does not exist."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use e.g. Europe/Stockholm)") from exc


def supported(day: date) -> bool:
    """Tell whether a date lies in the years the app works with (2000–2100)."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


def wall_clock(day: date, at: time, tz: ZoneInfo = STOCKHOLM) -> datetime:
    """Return the moment the clock on the wall in `tz` shows `at` on `day`.

    A time in the spring gap (02:30 on the last Sunday of March) or the autumn overlap
    takes the offset in force before the change (zoneinfo's fold=0).
    """
    return datetime.combine(day, at, tzinfo=tz)


def days_window(first_day: date, last_day: date, tz: ZoneInfo = STOCKHOLM) -> Window:
    """Return the local calendar days first..last (inclusive), midnight to midnight."""
    return wall_clock(first_day, time(0), tz), wall_clock(last_day + timedelta(days=1), time(0), tz)


def month_start(day: date, back: int = 0) -> date:
    """Return the 1st of the month `back` months before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - back
    return date(index // 12, index % 12 + 1, 1)


def night_window(
    day: date, tz: ZoneInfo = STOCKHOLM, start: time = NIGHT_START, end: time = NIGHT_END
) -> Window:
    """Return the night ending on `day` (18:00 the day before to 06:00) as local datetimes.

    Built from wall-clock times in the zone, so a night across a daylight-saving change is
    11 or 13 hours long, as the clock on the wall says.
    """
    return wall_clock(day - timedelta(days=1), start, tz), wall_clock(day, end, tz)


def last_night(now: datetime, tz: ZoneInfo = STOCKHOLM) -> Window:
    """Return the night ending at 06:00 on the local date of `now` (in progress before 06)."""
    return night_window(now.astimezone(tz).date(), tz)


def _unknown_kind(kind: str) -> ValueError:
    return ValueError(f"unknown digest kind {kind!r}; use one of {', '.join(PERIOD_KINDS)}")


def _check(kind: str, day: date) -> None:
    """Reject unknown kinds and datetimes (a period is named by a calendar day)."""
    if kind not in PERIOD_KINDS:
        raise _unknown_kind(kind)
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"day must be a date, got {type(day).__name__}")


def period_for(kind: str, day: date, tz: ZoneInfo = STOCKHOLM) -> Window:
    """Return the period a digest of `kind` sent on `day` covers, as local datetimes.

    night: 18:00 the day before to 06:00 on `day`; week: 06:00 seven days before `day` to
    06:00 on `day`; month: 06:00 on the 1st of the month before `day`'s month to 06:00 on
    the 1st of `day`'s month. See the module docstring.
    """
    _check(kind, day)
    if kind == "night":
        return night_window(day, tz)
    if kind == "week":
        return wall_clock(day - timedelta(days=7), NIGHT_END, tz), wall_clock(day, NIGHT_END, tz)
    return (
        wall_clock(month_start(day, 1), NIGHT_END, tz),
        wall_clock(month_start(day, 0), NIGHT_END, tz),
    )


def comparison_periods(
    kind: str, day: date, count: int = COMPARE_PERIODS, tz: ZoneInfo = STOCKHOLM
) -> list[Window]:
    """Return the periods a digest compares with: 1..count weeks (months) back."""
    _check(kind, day)
    if kind == "month":
        return [period_for("month", month_start(day, back), tz) for back in range(1, count + 1)]
    return [period_for(kind, day - timedelta(weeks=back), tz) for back in range(1, count + 1)]


# --- send slots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One due digest: its kind, its local due date and the moment it is due."""

    kind: str
    day: date
    scheduled_for: datetime  # aware


def due_day(kind: str, day: date) -> date:
    """Return the due date of the `kind` digest on or before `day` (Monday, the 1st)."""
    if kind == "night":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    raise _unknown_kind(kind)


def previous_due_day(kind: str, day: date) -> date:
    """Return the due date before the due date `day`: a day, a week or a month earlier."""
    if kind == "night":
        return day - timedelta(days=1)
    if kind == "week":
        return day - timedelta(days=7)
    return month_start(day, 1)


def latest_due_day(kind: str, now: datetime, tz: ZoneInfo = STOCKHOLM) -> date:
    """Return the due date of the latest `kind` period that has ended by `now`."""
    day = due_day(kind, now.astimezone(tz).date())
    _start, end = period_for(kind, day, tz)
    return previous_due_day(kind, day) if end > now else day


def slot_for(kind: str, day: date, send_time: time, tz: ZoneInfo) -> Slot:
    """Return the slot of the `kind` digest due on `day` (which must be a due date)."""
    return Slot(kind, day, wall_clock(day, send_time, tz))


def latest_slot(kind: str, send_time: time, tz: ZoneInfo, now: datetime) -> Slot:
    """Return the latest slot of `kind` due at or before `now`."""
    slot = slot_for(kind, due_day(kind, now.astimezone(tz).date()), send_time, tz)
    if slot.scheduled_for > now:
        slot = slot_for(kind, previous_due_day(kind, slot.day), send_time, tz)
    return slot

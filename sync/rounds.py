"""Guard rounds: schedule windows, scan flags and the status of a planned run.

Plain Python with the standard library only: no web framework, no database. The server
(`server/rounds`) reads rows, calls these functions and stores or shows what they return.

Schedule rule. A round has weekdays, a local window ``HH:MM-HH:MM`` in Europe/Stockholm
that may cross midnight, optional ``every_minutes`` and a grace period. The window that
starts on a weekday belongs to that weekday (the night of Friday 22:00–02:00 is Friday's,
also after midnight). Wall-clock times are read with ``fold=1``: in the October overlap
the later 02:00 counts, and in the March gap a time such as 02:00 is read with the summer
offset. So a 22:00–02:00 window is 3 hours on the night into the last Sunday of March and
5 hours on the night into the last Sunday of October, as the wall clock suggests to a
guard (one hour lost, one hour gained). Runs of ``every_minutes`` start at the window's
start and every N real minutes after it while they start before the window's end; each
ends N minutes later or at the window's end.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sync.clock import as_utc

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ALL_WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # Monday is 0, as date.weekday()
DEFAULT_GRACE_MINUTES = 15
DEFAULT_RADIUS_M = 50
RAPID_REPEAT = timedelta(minutes=2)
# A run may start this much before its planned start and still be that planned run.
EARLY_START = timedelta(minutes=60)
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")

FLAGS = (
    "too_far",
    "no_position",
    "out_of_order",
    "too_early",
    "out_of_window",
    "rapid_repeat",
    "typed_code",
)
STATUSES = ("completed", "incomplete", "late", "missed", "not_synced", "pending")


@dataclass(frozen=True)
class Window:
    """A local wall-clock window; the end may be on the next day."""

    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        """Tell whether the window ends on the day after it starts."""
        return self.end <= self.start

    def text(self) -> str:
        """Return the window as HH:MM-HH:MM."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_window(text: str) -> Window:
    """Return the window of an ``HH:MM-HH:MM`` text, or raise ValueError."""
    match = _WINDOW.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a window; write HH:MM-HH:MM, e.g. 22:00-02:00.")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h1, m1) == (h2, m2):
        raise ValueError(f"{text!r} starts and ends at the same time.")
    return Window(time(h1, m1), time(h2, m2))


@dataclass(frozen=True)
class Schedule:
    """When a round is walked: weekdays, the local window, runs every N minutes, grace."""

    window: Window
    weekdays: tuple[int, ...] = ALL_WEEKDAYS
    every_minutes: int | None = None
    grace_minutes: int = DEFAULT_GRACE_MINUTES


@dataclass(frozen=True)
class PlannedRun:
    """One planned run: its night (the local day its window starts), index and UTC bounds."""

    night: date
    index: int
    start: datetime
    end: datetime
    grace: timedelta

    @property
    def deadline(self) -> datetime:
        """Return the end plus grace: after it, a scan is out of window and no run is missed."""
        return self.end + self.grace


def wall(day: date, at: time, tz: ZoneInfo = STOCKHOLM) -> datetime:
    """Return the UTC moment the wall clock first passes `at` on `day`.

    Twice-shown times (the October night) are read at their later showing, so a window
    ending at 02:00 keeps the repeated hour. A time the clock skips (the March night: 02:00
    becomes 03:00) is passed at the jump itself, so a window ending at 02:00 lasts until
    01:59:59 winter time, and one starting at 02:30 starts at 03:00 summer time.
    """
    local = datetime.combine(day, at, tzinfo=tz)
    early, late = local.replace(fold=0).astimezone(UTC), local.replace(fold=1).astimezone(UTC)
    if early.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return late  # the time exists: its later showing (the same one unless repeated)
    return _jump(late, early, tz)


def _jump(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """Return the first UTC second in (before, after] whose offset differs from before's."""
    offset = before.astimezone(tz).utcoffset()
    low, high = before, after  # low has the old offset, high the new one
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == offset:
            low = mid
        else:
            high = mid
    return high.replace(microsecond=0)


def window_bounds(
    schedule: Schedule, night: date, tz: ZoneInfo = STOCKHOLM
) -> tuple[datetime, datetime] | None:
    """Return the UTC bounds of the window starting on `night`, or None on another weekday."""
    if night.weekday() not in schedule.weekdays:
        return None
    window = schedule.window
    end_day = night + timedelta(days=1) if window.crosses_midnight else night
    start, end = wall(night, window.start, tz), wall(end_day, window.end, tz)
    if end <= start:
        # Only a window wholly inside the March gap (02:10-02:40) starts and ends at the
        # jump; it is then read in winter time, so it keeps its length.
        end = datetime.combine(end_day, window.end, tzinfo=tz).astimezone(UTC)
    return start, end


def planned_runs(schedule: Schedule, night: date, tz: ZoneInfo = STOCKHOLM) -> list[PlannedRun]:
    """Return the planned runs of the window starting on the local day `night`."""
    bounds = window_bounds(schedule, night, tz)
    if bounds is None:
        return []
    start, end = bounds
    grace = timedelta(minutes=schedule.grace_minutes)
    if not schedule.every_minutes:
        return [PlannedRun(night, 0, start, end, grace)]
    step = timedelta(minutes=schedule.every_minutes)
    runs: list[PlannedRun] = []
    at = start
    while at < end:
        runs.append(PlannedRun(night, len(runs), at, min(at + step, end), grace))
        at += step
    return runs


def runs_between(
    schedule: Schedule, first: date, last: date, tz: ZoneInfo = STOCKHOLM
) -> list[PlannedRun]:
    """Return the planned runs of the nights first..last (inclusive)."""
    out: list[PlannedRun] = []
    day = first
    while day <= last:
        out.extend(planned_runs(schedule, day, tz))
        day += timedelta(days=1)
    return out


def match_run(planned: Sequence[PlannedRun], started_at: datetime) -> PlannedRun | None:
    """Return the planned run a run started at `started_at` belongs to, if any.

    A run belongs to a planned run it starts within (EARLY_START before its start to its
    deadline); of several, the one whose start is nearest.
    """
    moment = as_utc(started_at, "started_at")
    fits = [p for p in planned if p.start - EARLY_START <= moment < p.deadline]
    if not fits:
        return None
    return min(fits, key=lambda p: (abs(p.start - moment), p.start))


# --- flags ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanFacts:
    """What the flags of one scan depend on, gathered by the server."""

    checkpoint_id: int
    at: datetime  # the corrected device time
    distance_m: float | None  # None: the scan had no position
    radius_m: float
    accuracy_m: float
    typed: bool  # the short code was typed instead of scanning the token
    planned: PlannedRun | None = None  # the planned run of the scan's round run
    # Ordered rounds: the checkpoint ids in order, the required ones, and those the run
    # had scanned before this scan.
    order: tuple[int, ...] = ()
    required: frozenset[int] = frozenset()
    scanned_before: frozenset[int] = frozenset()
    # Times of earlier scans of the same checkpoint in the same run or by the same device.
    earlier_same: tuple[datetime, ...] = ()


def scan_flags(facts: ScanFacts) -> list[str]:
    """Return the scan's flags in FLAGS order (flags never reject a scan)."""
    flags: set[str] = set()
    if facts.distance_m is None:
        flags.add("no_position")
    elif facts.distance_m > facts.radius_m + max(0.0, facts.accuracy_m):
        flags.add("too_far")
    if facts.order and _skips_required(facts):
        flags.add("out_of_order")
    if facts.planned is not None:
        if facts.at < facts.planned.start:
            flags.add("too_early")
        elif facts.at > facts.planned.deadline:
            flags.add("out_of_window")
    if any(abs(facts.at - t) < RAPID_REPEAT for t in facts.earlier_same):
        flags.add("rapid_repeat")
    if facts.typed:
        flags.add("typed_code")
    return [f for f in FLAGS if f in flags]


def _skips_required(facts: ScanFacts) -> bool:
    """Tell whether a required checkpoint before this one in the order is still unscanned."""
    if facts.checkpoint_id not in facts.order:
        return False
    position = facts.order.index(facts.checkpoint_id)
    return any(
        cp in facts.required and cp not in facts.scanned_before for cp in facts.order[:position]
    )


# --- status --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFacts:
    """A round run the server holds, with its scans (checkpoint id, corrected time)."""

    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    scans: tuple[tuple[int, datetime], ...]
    device_synced_at: datetime | None  # the run's device's last contact with the server


@dataclass(frozen=True)
class RunStatus:
    """The status of one planned run and the required checkpoints it lacks."""

    status: str
    missing: tuple[int, ...] = ()


def run_status(
    planned: PlannedRun,
    required: Sequence[int],
    run: RunFacts | None,
    walkers_synced: Iterable[datetime | None],
    now: datetime,
    cutoff: datetime,
) -> RunStatus:
    """Return the status of a planned run.

    - ``pending``: its deadline (end + grace) has not passed and it is not complete yet.
    - ``completed``: every required checkpoint scanned, the last of them by the deadline.
    - ``late``: every required checkpoint scanned, but the first scan of at least one of
      them came after the deadline (a required checkpoint scanned in time and again later
      is not late).
    - ``incomplete``: a run exists, required checkpoints are missing, and it ended with a
      reason, or the cut-off has passed.
    - ``not_synced``: until the cut-off (the morning digest, which still says so), past the
      deadline and not complete, while a device
      has not synced since the run began: the run's own device (last contact before the
      deadline, so its later scans may still come) or, with no run at all, one of the
      round's walkers (devices that ran it before) with no contact since the window's
      start. After the cut-off (strictly) it is ``incomplete`` or ``missed``.
    - ``missed``: no run by the deadline (and none of the above holds).
    """
    now = as_utc(now, "now")
    if run is None:
        if now < planned.deadline:
            return RunStatus("pending", tuple(required))
        if now <= cutoff and any(s is None or s < planned.start for s in walkers_synced):
            return RunStatus("not_synced", tuple(required))
        return RunStatus("missed", tuple(required))
    first_scan: dict[int, datetime] = {}
    for checkpoint, at in sorted(run.scans, key=lambda s: s[1]):
        first_scan.setdefault(checkpoint, at)
    missing = tuple(cp for cp in required if cp not in first_scan)
    if not missing:
        late = any(first_scan[cp] > planned.deadline for cp in required)
        return RunStatus("late" if late else "completed")
    if run.ended_at is not None and run.end_reason:
        return RunStatus("incomplete", missing)
    if now < planned.deadline:
        return RunStatus("pending", missing)
    synced = run.device_synced_at
    if now <= cutoff and (synced is None or synced < planned.deadline):
        return RunStatus("not_synced", missing)
    return RunStatus("incomplete", missing)


def missing_required(required: Collection[int], scanned: Collection[int]) -> list[int]:
    """Return the required checkpoints not in `scanned`, in the given order."""
    seen = set(scanned)
    return [cp for cp in required if cp not in seen]

"""Counts of the period against the same period 1..4 weeks (months) back.

One grouped count query per period (`counts_in_window`), so the cost follows the periods,
not the store. Every level of sharing adds to these numbers (a `counts` agreement is
exactly that); what no agreement covers is never counted. The periods themselves are
`analysis.calendar.period_for` and `comparison_periods`: a night is compared with the same
weekday's night, a week with the four weeks before, a month with the four months before.

Only comparison periods since the first report count (`analysis.trends.usable_history`,
the rule the trends page follows too): a new deployment's first weeks are compared with
the periods it has, and with none the direction is "new" (too little history). Calm
rounds are presence, not reports of something: they are left out here as from the counts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from analysis.calendar import comparison_periods, period_for
from analysis.trends import direction_of, mean_of, usable_history
from server.categories import NOT_INCIDENTS
from server.digest.content.items import area_order
from server.digest.content.model import CategoryInfo, Period, TrendRow, Trends
from server.incidents.history import first_report_day
from server.incidents.queries import counts_in_window
from server.sharing.rules import Scope


def trends_of(
    scope: Scope | int,
    kind: str,
    day: date,
    tz: ZoneInfo,
    areas: dict[int, str],
    categories: dict[str, CategoryInfo],
) -> Trends:
    """Count the period and each comparison period per category and per area, in scope.

    Comparison periods that began before the first report are left out, not counted as 0.
    """
    compared = comparison_periods(kind, day, tz=tz)
    usable = usable_history(
        [s.astimezone(tz).date() for s, _e in compared], first_report_day(scope, tz)
    )
    windows = [period_for(kind, day, tz), *compared[:usable]]
    counts = [counts_in_window(scope, s, e) for s, e in windows]
    per_category: dict[str, list[int]] = defaultdict(lambda: [0] * len(windows))
    per_area: dict[int, list[int]] = defaultdict(lambda: [0] * len(windows))
    totals_by_window = [0] * len(windows)
    for index, window_counts in enumerate(counts):
        for (category, area), n in window_counts.items():
            if (
                category in NOT_INCIDENTS
            ):  # calm rounds counted apart (tally.py), walks' notes not at all
                continue
            per_category[category][index] += n
            per_area[area][index] += n
            totals_by_window[index] += n
    totals = tuple(totals_by_window)

    def row(key: str, name: str | None, slots: list[int]) -> TrendRow:
        previous = tuple(slots[1:])
        return TrendRow(
            key=key,
            name=name,
            count=slots[0],
            previous=previous,
            mean=mean_of(previous),
            direction=direction_of(slots[0], previous),
        )

    order = {code: (c.sort_order, code) for code, c in categories.items()}
    return Trends(
        periods=tuple(Period(s, e) for s, e in windows),
        totals=totals,
        total_direction=direction_of(totals[0], totals[1:]),
        by_category=tuple(
            row(code, None, per_category[code])
            for code in sorted(per_category, key=lambda c: order.get(c, (10_000, c)))
        ),
        by_area=tuple(
            row(str(a), areas.get(a), per_area[a])
            for a in sorted(per_area, key=lambda a: area_order(a, areas))
        ),
    )

"""Workspace page: reports over time, in total, per category and per area.

``/workspace/trends`` counts reports per day or week against the four-week same-weekday
baseline (``analysis.trends``), as server-side SVG charts (``svgchart``) each with a data
table. One bounded query: the shown weeks plus the four weeks their baseline needs.

Weeks before the first report of the data shown (`server.incidents.history`) are not
counted as zeros: the baseline averages the weeks since (`analysis.trends.usable_history`),
and with none there is no arrow, only "för lite historik".

Sharing: the counts include what other organisations share with the person's organisation
at any level (`counts`, `reports`, `full`: numbers are exactly what `counts` grants), only
in the categories and areas each agreement covers; their areas are named with their
organisation, and the page names every organisation whose numbers it includes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import render_template, request
from flask_login import login_required

from analysis import trends as tr
from analysis.calendar import STOCKHOLM
from server.incidents import history, queries
from server.workspace import bp, svgchart
from server.workspace import labels as lb
from server.workspace.hooks import audit
from server.workspace.i18n import t
from server.workspace.insight_format import (
    decimal,
    direction_label,
    direction_word,
    shared_sources,
)
from server.workspace.scoping import current_scope, scope_area_names
from sync.clock import utcnow

TREND_DEFAULT_WEEKS = 8
TREND_MAX_WEEKS = 26
BASELINE_WEEKS = 4


@dataclass
class TrendArgs:
    """The trend page's settings, read forgivingly from the query string."""

    end: date
    weeks: int
    step: str
    messages: list[str]


def _trend_args(today: date) -> TrendArgs:
    """Read ?to=YYYY-MM-DD&weeks=N&step=day|week; anything else falls back with a message.

    The default end is yesterday, the last whole day: today's counts are still growing.
    """
    messages: list[str] = []
    end = today - timedelta(days=1)
    raw_to = request.args.get("to", "").strip()
    if raw_to:
        try:
            asked = date.fromisoformat(raw_to[:10])
        except ValueError:
            messages.append("trends.bad_date")
        else:
            if not 2000 <= asked.year <= 2100:
                messages.append("trends.bad_date")
            elif asked > today:
                messages.append("trends.future_date")
            else:
                end = asked
    weeks = TREND_DEFAULT_WEEKS
    raw_weeks = request.args.get("weeks", "").strip()
    if raw_weeks:
        try:
            weeks = int(raw_weeks)
        except ValueError:
            messages.append("trends.bad_weeks")
            weeks = TREND_DEFAULT_WEEKS
        else:
            if not 1 <= weeks <= TREND_MAX_WEEKS:
                messages.append("trends.bad_weeks")
                weeks = min(max(weeks, 1), TREND_MAX_WEEKS)
    step = request.args.get("step", "day")
    if step not in ("day", "week"):
        messages.append("trends.bad_step")
        step = "day"
    return TrendArgs(end=end, weeks=weeks, step=step, messages=messages)


@dataclass
class TrendRow:
    """One period of a chart's table."""

    label: str
    count: int
    mean: float
    direction: str


def _periods(args: TrendArgs) -> list[date]:
    """Return the first day of every period shown (days, or rolling weeks ending at `end`)."""
    first = args.end - timedelta(days=7 * args.weeks - 1)
    if args.step == "day":
        return [first + timedelta(days=n) for n in range(7 * args.weeks)]
    return [first + timedelta(weeks=n) for n in range(args.weeks)]


def _period_label(start: date, step: str, short: bool) -> str:
    """Label a period: "12/11" (a day) or "6/11–12/11" (a rolling week)."""
    if step == "day":
        if short:
            return f"{start.day}/{start.month}"
        return f"{t(f'insights.weekday.{start.weekday()}')} {start.isoformat()}"
    end = start + timedelta(days=6)
    if short:
        return f"{start.day}/{start.month}–{end.day}/{end.month}"
    return f"{start.isoformat()} – {end.isoformat()}"


def _trend_rows(
    counts: Mapping[date, int], periods: list[date], step: str, first_day: date
) -> list[TrendRow]:
    """Count and compare each period with the four before it (same weekday for days)."""
    compare = tr.baseline if step == "day" else tr.weekly
    rows = []
    for start in periods:
        b = compare(counts, start, weeks=BASELINE_WEEKS, first_day=first_day)
        rows.append(
            TrendRow(
                label=_period_label(start, step, short=False),
                count=b.count,
                mean=b.mean,
                direction=b.direction,
            )
        )
    return rows


def _trend_text(row: TrendRow, step: str) -> str:
    """Say the last period's direction in words (the chart shows it after the arrow)."""
    if row.direction == "new":
        return t(f"trends.trend_new.{step}", count=row.count)
    return t(
        f"trends.trend.{step}",
        word=direction_word(row.direction),
        count=row.count,
        mean=decimal(row.mean),
    )


def _chart(
    chart_id: str,
    title: str,
    counts: Mapping[date, int],
    periods: list[date],
    step: str,
    first_day: date,
    width: int = 560,
) -> dict[str, Any]:
    """Build one chart (SVG and table rows) for a series of daily counts."""
    rows = _trend_rows(counts, periods, step, first_day)
    # No baseline before there is history: a gap in the line, no dash over the bar.
    means: list[float | None] = [None if r.direction == "new" else r.mean for r in rows]
    labels = [_period_label(p, step, short=True) for p in periods]
    last = rows[-1]
    trend = svgchart.Trend(last.direction, _trend_text(last, step))  # type: ignore[arg-type]
    total = sum(r.count for r in rows)
    desc = t(
        f"trends.desc.{step}",
        title=title,
        total=total,
        first=rows[0].label,
        last=rows[-1].label,
        trend=trend.label(),
    )
    count_label = t(f"trends.series.count.{step}")
    baseline_label = t(f"trends.series.baseline.{step}")
    if step == "day":
        svg = svgchart.line_chart(
            title,
            labels,
            [
                svgchart.Series(count_label, [r.count for r in rows]),
                svgchart.Series(baseline_label, means, baseline=True),
            ],
            desc=desc,
            trend=trend,
            chart_id=chart_id,
            width=width,
        )
    else:
        svg = svgchart.bar_chart(
            title,
            labels,
            [r.count for r in rows],
            baseline=means,
            value_label=count_label,
            baseline_label=baseline_label,
            desc=desc,
            trend=trend,
            chart_id=chart_id,
            width=width,
        )
    return {
        "id": chart_id,
        "title": title,
        "svg": svg,
        "total": total,
        "trend": trend.label(),
        "rows": [
            {
                "label": r.label,
                "count": r.count,
                "mean": _mean_text(r.direction, r.mean),
                "direction": direction_label(r.direction),
            }
            for r in rows
        ],
    }


def _split(counts: Mapping[tuple[Any, date], int]) -> dict[Any, dict[date, int]]:
    """Turn {(key, day): n} into {key: {day: n}}."""
    out: dict[Any, dict[date, int]] = {}
    for (key, day), n in counts.items():
        out.setdefault(key, {})[day] = n
    return out


@bp.get("/trends")
@login_required
def trends() -> str:
    """Counts over time, in total, per category and per area, against their baselines."""
    scope = current_scope()
    today = utcnow().astimezone(STOCKHOLM).date()
    args = _trend_args(today)
    periods = _periods(args)
    # One bounded query: the shown weeks plus the four weeks their baseline needs.
    first_needed = periods[0] - timedelta(weeks=BASELINE_WEEKS)
    counts = queries.daily_counts(scope, first_needed, args.end)
    # Without any report yet nothing before today is history.
    first_day = history.first_report_day(scope) or today
    total_chart = _chart(
        "trend-total", t("trends.total"), counts.total, periods, args.step, first_day, width=960
    )
    order = {c.code: n for n, c in enumerate(lb.categories())}
    by_category = _split(counts.by_category)
    category_charts = [
        _chart(
            f"trend-cat-{n}",
            lb.category_label(code),
            by_category[code],
            periods,
            args.step,
            first_day,
        )
        for n, code in enumerate(sorted(by_category, key=lambda c: (order.get(c, 999), c)))
    ]
    names = scope_area_names(scope, "counts")
    by_area = _split(counts.by_area)
    area_keys = sorted(by_area, key=lambda a: (a is None, names.get(a, "") if a else "", a or 0))
    area_charts = [
        _chart(
            f"trend-area-{n}",
            names.get(key, t("trends.area_unknown")) if key else t("trends.no_area"),
            by_area[key],
            periods,
            args.step,
            first_day,
        )
        for n, key in enumerate(area_keys)
    ]
    # The last day's comparison: each category and area against the same weekday of the
    # four weeks before, from the counts already read.
    day_categories = tr.baseline_by_key(
        counts.by_category, args.end, weeks=BASELINE_WEEKS, first_day=first_day
    )
    day_areas = tr.baseline_by_key(
        counts.by_area, args.end, weeks=BASELINE_WEEKS, first_day=first_day
    )
    html = render_template(
        "workspace/trends.html",
        args=args,
        trend_messages=[t(k) for k in args.messages],
        first_day=periods[0].isoformat(),
        end_label=f"{t(f'insights.weekday.{args.end.weekday()}')} {args.end.isoformat()}",
        total_chart=total_chart,
        category_charts=category_charts,
        area_charts=area_charts,
        day_categories=[
            _day_row(lb.category_label(code), b)
            for code, b in sorted(day_categories.items(), key=lambda i: order.get(i[0], 999))
        ],
        day_areas=[
            _day_row(names.get(key, t("trends.area_unknown")) if key else t("trends.no_area"), b)
            for key, b in day_areas.items()
        ],
        week_options=(4, 8, 12, 26),
        max_weeks=TREND_MAX_WEEKS,
        today=today.isoformat(),
        shared_sources=shared_sources(scope, "counts"),
    )
    audit("trends.view", request.query_string.decode("latin-1")[:200])
    return html


def _day_row(label: str, b: tr.Baseline) -> dict[str, Any]:
    """Describe one category's or area's last day against its baseline."""
    return {
        "label": label,
        "count": b.count,
        "mean": _mean_text(b.direction, b.mean),
        "previous": ", ".join(str(n) for n in b.previous) or "–",
        "direction": direction_label(b.direction),
    }


def _mean_text(direction: str, mean: float) -> str:
    """Show a baseline's mean, or a dash when there is no history to average."""
    return "–" if direction == "new" else decimal(mean)

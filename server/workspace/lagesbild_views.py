"""The weekly and monthly lägesbild (and a night's) as a workspace page.

It opens with the summary a meeting starts from — the counts (calm rounds apart), the
changes against the comparison periods, the top recurring places — and puts the long
lists after it, collapsed (``<details>``). The printable document (the digest itself) is
`digest_views.lagesbild_document`; both are built from the same `build_digest`, with the
person's scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, url_for
from flask_login import current_user, login_required

from analysis.calendar import latest_due_day, previous_due_day
from server.db import phase
from server.digest.content.model import Digest, TrendRow
from server.digest.links import Links
from server.digest.text import Text
from server.workspace import bp
from server.workspace.digest_views import org_zone, period_asked
from server.workspace.hooks import audit
from server.workspace.i18n import current_lang
from server.workspace.scoping import current_scope
from sync.clock import utcnow

# The summary names the top recurring places and the action items; the rest are collapsed.
TOP_PLACES = 5
TOP_ACTION = 5


def _changes(rows: tuple[TrendRow, ...]) -> list[TrendRow]:
    """Return the rows that went up or down, the largest change first."""
    moved = [r for r in rows if r.direction in ("up", "down")]
    return sorted(moved, key=lambda r: (-abs(r.count - r.mean), r.key))


def _next_due(kind: str, day: date) -> date:
    """Return the due date after `day` (a day, a Monday or a 1st later)."""
    if kind == "night":
        return date.fromordinal(day.toordinal() + 1)
    if kind == "week":
        return date.fromordinal(day.toordinal() + 7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def page_context(d: Digest, lang: str) -> dict[str, Any]:
    """Describe a built digest for the workspace page."""
    dt = Text(lang, d)
    latest = d.day >= _latest(d.kind)
    return {
        "d": d,
        "dt": dt,
        "title": dt(f"title.{d.kind}", period=dt.period(d)),
        "window": dt("period.window", start=dt.day_time(d.start), end=dt.day_time(d.end)),
        "counts_line": dt(
            "summary.counts_calm" if d.calm.calm_reports else "summary.counts",
            incidents=dt.n("count.incidents", d.incidents),
            reports=dt.n("count.reports", d.reports),
            calm=dt.n("count.calm_rounds", d.calm.calm_reports),
        ),
        "category_changes": _changes(d.trends.by_category),
        "area_changes": _changes(d.trends.by_area),
        "history": len(d.trends.periods) > 1,
        "top_places": d.places[:TOP_PLACES],
        "top_action": d.action[:TOP_ACTION],
        "more_action": d.action[TOP_ACTION:],
        "period_list": Links("", d).period_list(),
        "document_url": url_for(
            "workspace.lagesbild_document", kind=d.kind, date=d.day.isoformat()
        ),
        "previous_url": url_for(
            "workspace.lagesbild", kind=d.kind, date=previous_due_day(d.kind, d.day).isoformat()
        ),
        "next_url": None
        if latest
        else url_for("workspace.lagesbild", kind=d.kind, date=_next_due(d.kind, d.day).isoformat()),
        "shared_owners": "; ".join(
            f"{dt.owner(o.id)}: {dt(f'digest.shared.detail.{o.detail}')}" for o in d.owners
        ),
    }


def _latest(kind: str) -> date:
    """Return the due date of the latest ended period of `kind`."""
    return latest_due_day(kind, utcnow(), org_zone())


@bp.get("/lagesbild", endpoint="lagesbild")
@login_required
def lagesbild() -> str:
    """The lägesbild of a week or a month (or a night): summary first, long lists collapsed.

    ?kind=week|month|night&date=YYYY-MM-DD as for the printable document.
    """
    from server.digest import content

    kind, day = period_asked()
    with phase("read"):
        built = content.build_digest(
            current_user.org.id, kind, day, now=utcnow(), scope=current_scope()
        )
    html = render_template("workspace/lagesbild.html", **page_context(built, current_lang()))
    audit("lagesbild.view", f"{kind} {day.isoformat()}")
    return html

"""Where an organisation's history begins: the local day of its first report.

The trends page and the digest compare a period with the weeks (months) before it; weeks
before the first report are no history at all, not quiet weeks (`analysis.trends.
usable_history`). Each owner's first report is its own (one indexed MIN per organisation,
on ``ix_reports_org_created``); counts mixing several owners' data begin at the earliest of
the owners whose data they include.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from analysis.calendar import STOCKHOLM
from server.extensions import db
from server.incidents.queries import as_scope
from server.reports.models import Report
from server.sharing.rules import Scope


def first_report_day(
    scope: Scope | int, tz: ZoneInfo = STOCKHOLM, wanted: str = "counts"
) -> date | None:
    """Return the local day of the earliest first report of the owners in scope, or None."""
    firsts = [
        db.session.scalar(select(func.min(Report.created_at)).where(Report.org_id == owner))
        for owner in sorted(as_scope(scope).owners(wanted))
    ]
    known = [f for f in firsts if f is not None]
    return min(known).astimezone(tz).date() if known else None

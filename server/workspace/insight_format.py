"""What the insight pages (map, trends, places) show alike: numbers, directions, places.

Sharing: each page reads with the person's scope (`current_scope`); what other
organisations contributed is named on the page (`shared_sources`) and on each recurring
place (`recurring_views`), so shared numbers are never passed off as the viewer's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from analysis.places import RecurringPlace
from server.geography import service as geography
from server.incidents.queries import visible_reports
from server.sharing.rules import Scope
from server.workspace import labels as lb
from server.workspace import svgchart
from server.workspace.hooks import localtime
from server.workspace.i18n import current_lang, t
from server.workspace.scoping import owner_label


def decimal(value: float, digits: int = 1) -> str:
    """Format a number for the request's language (decimal comma in Swedish)."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if current_lang() == "sv" else text


def direction_word(direction: str) -> str:
    """Return the word for a direction ("upp", "ner", "oförändrat")."""
    return t(f"insights.direction.{'same' if direction == 'flat' else direction}")


def direction_label(direction: str) -> str:
    """Return the arrow and the word, e.g. "↑ upp": never a colour alone.

    Too little history ("new") has no arrow, only the words.
    """
    return f"{svgchart.arrow(direction)} {direction_word(direction)}".strip()


def categories_text(categories: Sequence[tuple[str, int]]) -> str:
    """Show a recurring place's categories: "Skadegörelse 3, Brand 1"."""
    return ", ".join(f"{lb.category_label(code)} {count}" for code, count in categories)


def recurring_view(rank: int, p: RecurringPlace) -> dict[str, Any]:
    """Describe a recurring place for the map, the lists and the naming form."""
    return {
        "rank": rank,
        "lat": round(p.center_lat, 6),
        "lon": round(p.center_lon, 6),
        "count": p.count,
        "categories": categories_text(p.categories),
        "trend": p.trend,
        "trend_label": direction_label(p.trend),
        "recent": p.recent,
        "previous": p.previous,
        "first_seen": localtime(p.first_seen),
        "last_seen": localtime(p.last_seen),
        "label": t("places.recurring.label", rank=rank, count=p.count),
    }


def shared_sources(scope: Scope, wanted: str) -> str:
    """Name the other organisations whose items a page includes at `wanted`, or ""."""
    labels = sorted(owner_label(o) for o in scope.owners(wanted) - {scope.viewer})
    return t("insight.shared_sources", owners=", ".join(labels)) if labels else ""


def scoped_recurring(scope: Scope, now: datetime) -> list[RecurringPlace]:
    """Find the recurring places of the reports the scope may see one by one.

    A recurring place is made of report positions and times, which are item-level data:
    shared reports count only under an agreement at `reports` or `full` (and only in its
    categories and areas). A `counts` share gives numbers, never positions, so it adds
    nothing here; an analyst's scope is the own organisation only.
    """
    return geography.recurring_places_where(visible_reports(scope, "reports"), now=now)


def recurring_views(scope: Scope, places: Sequence[RecurringPlace]) -> list[dict[str, Any]]:
    """Describe recurring places in rank order, each naming the organisations sharing in it."""
    owners: dict[str, int] = {}
    if scope.shares:
        owners = geography.report_orgs(rid for p in places for rid in p.report_ids)
    views = []
    for rank, place in enumerate(places, start=1):
        view = recurring_view(rank, place)
        others = {
            owners[r] for r in place.report_ids if owners.get(r, scope.viewer) != scope.viewer
        }
        view["shared"] = (
            t("insight.recurring_shared", owners=", ".join(sorted(owner_label(o) for o in others)))
            if others
            else ""
        )
        views.append(view)
    return views

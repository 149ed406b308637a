"""What the insight pages (map, trends, places) show alike: numbers, directions, places."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.places import RecurringPlace
from server.workspace import labels as lb
from server.workspace import svgchart
from server.workspace.hooks import localtime
from server.workspace.i18n import current_lang, t


def decimal(value: float, digits: int = 1) -> str:
    """Format a number for the request's language (decimal comma in Swedish)."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if current_lang() == "sv" else text


def direction_word(direction: str) -> str:
    """Return the word for a direction ("upp", "ner", "oförändrat")."""
    return t(f"insights.direction.{'same' if direction == 'flat' else direction}")


def direction_label(direction: str) -> str:
    """Return the arrow and the word, e.g. "↑ upp": never a colour alone."""
    return f"{svgchart.arrow(direction)} {direction_word(direction)}"


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

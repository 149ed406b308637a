"""The period's incidents: as the digest shows them, what needs action, and by area."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from server.categories import NOT_INCIDENTS
from server.digest.content.model import AreaGroup, CategoryInfo, IncidentItem
from server.digest.content.rows import ReportRow
from server.digest.content.tally import needs_action
from server.incidents.models import Incident
from server.incidents.queries import NO_AREA

# "Kräver åtgärd": at most this many listed (urgent ones are few; the rest are counted).
ACTION_LIMIT = 50
# Incidents listed by area; a week or a month lists the most pressing ones and counts the rest.
LIST_LIMIT = {"night": 500, "week": 200, "month": 200}
PHOTOS_PER_ITEM = 3
SHORT_TEXT = 160


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """Return the text on one line, cut at a word boundary with an ellipsis if too long."""
    flat = " ".join((text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"


def incident_item(
    incident: Incident,
    rows: Sequence[ReportRow],
    kinds: dict[int, str],
    areas: dict[int, str],
    places: dict[int, str],
    present: set[tuple[int, str]],
    *,
    viewer: int | None = None,
    detail: str = "full",
) -> IncidentItem:
    """Describe an incident with its reports of the period (`rows`, oldest first).

    `viewer` is the digest's organisation (default: the incident's own); another
    organisation's incident is marked as its owner's, and below `full` it carries no free
    text (summary, place text) and no photos.
    """
    free_text = detail == "full"
    photos: list[str] = []
    for r in rows if free_text else ():
        for sha in r.photos:
            if (r.org_id, sha) in present and sha not in photos:
                photos.append(sha)
    area_id = incident.area_id or NO_AREA
    return IncidentItem(
        id=str(incident.id),
        category=incident.category_code,
        status=incident.status,
        responsible=incident.responsible,
        urgent=bool(incident.urgent),
        max_severity=incident.max_severity,
        at=rows[0].created_at if rows else incident.first_at,
        first_at=incident.first_at,
        last_at=incident.last_at,
        reports_in_period=len(rows),
        report_count=incident.report_count,
        area_id=area_id,
        area=areas.get(area_id),
        place=(incident.place or "") if free_text else "",
        named_place=places.get(incident.place_id) if incident.place_id else None,
        text=short_text(incident.summary or "") if free_text else "",
        kinds=tuple(sorted({kinds[r.device_id] for r in rows if r.device_id in kinds})),
        photos=tuple(photos[:PHOTOS_PER_ITEM]),
        more_photos=max(0, len(photos) - PHOTOS_PER_ITEM),
        owner=None if viewer is None or incident.org_id == viewer else incident.org_id,
        detail=detail,
    )


def needing_action(
    items: Iterable[IncidentItem], categories: dict[str, CategoryInfo]
) -> list[IncidentItem]:
    """Return the open urgent incidents ("kräver åtgärd"), urgent categories first."""
    urgent_codes = {code for code, c in categories.items() if c.urgent}
    return sorted(
        (i for i in items if needs_action(i)),
        key=lambda i: (
            i.category not in urgent_codes,
            -(i.max_severity or 0),
            i.at,
            i.id,
        ),
    )


def _priority(item: IncidentItem) -> tuple[Any, ...]:
    """Order for choosing what a long period lists: urgent, severe, many reports first."""
    return (not item.urgent, -(item.max_severity or 0), -item.reports_in_period, item.at, item.id)


def to_list(items: Iterable[IncidentItem], kind: str) -> list[IncidentItem]:
    """Return the incidents a `kind` digest lists by area: the most pressing LIST_LIMIT."""
    return sorted(items, key=_priority)[: LIST_LIMIT[kind]]


def area_order(area_id: int, areas: dict[int, str]) -> tuple[bool, str, int]:
    """Order areas by name, outside every area (NO_AREA) last."""
    return (area_id == NO_AREA, (areas.get(area_id) or "").casefold(), area_id)


def by_area(
    items: Iterable[IncidentItem], rows: Sequence[ReportRow], areas: dict[int, str]
) -> tuple[AreaGroup, ...]:
    """Group incidents by area (by name; outside every area last), each by time."""
    grouped: dict[int, list[IncidentItem]] = defaultdict(list)
    for item in items:
        grouped[item.area_id].append(item)
    reports = Counter(r.area_id for r in rows if r.category not in NOT_INCIDENTS)
    return tuple(
        AreaGroup(
            area_id=a,
            name=areas.get(a),
            incidents=tuple(sorted(grouped[a], key=lambda i: (i.at, i.id))),
            reports=reports.get(a, 0),
        )
        for a in sorted(grouped, key=lambda a: area_order(a, areas))
    )

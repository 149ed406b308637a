"""The walk's protocol as plain data: the plan, the counts, the observations in stop order.

No personal names reach it: reports are read without their device, and participants are
counts. The same data renders the workspace page and the CLI's HTML file (render.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from server.categories.models import Category
from server.extensions import db
from server.reports.models import Report
from server.walks.followup import marks_of, open_reports
from server.walks.models import PARTICIPANT_KINDS, Walk
from server.walks.service import area_names, get_walk, numbered_stops


@dataclass(frozen=True)
class Observation:
    """One walk observation as the protocol shows it."""

    report_id: uuid.UUID  # what a later action points at
    stop: int | None
    category: str
    label_sv: str
    label_en: str
    feeling: str | None
    text: str
    place: str
    local_time: datetime
    lat: float | None
    lon: float | None
    photos: tuple[str, ...]


@dataclass(frozen=True)
class FollowUp:
    """A follow-up walk's re-check of the earlier walk's open observations."""

    earlier_date: date
    # Each open observation with its latest mark in this walk (None: not checked).
    items: list[tuple[Observation, str | None]]

    def counts(self) -> dict[str, int]:
        """Count the open observations as åtgärdat, kvarstår and not checked."""
        out = {"atgardat": 0, "kvarstar": 0, "unchecked": 0}
        for _, mark in self.items:
            out[mark if mark in out else "unchecked"] += 1
        return out


@dataclass
class Protocol:
    """Everything the protocol of one walk shows."""

    walk: Walk
    area: str | None
    participants: list[tuple[str, int]]
    stops: list[dict[str, Any]]
    observations: list[Observation] = field(default_factory=list)
    follow_up: FollowUp | None = None

    @property
    def participant_total(self) -> int:
        """Return how many took part."""
        return sum(n for _, n in self.participants)

    def at_stop(self, number: int | None) -> list[Observation]:
        """Return the observations of one stop (None: not tied to a stop)."""
        return [o for o in self.observations if o.stop == number]

    def feelings(self) -> dict[str, int]:
        """Count the observations by feeling."""
        out = {"unsafe": 0, "neutral": 0, "safe": 0}
        for o in self.observations:
            if o.feeling in out:
                out[o.feeling] += 1
        return out


def build(org_id: int | None, walk_id: int) -> Protocol:
    """Read a walk and its observations (org_id None: any organisation, for the CLI)."""
    walk = get_walk(org_id, walk_id)
    labels = {c.code: c for c in db.session.scalars(select(Category))}
    rows = db.session.scalars(
        select(Report).where(Report.walk_id == walk.id, Report.org_id == walk.org_id)
    )
    stop_count = len(walk.stops or [])
    # A follow-up mark is shown in the follow-up section, not as an observation of its own.
    observations = [_observation(r, labels, stop_count) for r in rows if r.follows is None]
    # Stop order, then the observations tied to no stop; within a stop, by time.
    observations.sort(key=lambda o: (o.stop is None, o.stop or 0, o.local_time, str(o.report_id)))
    participants = walk.participants or {}
    return Protocol(
        walk=walk,
        area=area_names([walk]).get(walk.area_id) if walk.area_id is not None else None,
        participants=[(kind, int(participants.get(kind, 0))) for kind in PARTICIPANT_KINDS],
        stops=numbered_stops(walk),
        observations=observations,
        follow_up=_follow_up(walk, labels),
    )


def _follow_up(walk: Walk, labels: dict[str, Category]) -> FollowUp | None:
    """Return the re-check of the earlier walk's open observations (None: follows none)."""
    earlier = db.session.get(Walk, walk.follows_walk_id) if walk.follows_walk_id else None
    if earlier is None:
        return None
    marks = marks_of(walk)
    # Stops as numbered on the earlier walk (a follow-up copies its stops, yet may have fewer).
    items = [(_observation(r, labels, None), marks.get(r.id)) for r in open_reports(walk)]
    return FollowUp(earlier_date=earlier.walk_date, items=items)


def _observation(r: Report, labels: dict[str, Category], stop_count: int | None) -> Observation:
    """Describe one report of the walk (its device is never read; None: keep any stop)."""
    category = labels.get(r.category_code)
    local = r.created_at.astimezone(timezone(timedelta(minutes=r.utc_offset_min)))
    stop = r.walk_stop
    if stop is not None and stop_count is not None and stop > stop_count:
        stop = None
    return Observation(
        report_id=r.id,
        stop=stop,
        category=r.category_code,
        label_sv=category.label_sv if category else r.category_code,
        label_en=category.label_en if category else r.category_code,
        feeling=r.feeling,
        text=r.description or "",
        place=r.place or "",
        local_time=local,
        lat=r.lat,
        lon=r.lon,
        photos=tuple(r.photos or ()),
    )

"""Builders for the walk tests: an area, a planned walk with a route and stops, observations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from analysis.calendar import STOCKHOLM
from server.geography.models import Area
from server.incidents import areas as area_service
from server.orgs.models import Organisation
from server.walks import service as walks
from server.walks.models import Walk
from tests.support import factories

CENTRUM = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum", "code": "centrum"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[13.2, 55.6], [13.3, 55.6], [13.3, 55.7], [13.2, 55.7], [13.2, 55.6]]
                ],
            },
        }
    ],
}
ROUTE = {
    "type": "LineString",
    "coordinates": [[13.21, 55.63], [13.22, 55.635], [13.23, 55.64], [13.24, 55.645]],
}
STOPS = (
    {"name": "Stationen", "lat": 55.63, "lon": 13.21},
    {"name": "Gångtunneln", "lat": 55.635, "lon": 13.22},
    {"name": "Parken", "lat": 55.64, "lon": 13.23},
    {"name": "Torget", "lat": 55.645, "lon": 13.24},
)


def today() -> date:
    """Return the day factories.report() dates its reports (Stockholm winter time)."""
    return (datetime.now(UTC).astimezone(factories.STOCKHOLM_WINTER) - timedelta(minutes=10)).date()


def phone_day() -> date:
    """Return the day a phone on Swedish time calls today (the walk screen lists its walks)."""
    return datetime.now(STOCKHOLM).date()


def area_of(org: Organisation) -> Area:
    """Give the organisation the area "Centrum" (once) and return it."""
    found = [a for a in _areas(org) if a.code == "centrum"]
    if found:
        return found[0]
    area_service.import_areas(org.id, CENTRUM, code_property="code")
    return next(a for a in _areas(org) if a.code == "centrum")


def _areas(org: Organisation) -> list[Area]:
    from server.geography.service import list_areas

    return list_areas(org.id)


def make_walk(org: Organisation, on: date | None = None, **changes: Any) -> Walk:
    """Plan a walk in Centrum with the route, four stops and a few participants."""
    plan = walks.WalkPlan(
        area_id=area_of(org).id,
        walk_date=on or today(),
        dark=changes.pop("dark", True),
        route=changes.pop("route", ROUTE),
        stops=changes.pop("stops", STOPS),
        participants=changes.pop("participants", {"residents": 8, "police": 1}),
        follows=changes.pop("follows", None),
    )
    return walks.create_walk(org.id, plan)


def observation(walk: Walk, stop: int | None = 1, feeling: str = "unsafe", **o: Any) -> dict:
    """Build a push payload of a walk observation."""
    body = factories.report(
        category=o.pop("category", "vandring_belysning"),
        description=o.pop("description", "Trasig lampa i gångtunneln."),
        walk_id=walk.id,
        walk_stop=stop,
        feeling=feeling,
        severity=None,
        **o,
    )
    return body


def made_on_walk(walk: Walk, minutes: int = 0) -> str:
    """Return a device time on the walk's evening (19:00 local, winter time, plus minutes)."""
    day = walk.walk_date
    start = datetime(day.year, day.month, day.day, 19, 0, tzinfo=factories.STOCKHOLM_WINTER)
    return (start + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def mark(walk: Walk, follows: str, follow_up: str, minutes: int = 0, **o: Any) -> dict:
    """Build a push payload of a follow-up walk's mark on an open observation.

    Made on the walk's evening, or for a walk today an hour ago plus `minutes` (never ahead
    of the server's clock).
    """
    if walk.walk_date == today() and "created_at" not in o:
        when = datetime.now(UTC).astimezone(factories.STOCKHOLM_WINTER)
        o["created_at"] = (when - timedelta(minutes=70 - minutes)).isoformat(timespec="seconds")
    return observation(
        walk,
        stop=o.pop("stop", None),
        feeling=o.pop("feeling", None),
        description=o.pop("description", ""),
        follows=follows,
        follow_up=follow_up,
        created_at=o.pop("created_at", None) or made_on_walk(walk, minutes),
        **o,
    )

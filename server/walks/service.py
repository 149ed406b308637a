"""The walk's rules: plan, edit, list and close walks of one organisation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.geography.models import Area
from server.walks.followup import open_for_phone
from server.walks.models import PARTICIPANT_KINDS, WALK_STATUSES, Walk
from sync.clock import utcnow

MAX_COUNT = 999
MAX_WALK_ID = 2**31 - 1  # the database's integer column
MAX_STOPS = 50
MAX_ROUTE_POINTS = 5000
STOP_NAME_LENGTH = 120
# How far ahead the phone's pull lists planned walks.
PULL_DAYS_AHEAD = 7


@dataclass(frozen=True)
class WalkPlan:
    """What a coordinator (or the CLI) gives to plan or edit a walk."""

    area_id: int
    walk_date: date
    dark: bool = False
    route: dict[str, Any] | None = None
    stops: tuple[dict[str, Any], ...] = ()
    participants: dict[str, int] | None = None
    follows: int | None = None  # the earlier walk of the same area this one follows up


def parse_date(text: str) -> date:
    """Return the date of a YYYY-MM-DD text, or raise Invalid."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError) as exc:
        raise Invalid("bad_date", f"{text!r} is not a date (YYYY-MM-DD).") from exc


def find_area(org_id: int, key: str | int) -> Area:
    """Return the organisation's area by id, code or name (any case), or raise NotFound."""
    areas = list(db.session.scalars(select(Area).where(Area.org_id == org_id)))
    if isinstance(key, int):
        found = [a for a in areas if a.id == key]
    else:
        folded = key.strip().casefold()
        found = [a for a in areas if folded in (a.code.casefold(), a.name.casefold())]
    if not found:
        raise NotFound("area_not_found", f"The organisation has no area {key!r}.")
    return found[0]


def check_route(route: Any) -> dict[str, Any] | None:
    """Return a GeoJSON LineString geometry from a geometry, Feature or FeatureCollection."""
    if route is None:
        return None
    if isinstance(route, dict) and route.get("type") == "FeatureCollection":
        features = route.get("features")
        lines = [
            f.get("geometry")
            for f in features or []
            if isinstance(f, dict)
            and isinstance(f.get("geometry"), dict)
            and f["geometry"].get("type") == "LineString"
        ]
        if len(lines) != 1:
            raise Invalid("bad_route", "The route file must hold exactly one LineString.")
        route = lines[0]
    elif isinstance(route, dict) and route.get("type") == "Feature":
        route = route.get("geometry")
    if not isinstance(route, dict) or route.get("type") != "LineString":
        raise Invalid("bad_route", "The route must be a GeoJSON LineString.")
    coords = route.get("coordinates")
    if not isinstance(coords, list) or not 2 <= len(coords) <= MAX_ROUTE_POINTS:
        raise Invalid(
            "bad_route", f"A route has 2–{MAX_ROUTE_POINTS} points ([longitude, latitude])."
        )
    points = [_position(c) for c in coords]
    return {"type": "LineString", "coordinates": points}


def _position(value: Any) -> list[float]:
    """Return one [lon, lat] position, or raise Invalid."""
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(_is_number(v) for v in value[:2])
        or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90)
    ):
        raise Invalid("bad_route", f"{value!r} is not a [longitude, latitude] position.")
    return [float(value[0]), float(value[1])]


def _is_number(value: Any) -> bool:
    """Tell whether a JSON value is a finite number (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def check_stops(stops: Any) -> list[dict[str, Any]]:
    """Return the stops as [{"name", "lat", "lon"}] (numbered by position), or raise Invalid."""
    if not isinstance(stops, list | tuple) or len(stops) > MAX_STOPS:
        raise Invalid("bad_stops", f"A walk has at most {MAX_STOPS} stops.")
    out: list[dict[str, Any]] = []
    for number, stop in enumerate(stops, start=1):
        if not isinstance(stop, dict):
            raise Invalid("bad_stops", f"Stop {number} must have a name.")
        name = stop.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > STOP_NAME_LENGTH:
            raise Invalid(
                "bad_stops", f"Stop {number} needs a name of 1–{STOP_NAME_LENGTH} characters."
            )
        lat, lon = stop.get("lat"), stop.get("lon")
        if lat is None and lon is None:
            out.append({"name": name.strip(), "lat": None, "lon": None})
            continue
        if not (_is_number(lat) and _is_number(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise Invalid("bad_stops", f"Stop {number} has no valid position (lat, lon).")
        out.append({"name": name.strip(), "lat": float(lat), "lon": float(lon)})
    return out


def check_participants(counts: Any) -> dict[str, int]:
    """Return a count for every participant kind (0..999), or raise Invalid."""
    counts = counts or {}
    if not isinstance(counts, dict):
        raise Invalid("bad_participants", "Participants are counts by kind.")
    unknown = sorted(set(counts) - set(PARTICIPANT_KINDS))
    if unknown:
        raise Invalid("bad_participants", f"Unknown participant kind: {', '.join(unknown)}.")
    out: dict[str, int] = {}
    for kind in PARTICIPANT_KINDS:
        value = counts.get(kind, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise Invalid("bad_participants", f"The count of {kind} must be 0–{MAX_COUNT}.")
        out[kind] = value
    return out


def create_walk(org_id: int, plan: WalkPlan) -> Walk:
    """Plan a walk of the organisation and commit it."""
    walk = Walk(org_id=org_id, status="planned")
    _apply(walk, plan)
    db.session.add(walk)
    db.session.commit()
    return walk


def update_walk(org_id: int, walk_id: int, plan: WalkPlan) -> Walk:
    """Change a walk's plan and commit it."""
    walk = get_walk(org_id, walk_id)
    _apply(walk, plan)
    walk.updated_at = utcnow()
    db.session.commit()
    return walk


def _apply(walk: Walk, plan: WalkPlan) -> None:
    """Check a plan and copy it onto the walk."""
    area = find_area(walk.org_id, plan.area_id)
    walk.area_id = area.id
    walk.walk_date = plan.walk_date
    walk.dark = plan.dark
    walk.route = check_route(plan.route)
    walk.stops = check_stops(list(plan.stops))
    walk.participants = check_participants(plan.participants)
    walk.follows_walk_id = _check_follows(walk, plan.follows)
    _check_followers(walk)


def _check_follows(walk: Walk, follows: int | None) -> int | None:
    """Return the walk a walk may follow up: an earlier one of its organisation and area."""
    if follows is None:
        return None
    earlier = db.session.get(Walk, follows) if 0 < follows <= MAX_WALK_ID else None
    if earlier is None or earlier.org_id != walk.org_id:
        # Another organisation's walk is reported as unknown: its existence is not ours.
        raise NotFound("walk_not_found", f"There is no walk {follows} in your organisation.")
    if earlier.id == walk.id:
        raise Invalid("bad_follows", "A walk cannot follow up itself.")
    if earlier.area_id is None or earlier.area_id != walk.area_id:
        raise Invalid(
            "bad_follows", f"Walk {follows} was in another area: a follow-up walks the same area."
        )
    if earlier.walk_date >= walk.walk_date:
        raise Invalid(
            "bad_follows",
            f"Walk {follows} is on {earlier.walk_date.isoformat()}: a follow-up comes later.",
        )
    return earlier.id


def follow_up_plan(org_id: int, plan: WalkPlan) -> WalkPlan:
    """Return the plan with the route and stops of the walk it follows (when it has none)."""
    if plan.follows is None:
        return plan
    if not 0 < plan.follows <= MAX_WALK_ID:
        raise NotFound("walk_not_found", f"There is no walk {plan.follows} in your organisation.")
    earlier = get_walk(org_id, plan.follows)
    return replace(
        plan,
        route=plan.route if plan.route is not None else earlier.route,
        stops=plan.stops or tuple(earlier.stops or ()),
    )


def _check_followers(walk: Walk) -> None:
    """Refuse a change that would put the walk in another area than, or after, its follow-ups."""
    if walk.id is None:
        return
    later = db.session.scalars(select(Walk).where(Walk.follows_walk_id == walk.id))
    for follower in later:
        if follower.area_id != walk.area_id or follower.walk_date <= walk.walk_date:
            raise Invalid(
                "bad_follows",
                f"Walk {follower.id} on {follower.walk_date.isoformat()} follows this walk up: "
                "keep this one earlier and in the same area.",
            )


def set_status(org_id: int, walk_id: int, status: str) -> Walk:
    """Mark a walk planned or done and commit it."""
    if status not in WALK_STATUSES:
        raise Invalid("bad_status", f"A walk is {' or '.join(WALK_STATUSES)}.")
    walk = get_walk(org_id, walk_id)
    walk.status = status
    walk.updated_at = utcnow()
    db.session.commit()
    return walk


def get_walk(org_id: int | None, walk_id: int) -> Walk:
    """Return the walk, or raise NotFound (also for another organisation's walk)."""
    walk = db.session.get(Walk, walk_id)
    if walk is None or (org_id is not None and walk.org_id != org_id):
        raise NotFound("walk_not_found", f"No walk {walk_id}.")
    return walk


def list_walks(org_id: int) -> list[Walk]:
    """Return the organisation's walks, the latest date first."""
    query = select(Walk).where(Walk.org_id == org_id)
    return list(db.session.scalars(query.order_by(Walk.walk_date.desc(), Walk.id.desc())))


def planned_walks(org_id: int, first: date) -> list[Walk]:
    """Return the walks planned from `first` to PULL_DAYS_AHEAD days ahead, by date."""
    query = select(Walk).where(
        Walk.org_id == org_id,
        Walk.status == "planned",
        Walk.walk_date >= first,
        Walk.walk_date <= first + timedelta(days=PULL_DAYS_AHEAD + 1),
    )
    return list(db.session.scalars(query.order_by(Walk.walk_date, Walk.id)))


def area_names(walks: list[Walk]) -> dict[int, str]:
    """Return the names of the walks' areas by id."""
    ids = {w.area_id for w in walks if w.area_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(Area.id, Area.name).where(Area.id.in_(ids)))
    return {area_id: name for area_id, name in rows}


def pull_view(org_id: int, today: date) -> list[dict[str, Any]]:
    """Return the planned walks from yesterday (a late walk) to a week ahead, for a phone."""
    walks = planned_walks(org_id, today - timedelta(days=1))
    names = area_names(walks)
    return [
        {
            "id": w.id,
            "area": names.get(w.area_id) if w.area_id is not None else None,
            "date": w.walk_date,
            "dark": w.dark,
            "route": w.route,
            "stops": numbered_stops(w),
            "follows": w.follows_walk_id,
            # A follow-up walk's list to mark åtgärdat / kvarstår, offline on the phone; only
            # around the walk's day, as every phone of the organisation pulls it.
            "open_observations": (
                open_for_phone(w)
                if w.follows_walk_id is not None and abs((w.walk_date - today).days) <= 1
                else []
            ),
        }
        for w in walks
    ]


def numbered_stops(walk: Walk) -> list[dict[str, Any]]:
    """Return the walk's stops with their numbers (1, 2, …)."""
    return [{"number": i, **stop} for i, stop in enumerate(walk.stops or [], start=1)]

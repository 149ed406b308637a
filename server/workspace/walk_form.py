"""The walk planning form: its fields as typed, parsed into a WalkPlan or an error to show."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from server.domain_errors import Invalid
from server.walks.models import PARTICIPANT_KINDS, Walk
from server.walks.service import MAX_COUNT, WalkPlan, check_route, check_stops, parse_date

# A route is a small GeoJSON document: the workspace refuses bodies over 256 kB (hooks.py).
MAX_ROUTE_CHARS = 256 * 1024


@dataclass
class WalkForm:
    """A submitted (or prefilled) walk form: the values as typed and what is wrong."""

    area: str = ""
    day: str = ""
    dark: bool = False
    route: str = ""
    stops: str = ""
    counts: dict[str, str] = field(default_factory=lambda: dict.fromkeys(PARTICIPANT_KINDS, "0"))
    error: str = ""
    follows: str = ""  # the earlier walk a follow-up walk follows (a hidden field)


def from_request(form: MultiDict[str, str], files: MultiDict[str, FileStorage]) -> WalkForm:
    """Read the form's values (bounded), a route file taking the place of pasted text."""
    values = WalkForm(
        area=form.get("area", "")[:20],
        day=form.get("date", "")[:20],
        dark=form.get("dark") == "on",
        route=form.get("route", "")[:MAX_ROUTE_CHARS],
        stops=form.get("stops", "")[:20_000],
        counts={k: form.get(f"count_{k}", "0")[:6] for k in PARTICIPANT_KINDS},
        follows=form.get("follows", "")[:12],
    )
    upload = files.get("route_file")
    if upload is not None and upload.filename:
        data = upload.stream.read(MAX_ROUTE_CHARS)
        try:
            values.route = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid("bad_route", "The route file is not UTF-8 text (GeoJSON).") from exc
    return values


def from_walk(walk: Walk) -> WalkForm:
    """Prefill the form with a stored walk."""
    stops = "\n".join(
        s["name"] if s.get("lat") is None else f"{s['name']}; {s['lat']}; {s['lon']}"
        for s in walk.stops or []
    )
    return WalkForm(
        area=str(walk.area_id or ""),
        day=walk.walk_date.isoformat(),
        dark=walk.dark,
        route=json.dumps(walk.route, ensure_ascii=False) if walk.route else "",
        stops=stops,
        counts={k: str((walk.participants or {}).get(k, 0)) for k in PARTICIPANT_KINDS},
        follows=str(walk.follows_walk_id or ""),
    )


def to_plan(values: WalkForm) -> WalkPlan:
    """Return the plan the form describes, or raise Invalid with a message to show."""
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and short enough
    # for the database's integer column.
    if not (values.area.isascii() and values.area.isdigit() and len(values.area) <= 9):
        raise Invalid("bad_area", "Choose an area.")
    route: Any = None
    if values.route.strip():
        try:
            route = json.loads(values.route)
        except json.JSONDecodeError as exc:
            raise Invalid("bad_route", f"The route is not GeoJSON (JSON): {exc.msg}.") from exc
        except RecursionError as exc:  # thousands of nested brackets
            raise Invalid("bad_route", "The route is not GeoJSON (nested too deeply).") from exc
        route = check_route(route)
    return WalkPlan(
        area_id=int(values.area),
        walk_date=parse_date(values.day),
        dark=values.dark,
        route=route,
        stops=tuple(check_stops(_stop_lines(values.stops))),
        participants=_counts(values.counts),
        follows=_follows(values.follows),
    )


def _follows(text: str) -> int | None:
    """Read the hidden follows field (empty: the walk follows none)."""
    text = text.strip()
    if not text:
        return None
    # Nine digits at most: within the database's integer column, as the area field.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise Invalid("bad_follows", "The walk to follow up is not a walk number.")
    return int(text)


def _stop_lines(text: str) -> list[dict[str, Any]]:
    """Read "name; lat; lon" lines (the position may be left out) into stops."""
    stops: list[dict[str, Any]] = []
    for number, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        parts = [p.strip() for p in line.split(";")]
        if len(parts) == 1:
            stops.append({"name": parts[0]})
            continue
        if len(parts) != 3:
            raise Invalid("bad_stops", f"Stop {number}: write name; latitude; longitude.")
        try:
            lat, lon = float(parts[1].replace(",", ".")), float(parts[2].replace(",", "."))
        except ValueError as exc:
            raise Invalid("bad_stops", f"Stop {number}: the position is not two numbers.") from exc
        stops.append({"name": parts[0], "lat": lat, "lon": lon})
    return stops


def _counts(counts: dict[str, str]) -> dict[str, int]:
    """Read the participant counts (whole numbers 0..MAX_COUNT; empty is 0)."""
    out: dict[str, int] = {}
    for kind, text in counts.items():
        text = text.strip() or "0"
        if not (text.isascii() and text.isdigit()) or len(text) > 4 or int(text) > MAX_COUNT:
            raise Invalid("bad_participants", f"Counts are whole numbers 0–{MAX_COUNT}.")
        out[kind] = int(text)
    return out

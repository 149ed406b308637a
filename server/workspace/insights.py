"""Workspace insight pages: the map, trends over time and recurring/named places.

- ``/workspace/map`` shows the filtered incidents (the same query string as the incident
  list, default the last seven days), recurring places, named places and area outlines on a
  Leaflet map fed by ``/workspace/map/data.json``; the same incidents and places are listed
  under the map, so the page is complete without tiles, without JavaScript and without Leaflet.
- ``/workspace/trends`` counts reports per day or week, per category and per area, against
  the four-week same-weekday baseline (``analysis.trends``), as server-side SVG charts
  (``svgchart``) each with a data table.
- ``/workspace/places`` ranks the recurring places of the trailing 28 days and lets a
  coordinator name one (``geography.service.create_place``).

Every query is bounded by a time window (or by the organisation's handful of areas and
named places): nothing here scans the whole report store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import func, select

from analysis import trends as tr
from analysis.calendar import STOCKHOLM
from analysis.places import RecurringPlace, nearest_place
from server.db import phase
from server.extensions import db
from server.geography import service as geography
from server.geography.models import NamedPlace
from server.incidents import queries
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE
from server.reports.models import Report
from server.types import utcnow
from server.workspace import bp, svgchart
from server.workspace import labels as lb
from server.workspace.auth import can_edit, login_required
from server.workspace.filters import ParsedFilter, parse_filter
from server.workspace.hooks import MAP_CSP, TILE_URL, message
from server.workspace.i18n import current_lang, t
from server.workspace.views import audit

# --- limits ---------------------------------------------------------------------------------

MAP_LIMIT = 2000  # incidents on the map (the list under it says when there were more)
TREND_DEFAULT_WEEKS = 8
TREND_MAX_WEEKS = 26
BASELINE_WEEKS = 4
PLACE_DAYS = geography.RECURRING_DAYS
PLACE_RADIUS_DEFAULT = 100
PLACE_RADIUS_MIN, PLACE_RADIUS_MAX = 10, 2000
PLACE_NAME_MAX = 200

# The only files served from node_modules: Leaflet's and the cluster plugin's dist files.
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
VENDOR_FILES: dict[str, frozenset[str]] = {
    "leaflet": frozenset(
        {
            "leaflet.js",
            "leaflet.css",
            "images/marker-icon.png",
            "images/marker-icon-2x.png",
            "images/marker-shadow.png",
            "images/layers.png",
            "images/layers-2x.png",
        }
    ),
    "leaflet.markercluster": frozenset(
        {"leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"}
    ),
}
VENDOR_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


# --- vendor files ---------------------------------------------------------------------------


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """Serve a whitelisted Leaflet dist file from node_modules (nothing else, ever)."""
    allowed = VENDOR_FILES.get(package)
    if allowed is None or filename not in allowed:
        abort(404)
    root = Path(current_app.config.get("NODE_MODULES_DIR") or NODE_MODULES)
    path = root / package / "dist" / filename
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=VENDOR_TYPES[path.suffix], conditional=True, max_age=86400)
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


# --- shared helpers -------------------------------------------------------------------------


def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show a stored time in Swedish local time."""
    return moment.astimezone(STOCKHOLM).strftime(fmt) if moment else ""


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


def _filter_options(org_id: int, parsed: ParsedFilter) -> dict[str, Any]:
    """Return what the shared filter form (_filters.html) shows."""
    areas = lb.area_names(org_id)
    return {
        "values": parsed.values,
        "filter_messages": [t(k) for k in parsed.messages],
        "categories": [(c.code, lb.category_label(c.code)) for c in lb.categories()],
        "areas": sorted(areas.items(), key=lambda a: a[1]),
        "statuses": [(s, lb.status_label(s)) for s in INCIDENT_STATUSES],
        "responsibles": [(r, lb.responsible_label(r)) for r in RESPONSIBLE],
        "kinds": [(k, lb.kind_label(k)) for k in ("vaktare", "faltare", "nattvandrare", "other")],
        "sorts": [(s, t(f"sort.{s}")) for s in queries.SORTS],
    }


# --- map ------------------------------------------------------------------------------------


@dataclass
class MapData:
    """Everything the map and the list under it show."""

    parsed: ParsedFilter
    rows: list[queries.IncidentRow]
    truncated: bool
    recurring: list[RecurringPlace]
    recurring_end: datetime
    areas: list[Any]
    places: list[NamedPlace]


def _map_data(org_id: int) -> MapData:
    """Run the filter (the list's parser) and load the places and areas around it."""
    now = utcnow()
    parsed = parse_filter(request.args, org_id, now)
    rows = queries.list_incidents(org_id, parsed.filter, limit=MAP_LIMIT + 1)
    # Recurring places: the 28 days up to the window's end (never past now).
    recurring_end = min(parsed.filter.end, now)
    recurring = geography.recurring_places(org_id, now=recurring_end)
    return MapData(
        parsed=parsed,
        rows=rows[:MAP_LIMIT],
        truncated=len(rows) > MAP_LIMIT,
        recurring=recurring,
        recurring_end=recurring_end,
        areas=geography.list_areas(org_id),
        places=geography.list_places(org_id),
    )


def _categories_text(categories: Sequence[tuple[str, int]]) -> str:
    """Show a recurring place's categories: "Skadegörelse 3, Brand 1"."""
    return ", ".join(f"{lb.category_label(code)} {count}" for code, count in categories)


def _incident_view(row: queries.IncidentRow, areas: Mapping[int, str]) -> dict[str, Any]:
    """Describe an incident for the map's list and its GeoJSON feature."""
    i = row.incident
    return {
        "id": str(i.id),
        "url": url_for("workspace.incident", incident_id=i.id),
        "first_at": i.first_at.isoformat(),
        "last_at": i.last_at.isoformat(),
        "time": local(i.first_at),
        "category": i.category_code,
        "category_label": lb.category_label(i.category_code),
        "status": i.status,
        "status_label": lb.status_label(i.status),
        "area": areas.get(i.area_id, "") if i.area_id else "",
        "place": i.place,
        "summary": i.summary,
        "report_count": i.report_count,
        "reports_in_window": row.reports_in_window,
        "urgent": i.urgent,
        "lat": i.lat,
        "lon": i.lon,
    }


def _recurring_view(rank: int, p: RecurringPlace) -> dict[str, Any]:
    """Describe a recurring place for the map, the lists and the naming form."""
    return {
        "rank": rank,
        "lat": round(p.center_lat, 6),
        "lon": round(p.center_lon, 6),
        "count": p.count,
        "categories": _categories_text(p.categories),
        "trend": p.trend,
        "trend_label": direction_label(p.trend),
        "recent": p.recent,
        "previous": p.previous,
        "first_seen": local(p.first_seen),
        "last_seen": local(p.last_seen),
        "label": t("places.recurring.label", rank=rank, count=p.count),
    }


@bp.get("/map", endpoint="map")
@login_required
def map_page() -> Response:
    """The map: incidents, recurring places, named places and areas; a list of the same."""
    org_id = g.org.id
    data = _map_data(org_id)
    areas = lb.area_names(org_id)
    incidents = [_incident_view(r, areas) for r in data.rows]
    html = render_template(
        "workspace/map.html",
        incidents=incidents,
        without_position=sum(1 for i in incidents if i["lat"] is None),
        truncated=data.truncated,
        limit=MAP_LIMIT,
        recurring=[_recurring_view(n, p) for n, p in enumerate(data.recurring, start=1)],
        recurring_start=local(data.recurring_end - timedelta(days=PLACE_DAYS), "%Y-%m-%d"),
        recurring_end=local(data.recurring_end, "%Y-%m-%d"),
        named_places=data.places,
        area_list=data.areas,
        window_start=data.parsed.filter.start,
        window_end=data.parsed.filter.end,
        data_url=url_for("workspace.map_data") + _query(data.parsed),
        tile_url=TILE_URL,
        parsed=data.parsed,
        **_filter_options(org_id, data.parsed),
    )
    audit("map.view", data.parsed.query)
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = MAP_CSP
    return resp


def _query(parsed: ParsedFilter) -> str:
    """Return "?<filter>" (or "") for links that must show the same incidents."""
    return f"?{parsed.query}" if parsed.query else ""


@bp.get("/map/data.json")
@login_required
def map_data() -> Response:
    """The map's data as a GeoJSON FeatureCollection (RFC 7946: [lon, lat], WGS 84).

    Features carry ``properties.kind``: "incident" (null geometry when it has no position),
    "recurring", "place" (a named place; ``radius_m``) and "area" (a polygon outline).
    Only the logged-in person's organisation is ever included.
    """
    org_id = g.org.id
    data = _map_data(org_id)
    areas = lb.area_names(org_id)
    features: list[dict[str, Any]] = []
    for row in data.rows:
        view = _incident_view(row, areas)
        lat, lon = view.pop("lat"), view.pop("lon")
        features.append(
            {
                "type": "Feature",
                "id": view["id"],
                "geometry": _point(lat, lon),
                "properties": {"kind": "incident", **view},
            }
        )
    for rank, place in enumerate(data.recurring, start=1):
        view = _recurring_view(rank, place)
        features.append(
            {
                "type": "Feature",
                "geometry": _point(view["lat"], view["lon"]),
                "properties": {"kind": "recurring", **view},
            }
        )
    for named in data.places:
        features.append(
            {
                "type": "Feature",
                "id": f"place-{named.id}",
                "geometry": _point(named.lat, named.lon),
                "properties": {"kind": "place", "name": named.name, "radius_m": named.radius_m},
            }
        )
    for area in data.areas:
        features.append(
            {
                "type": "Feature",
                "id": f"area-{area.id}",
                "geometry": area.geometry,
                "properties": {"kind": "area", "name": area.name, "code": area.code},
            }
        )
    audit("map.data", data.parsed.query)
    resp = jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            "properties": {
                "from": data.parsed.filter.start.isoformat(),
                "to": data.parsed.filter.end.isoformat(),
                "truncated": data.truncated,
                "limit": MAP_LIMIT,
                "messages": [t(k) for k in data.parsed.messages],
            },
        }
    )
    resp.mimetype = "application/geo+json"
    return resp


def _point(lat: float | None, lon: float | None) -> dict[str, Any] | None:
    """Return a GeoJSON point, or None for a report without a position."""
    if lat is None or lon is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


# --- trends ---------------------------------------------------------------------------------


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


def _trend_rows(counts: Mapping[date, int], periods: list[date], step: str) -> list[TrendRow]:
    """Count and compare each period with the four before it (same weekday for days)."""
    compare = tr.baseline if step == "day" else tr.weekly
    rows = []
    for start in periods:
        b = compare(counts, start, weeks=BASELINE_WEEKS)
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
    width: int = 560,
) -> dict[str, Any]:
    """Build one chart (SVG and table rows) for a series of daily counts."""
    rows = _trend_rows(counts, periods, step)
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
                svgchart.Series(baseline_label, [r.mean for r in rows], baseline=True),
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
            baseline=[r.mean for r in rows],
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
                "mean": decimal(r.mean),
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
    org_id = g.org.id
    today = utcnow().astimezone(STOCKHOLM).date()
    args = _trend_args(today)
    periods = _periods(args)
    # One bounded query: the shown weeks plus the four weeks their baseline needs.
    first_needed = periods[0] - timedelta(weeks=BASELINE_WEEKS)
    counts = queries.daily_counts(org_id, first_needed, args.end)
    total_chart = _chart(
        "trend-total", t("trends.total"), counts.total, periods, args.step, width=960
    )
    order = {c.code: n for n, c in enumerate(lb.categories())}
    by_category = _split(counts.by_category)
    category_charts = [
        _chart(f"trend-cat-{n}", lb.category_label(code), by_category[code], periods, args.step)
        for n, code in enumerate(sorted(by_category, key=lambda c: (order.get(c, 999), c)))
    ]
    names = lb.area_names(org_id)
    by_area = _split(counts.by_area)
    area_keys = sorted(by_area, key=lambda a: (a is None, names.get(a, "") if a else "", a or 0))
    area_charts = [
        _chart(
            f"trend-area-{n}",
            names.get(key, t("trends.area_unknown")) if key else t("trends.no_area"),
            by_area[key],
            periods,
            args.step,
        )
        for n, key in enumerate(area_keys)
    ]
    # The morning digest's comparison for the last day: each category against the same
    # weekday of the four weeks before (what queries.compare_day computes, from these counts).
    day_categories = tr.baseline_by_key(counts.by_category, args.end, weeks=BASELINE_WEEKS)
    day_areas = tr.baseline_by_key(counts.by_area, args.end, weeks=BASELINE_WEEKS)
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
    )
    audit("trends.view", request.query_string.decode("latin-1")[:200])
    return html


def _day_row(label: str, b: tr.Baseline) -> dict[str, Any]:
    """Describe one category's or area's last day against its baseline."""
    return {
        "label": label,
        "count": b.count,
        "mean": decimal(b.mean),
        "previous": ", ".join(str(n) for n in b.previous),
        "direction": direction_label(b.direction),
    }


# --- places ---------------------------------------------------------------------------------


def _named_counts(org_id: int, since: datetime) -> dict[int, int]:
    """Count the reports per named place since `since` (bounded by the time index)."""
    rows = db.session.execute(
        select(Report.place_id, func.count())
        .where(
            Report.org_id == org_id,
            Report.created_at >= since,
            Report.place_id.is_not(None),
        )
        .group_by(Report.place_id)
    )
    return {place_id: n for place_id, n in rows}


@dataclass
class PlaceForm:
    """A submitted naming form: the raw values (shown again) and what is wrong."""

    name: str = ""
    radius: str = str(PLACE_RADIUS_DEFAULT)
    lat: str = ""
    lon: str = ""
    error: str = ""


def _places_page(form: PlaceForm | None = None, status: int = 200) -> Response:
    """Render the places page (with a failed form's values and error when given)."""
    org_id = g.org.id
    now = utcnow()
    recurring = [
        _recurring_view(n, p)
        for n, p in enumerate(geography.recurring_places(org_id, now=now), start=1)
    ]
    named = geography.list_places(org_id)
    circles = [(p.id, p.lat, p.lon, p.radius_m) for p in named]
    by_id = {p.id: p for p in named}
    for view in recurring:
        inside = nearest_place(circles, view["lat"], view["lon"]) if circles else None
        view["named"] = by_id[inside].name if inside is not None else ""
        view["form"] = form if form is not None and _same_spot(form, view) else None
    counts = _named_counts(org_id, now - timedelta(days=PLACE_DAYS))
    html = render_template(
        "workspace/places.html",
        recurring=recurring,
        named=[
            {
                "id": p.id,
                "name": p.name,
                "radius": round(p.radius_m),
                "lat": round(p.lat, 6),
                "lon": round(p.lon, 6),
                "count": counts.get(p.id, 0),
                "created_at": local(p.created_at, "%Y-%m-%d"),
            }
            for p in sorted(named, key=lambda p: (-counts.get(p.id, 0), p.name))
        ],
        form=form,
        days=PLACE_DAYS,
        radius_default=PLACE_RADIUS_DEFAULT,
        radius_min=PLACE_RADIUS_MIN,
        radius_max=PLACE_RADIUS_MAX,
        name_max=PLACE_NAME_MAX,
        editable=can_edit(),
    )
    audit("places.view")
    return Response(html, status=status, mimetype="text/html")


def _same_spot(form: PlaceForm, view: Mapping[str, Any]) -> bool:
    """Tell whether a failed form was sent from this recurring place's row."""
    try:
        return (
            abs(float(form.lat) - view["lat"]) < 1e-6 and abs(float(form.lon) - view["lon"]) < 1e-6
        )
    except ValueError:
        return False


@bp.get("/places")
@login_required
def places() -> Response:
    """Recurring places of the last 28 days and the organisation's named places."""
    return _places_page()


def _number(raw: str) -> float | None:
    """Read a finite number (a decimal comma is accepted), else None."""
    try:
        value = float(raw.strip().replace(",", ".")[:40])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check_place(form: PlaceForm, org_id: int) -> tuple[str, float, float, float] | None:
    """Validate the form; set `form.error` (translated) and return None when it is wrong."""
    name = " ".join(form.name.split())
    lat, lon, radius = _number(form.lat), _number(form.lon), _number(form.radius)
    if not name:
        form.error = t("places.error.name_missing")
    elif len(name) > PLACE_NAME_MAX:
        form.error = t("places.error.name_long", max=PLACE_NAME_MAX)
    elif lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        form.error = t("places.error.position")
    elif radius is None or not PLACE_RADIUS_MIN <= radius <= PLACE_RADIUS_MAX:
        form.error = t("places.error.radius", min=PLACE_RADIUS_MIN, max=PLACE_RADIUS_MAX)
    elif db.session.scalar(
        select(NamedPlace.id).where(NamedPlace.org_id == org_id, NamedPlace.name == name)
    ):
        form.error = t("places.error.exists", name=name)
    if form.error:
        return None
    assert lat is not None and lon is not None and radius is not None
    return name, lat, lon, radius


@bp.post("/places")
@login_required
def name_place() -> Response:
    """Name a place from a recurring cluster; errors are shown on the page, never a 500."""
    org_id, actor = g.org.id, g.person.id
    form = PlaceForm(
        name=request.form.get("name", "")[:1000],
        radius=request.form.get("radius", "")[:40],
        lat=request.form.get("lat", "")[:40],
        lon=request.form.get("lon", "")[:40],
    )
    checked = _check_place(form, org_id)
    if checked is None:
        with phase("read"):
            return _places_page(form, status=400)
    name, lat, lon, radius = checked
    try:
        with phase("write"):
            place = geography.create_place(org_id, name, lat, lon, radius, actor)
    except geography.PlaceError as exc:
        # A rule we did not check first (or a race on the name): the service's own words.
        form.error = t("places.error.service", reason=str(exc))
        with phase("read"):
            return _places_page(form, status=400)
    audit("places.create", f"{place.id} {name}")
    message("places.created", name=name)
    return redirect(url_for("workspace.places") + "#named-heading")

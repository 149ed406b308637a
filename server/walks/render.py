"""Render a walk's protocol to one self-contained HTML page (workspace page and CLI file)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.translations import translations
from server.walks.protocol import Protocol

HERE = Path(__file__).resolve().parent
# The map's drawing box (SVG units) and its margin.
MAP_W, MAP_H, MAP_PAD = 640, 400, 24

# Returns the src of a photo's thumbnail (a workspace address or a data: URI), or None.
PhotoSrc = Callable[[str], str | None]


@functools.cache
def environment() -> Environment:
    """Return the protocol's Jinja2 environment (autoescaped)."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_protocol(
    protocol: Protocol, lang: str, photo_src: PhotoSrc, *, back_url: str | None = None
) -> str:
    """Return the protocol as a whole HTML document in the language."""
    messages = translations(lang)

    def t(key: str, **params: Any) -> str:
        text = messages.gettext(key)
        return text.format_map(params) if params else text

    return (
        environment()
        .get_template("protocol.html")
        .render(
            p=protocol,
            lang=lang,
            t=t,
            label=lambda o: o.label_en if lang == "en" else o.label_sv,
            photo_src=photo_src,
            back_url=back_url,
            walk_map=walk_map(protocol),
        )
    )


def walk_map(protocol: Protocol) -> dict[str, Any] | None:
    """Return the route, stops and observations projected into the map box, or None."""
    route = (protocol.walk.route or {}).get("coordinates") or []
    stops = [(s["number"], s["lon"], s["lat"]) for s in protocol.stops if s.get("lat") is not None]
    seen = [(o.feeling, o.lon, o.lat) for o in protocol.observations if o.lat is not None]
    points = [(p[0], p[1]) for p in route] + [(s[1], s[2]) for s in stops]
    points += [(o[1], o[2]) for o in seen]
    if len(points) < 2:
        return None
    project = _projection(points)
    line = " ".join("{:.1f},{:.1f}".format(*project(lon, lat)) for lon, lat in route)
    return {
        "width": MAP_W,
        "height": MAP_H,
        "route": line,
        "stops": [(n, *project(lon, lat)) for n, lon, lat in stops],
        "observations": [(feeling or "none", *project(lon, lat)) for feeling, lon, lat in seen],
    }


def _projection(points: list[tuple[float, float]]) -> Callable[[float, float], tuple[float, float]]:
    """Return a projection of lon/lat into the box (equirectangular, north up)."""
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    mid = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * mid, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((MAP_W - 2 * MAP_PAD) / span_x, (MAP_H - 2 * MAP_PAD) / span_y)
    left, top = min(lons), max(lats)
    # Centred along the side that has room to spare.
    x0, y0 = (MAP_W - span_x * scale) / 2, (MAP_H - span_y * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (x0 + (lon - left) * mid * scale, y0 + (top - lat) * scale)

    return project

"""The workspace maps' background tiles: the configured tile server, its credit, its CSP.

A municipality may run its own tile server (LAGESBILD_MAP_TILE_URL; default OpenStreetMap's)
with its own credit (LAGESBILD_MAP_ATTRIBUTION, plain text). Every page with a map gets a
Content-Security-Policy whose img-src allows that server's origin and nothing else; a tile
path on this server needs nothing beyond 'self'.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from server.workspace.hooks import CSP

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_ATTRIBUTION = "© OpenStreetMap contributors"
_IMG_SRC = "img-src 'self' data: blob:"


def tile_url() -> str:
    """Return the tile address template the maps load ({z}/{x}/{y})."""
    return str(current_app.config.get("MAP_TILE_URL") or DEFAULT_TILE_URL)


def tile_attribution() -> str:
    """Return the credit the maps show for their tiles (plain text)."""
    return str(current_app.config.get("MAP_ATTRIBUTION") or DEFAULT_ATTRIBUTION)


def tile_source(url: str) -> str:
    """Return the CSP source of a tile template's origin ("" for a path on this server).

    Leaflet's "{s}" subdomain becomes the CSP wildcard "*" (a.tile…, b.tile…).
    """
    if url.startswith("/") and not url.startswith("//"):
        return ""
    parts = urlsplit(url)
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def map_csp() -> str:
    """Return the workspace's policy with the tile server's origin allowed for images."""
    source = tile_source(tile_url())
    return CSP.replace(_IMG_SRC, f"{_IMG_SRC} {source}") if source else CSP

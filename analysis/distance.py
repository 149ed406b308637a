"""Distances on the earth: one haversine for the whole analysis package (standard library only)."""

from __future__ import annotations

import math

# Mean earth radius (IUGG), metres. The spherical model errs by < 0.5 %, far below GPS noise.
EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres between two WGS 84 positions."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlmb = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlmb) ** 2
    # Rounding can push h a hair outside [0, 1] for (nearly) antipodal points; asin would raise.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, h))))

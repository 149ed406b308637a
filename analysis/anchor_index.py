"""Find the open anchors of one category that a report may be near, without scanning them all.

A night has thousands of open incidents, most of them a single report far from the next
one; comparing every report with every open anchor made a grouping pass quadratic in the
night. The index narrows the candidates; it never decides: the caller still applies the
exact rule (haversine, window, place text) to each candidate, so the result is the same as
a full scan as long as the candidates include every anchor within the radius. The bounding
box below is exact on the sphere (the largest longitude offset at distance d from latitude
phi is asin(sin(d/R) / cos(phi))), widened by a small margin for rounding; wherever it
cannot be used (near a pole, across the antimeridian, a box wider than the anchors) the
index falls back to every anchor of the category.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from analysis.distance import EARTH_RADIUS_M, haversine_m

# Widen the box by a relative and an absolute margin (degrees; 1e-9 degrees is about 0.1 mm)
# so floating-point rounding can only add candidates, never drop one the rule would match.
_REL_MARGIN = 1e-6
_ABS_MARGIN = 1e-9


class AnchorIndex:
    """Hold one category's open anchors by grid cell (those with a position) and place text."""

    def __init__(self, radius_m: float) -> None:
        """Start empty, with cells as tall as the category's radius."""
        self.radius_m = radius_m
        # The cell's side in degrees of latitude; a floor keeps tiny radii from making
        # astronomically many cells.
        self.cell = max(math.degrees(radius_m / EARTH_RADIUS_M), 1e-7)
        self.keys: dict[str, tuple[float | None, float | None, str]] = {}
        self.cells: dict[tuple[int, int], set[str]] = {}
        self.places: dict[str, set[str]] = {}

    def __len__(self) -> int:
        """Return how many anchors the index holds."""
        return len(self.keys)

    def _cell_of(self, lat: float, lon: float) -> tuple[int, int]:
        """Return the grid cell of a position."""
        return (math.floor(lat / self.cell), math.floor(lon / self.cell))

    def add(self, key: str, lat: float | None, lon: float | None, place: str) -> None:
        """Index an anchor under its key (replacing what the key had)."""
        self.discard(key)
        self.keys[key] = (lat, lon, place)
        if lat is not None and lon is not None:
            self.cells.setdefault(self._cell_of(lat, lon), set()).add(key)
        if place:
            self.places.setdefault(place, set()).add(key)

    def discard(self, key: str) -> None:
        """Forget an anchor (nothing happens when the key is not indexed)."""
        held = self.keys.pop(key, None)
        if held is None:
            return
        lat, lon, place = held
        if lat is not None and lon is not None:
            cell = self._cell_of(lat, lon)
            members = self.cells[cell]
            members.discard(key)
            if not members:
                del self.cells[cell]
        if place:
            named = self.places[place]
            named.discard(key)
            if not named:
                del self.places[place]

    def candidates(self, lat: float | None, lon: float | None, place: str) -> Iterator[str]:
        """Yield (possibly with repeats) every key whose anchor the rule could match."""
        if place:
            # A place-name match needs no position on one side; any such anchor may match.
            yield from self.places.get(place, ())
        if lat is None or lon is None:
            return  # without a fix only the place text can match, yielded above
        box = self.box(lat, lon)
        if box is not None and (box[1] - box[0] + 1) * (box[3] - box[2] + 1) > len(self.cells):
            box = None  # more cells to look in than there are occupied cells
        if box is None:
            yield from (k for k, (a_lat, _, _) in self.keys.items() if a_lat is not None)
            return
        row_lo, row_hi, col_lo, col_hi = box
        for row in range(row_lo, row_hi + 1):
            for col in range(col_lo, col_hi + 1):
                yield from self.cells.get((row, col), ())

    def box(self, lat: float, lon: float) -> tuple[int, int, int, int] | None:
        """Return the rows and columns of cells within the radius, or None to scan everything."""
        angle = self.radius_m / EARTH_RADIUS_M
        dlat = math.degrees(angle) * (1 + _REL_MARGIN) + _ABS_MARGIN
        if abs(lat) + dlat >= 90.0 or angle >= math.pi / 2:
            return None  # the circle reaches a pole: every longitude is in reach
        ratio = math.sin(angle) / math.cos(math.radians(abs(lat) + dlat))
        if ratio >= 1.0:
            return None
        dlon = math.degrees(math.asin(ratio)) * (1 + _REL_MARGIN) + _ABS_MARGIN
        if lon - dlon < -180.0 or lon + dlon > 180.0:
            return None  # across the antimeridian; rare enough to scan
        row_lo, col_lo = self._cell_of(lat - dlat, lon - dlon)
        row_hi, col_hi = self._cell_of(lat + dlat, lon + dlon)
        return row_lo, row_hi, col_lo, col_hi


class Neighbourhood:
    """Answer whether an anchor could be matched by any of a set of reports (by position or place).

    Built over the reports a grouping pass regroups, it lets the pass skip loading the open
    anchors none of them can reach. It errs only towards "yes": time and category are not
    looked at, and a shared place text counts whether or not the sides have positions.
    """

    def __init__(self, points: Iterable[tuple[float | None, float | None, str]], radius_m: float):
        """Index the reports' positions with cells as tall as the largest radius asked for."""
        self.radius_m = radius_m
        self.index = AnchorIndex(radius_m)
        self.places: set[str] = set()
        self.positions: list[tuple[float, float]] = []
        for lat, lon, place in points:
            if place:
                self.places.add(place)
            if lat is not None and lon is not None:
                self.index.add(str(len(self.positions)), lat, lon, "")
                self.positions.append((lat, lon))

    def reaches(self, lat: float | None, lon: float | None, place: str, radius_m: float) -> bool:
        """Return whether some report is within `radius_m` of the anchor or shares its place."""
        if radius_m > self.radius_m:
            raise ValueError(f"radius {radius_m} exceeds the neighbourhood's {self.radius_m}")
        if place and place in self.places:
            return True
        if lat is None or lon is None:
            return False
        return any(
            haversine_m(lat, lon, *self.positions[int(key)]) <= radius_m
            for key in self.index.candidates(lat, lon, "")
        )

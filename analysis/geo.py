"""Areas of a municipality: distances, GeoJSON import and point-in-area lookup.

Coordinates follow GeoJSON: positions are ``[lon, lat]`` in WGS84 degrees. Function
arguments, however, are always ``(lat, lon)``, the order people read them in.

Areas are imported once by an administrator (``parse_areas``), so the importer checks
everything and reports every problem at once, in words a municipal GIS user can act on.
Lookups (``AreaIndex``) happen for every report and are vectorised with shapely 2.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import mapping, shape
from shapely.validation import explain_validity

from sync.ids import slugify

AREA_TYPES = ("Polygon", "MultiPolygon")

K = TypeVar("K", bound=Hashable)


class AreaError(ValueError):
    """Report every problem found in an areas file."""

    def __init__(self, problems: Sequence[str]) -> None:
        """Keep the problems and build one readable message from them."""
        self.problems: list[str] = list(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in the areas file:"
        super().__init__("\n".join([heading, *(f"- {p}" for p in self.problems)]))


@dataclass(frozen=True)
class AreaDef:
    """Hold one imported area: a stable code, a display name and its GeoJSON geometry."""

    code: str
    name: str
    geometry: dict[str, Any]


def _copy_json(value: Any) -> Any:
    """Copy a JSON value so the caller's document and our areas never alias."""
    if isinstance(value, Mapping):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(item) for item in value]
    return value


def _positions(coords: Any, depth: int) -> Iterable[Any]:
    """Yield the positions of a coordinates array nested ``depth`` levels deep."""
    if depth == 0:
        yield coords
        return
    if not isinstance(coords, list | tuple):
        raise TypeError("coordinates must be nested arrays")
    for item in coords:
        yield from _positions(item, depth - 1)


def _is_number(value: Any) -> bool:
    """Tell whether a JSON value is a finite number (bool is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_geometry(label: str, geometry: Any) -> list[str]:
    """Return the problems of one feature's geometry, [] when it is a usable area."""
    if geometry is None:
        return [f"{label} has no geometry; draw the area's boundary before exporting."]
    if not isinstance(geometry, Mapping):
        return [f"{label} has a geometry that is not a GeoJSON object."]
    kind = geometry.get("type")
    if kind not in AREA_TYPES:
        return [
            f"{label} is a {kind or 'geometry without a type'}; only Polygon and MultiPolygon "
            "areas are supported."
        ]
    # Positions sit two levels deep in a Polygon (rings), three in a MultiPolygon.
    depth = 2 if kind == "Polygon" else 3
    try:
        positions = list(_positions(geometry.get("coordinates"), depth))
    except TypeError:
        return [f"{label} has malformed coordinates: expected nested [longitude, latitude] pairs."]
    for position in positions:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(_is_number(v) for v in position)
        ):
            return [
                f"{label} has a malformed position {position!r}; expected [longitude, latitude]."
            ]
    for position in positions:
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            # Swedish GIS exports are often in SWEREF 99 TM (metres): say so explicitly.
            return [
                f"{label} has coordinates outside the WGS84 range (longitude -180..180, "
                f"latitude -90..90), e.g. [{lon}, {lat}]; export the file in WGS84 "
                "(EPSG:4326), not a projected system such as SWEREF 99 TM."
            ]
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, IndexError, GEOSException) as exc:
        reason = str(exc).rstrip(".")
        return [f"{label} has a polygon that cannot be built ({reason}); check its rings."]
    if geom.is_empty:
        return [f"{label} has an empty geometry; draw the area's boundary before exporting."]
    if not geom.is_valid:
        return [
            f"{label} has an invalid polygon ({explain_validity(geom)}); fix it in "
            "the GIS tool, e.g. so the boundary does not cross itself."
        ]
    return []


def _text(value: Any) -> str | None:
    """Return a property value as stripped text, None when it is missing or blank."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    # Area codes are sometimes numbers in GIS exports (e.g. 1230); they are still codes.
    text = str(value).strip()
    return text or None


def parse_areas(
    doc: Mapping[str, Any], name_property: str = "name", code_property: str | None = None
) -> list[AreaDef]:
    """Return the areas of a GeoJSON FeatureCollection (or Feature), or raise AreaError."""
    if not isinstance(doc, Mapping):
        raise AreaError(["The file is not a GeoJSON object; export the areas as GeoJSON."])
    kind = doc.get("type")
    if kind == "Feature":
        features: Any = [doc]
    elif kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise AreaError(["The FeatureCollection has no list of features."])
    else:
        raise AreaError(
            [
                f"The file is not a GeoJSON FeatureCollection (its type is {kind!r}); export "
                "the areas as a FeatureCollection of polygons."
            ]
        )
    if not features:
        raise AreaError(["The FeatureCollection contains no features; add at least one area."])

    problems: list[str] = []
    areas: list[AreaDef] = []
    first_with_code: dict[str, int] = {}
    # Features are numbered from 1 in file order, as a person counts them in a GIS table.
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            problems.append(f"feature {number} is not a GeoJSON Feature.")
            continue
        props = feature.get("properties")
        props = props if isinstance(props, Mapping) else {}
        name = _text(props.get(name_property))
        label = f'feature {number} ("{name}")' if name else f"feature {number}"
        own = _check_geometry(label, feature.get("geometry"))
        if name is None:
            own.append(f'{label} has no "{name_property}" property; every area needs a name.')
        if code_property is not None:
            code = _text(props.get(code_property))
            if code is None:
                own.append(f'{label} has no "{code_property}" property; every area needs a code.')
        else:
            code = slugify(name) if name else None
            if name and not code:
                own.append(
                    f"{label} has a name with no letters or digits to make a code from; "
                    "rename it or import with a code property."
                )
        if code is not None:
            if code in first_with_code:
                own.append(
                    f'{label} has the code "{code}", already used by feature '
                    f"{first_with_code[code]}; codes must be unique."
                )
            else:
                first_with_code[code] = number
        problems.extend(own)
        if not own and name is not None and code is not None:
            # Stored as shapely writes it back: rings closed, no foreign members, lists only.
            geometry = _copy_json(mapping(shape(feature["geometry"])))
            areas.append(AreaDef(code=code, name=name, geometry=geometry))
    if problems:
        raise AreaError(problems)
    return areas


class AreaIndex(Generic[K]):
    """Find the area that covers a point, among possibly overlapping areas."""

    def __init__(self, areas: Sequence[tuple[K, Mapping[str, Any]]]) -> None:
        """Build the spatial index from (key, GeoJSON Polygon/MultiPolygon) pairs."""
        built: list[tuple[float, K, shapely.Geometry]] = []
        seen: set[K] = set()
        for key, geometry in areas:
            if key in seen:
                raise ValueError(f"duplicate area key {key!r}")
            seen.add(key)
            geom = shape(geometry)
            if geom.geom_type not in AREA_TYPES:
                raise ValueError(f"area {key!r} is a {geom.geom_type}, not a polygon")
            built.append((geom.area, key, geom))
        # THE tie-break for overlapping areas: the smallest area wins (a neighbourhood
        # inside a district is the more useful answer), then the smallest key. Area is
        # measured in square degrees: distorted by latitude, but overlapping areas lie at
        # the same latitude, so their order is the same as in square metres.
        built.sort(key=lambda item: (item[0], item[1]))
        self._keys: list[K] = [key for _, key, _ in built]
        # Stored in tie-break order, so a lower tree index always means a better match.
        self._geoms = np.array([geom for _, _, geom in built], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        """Return the number of areas."""
        return len(self._keys)

    def locate(self, lat: float, lon: float) -> K | None:
        """Return the key of the area covering the point, None when no area does."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or not self._keys:
            return None
        # Bounding-box candidates, best first; the first one that really covers wins.
        for index in sorted(self._tree.query(shapely.Point(lon, lat)).tolist()):
            # Intersects for a point means covers: a point on the boundary (outer ring or
            # a hole's ring) belongs to the area; only a point strictly inside a hole does not.
            if shapely.intersects_xy(self._geoms[index], lon, lat):
                return self._keys[index]
        return None

    def locate_many(self, points: Iterable[tuple[float, float]]) -> list[K | None]:
        """Return, for each (lat, lon) point, the key of the covering area or None."""
        coords = np.asarray(list(points), dtype=float).reshape(-1, 2)
        count = len(coords)
        if count == 0 or not self._keys:
            return [None] * count
        lat, lon = coords[:, 0], coords[:, 1]
        usable = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        # Bounding-box pairs from the tree, then one vectorised exact test on prepared
        # polygons; intersects (not contains) so that boundary points count as covered.
        query_idx, tree_idx = self._tree.query(shapely.points(lon[usable], lat[usable]))
        point_idx = usable[query_idx]
        hit = shapely.intersects_xy(self._geoms[tree_idx], lon[point_idx], lat[point_idx])
        best = np.full(count, len(self._keys), dtype=np.int64)
        # Lowest tree index per point is the best area (the tree is in tie-break order).
        np.minimum.at(best, point_idx[hit], tree_idx[hit])
        return [self._keys[i] if i < len(self._keys) else None for i in best.tolist()]

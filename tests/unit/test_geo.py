"""Tests for analysis.geo: distances, GeoJSON area import and point-in-area lookup."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from analysis.distance import haversine_m
from analysis.geo import AreaDef, AreaError, AreaIndex, parse_areas
from sync.ids import slugify


def rect(west: float, south: float, east: float, north: float) -> dict:
    """Return a GeoJSON Polygon for a lon/lat rectangle."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(name: str | None, geometry: dict | None, **props: object) -> dict:
    """Return a GeoJSON Feature with a name property."""
    properties = dict(props)
    if name is not None:
        properties["name"] = name
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict) -> dict:
    """Return a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": list(features)}


# Approximate rectangles around the two towns of Staffanstorp municipality, plus the whole
# municipality, which overlaps both.
STAFFANSTORP = rect(13.18, 55.625, 13.235, 55.655)
HJARUP = rect(13.11, 55.66, 13.155, 55.68)
KOMMUN = rect(13.05, 55.58, 13.30, 55.71)
MUNICIPALITY = collection(
    feature("Staffanstorps kommun", KOMMUN, kod="1230"),
    feature("Staffanstorp", STAFFANSTORP, kod="1230-S"),
    feature("Hjärup", HJARUP, kod="1230-H"),
)


# --- haversine -------------------------------------------------------------------------


def test_haversine_zero_and_symmetry() -> None:
    assert haversine_m(55.64, 13.21, 55.64, 13.21) == 0
    assert haversine_m(55.64, 13.21, 55.67, 13.13) == haversine_m(55.67, 13.13, 55.64, 13.21)


def test_haversine_one_degree_of_latitude() -> None:
    # One degree along a meridian is R * pi / 180 on a sphere.
    assert haversine_m(55.0, 13.0, 56.0, 13.0) == pytest.approx(6_371_008.8 * math.pi / 180)


def test_haversine_staffanstorp_to_hjarup() -> None:
    # About 6 km between the town centres.
    assert haversine_m(55.64, 13.21, 55.67, 13.13) == pytest.approx(5_990, rel=0.01)


def test_haversine_antipodes_do_not_fail() -> None:
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8)


# --- parse_areas: good input -----------------------------------------------------------


def test_parse_real_looking_municipality_slugs_names() -> None:
    areas = parse_areas(MUNICIPALITY)
    assert [(a.code, a.name) for a in areas] == [
        ("staffanstorps-kommun", "Staffanstorps kommun"),
        ("staffanstorp", "Staffanstorp"),
        ("hjarup", "Hjärup"),
    ]
    assert areas[1].geometry == STAFFANSTORP


def test_parse_with_code_property_and_numeric_code() -> None:
    doc = copy.deepcopy(MUNICIPALITY)
    doc["features"][0]["properties"]["kod"] = 1230
    areas = parse_areas(doc, code_property="kod")
    assert [a.code for a in areas] == ["1230", "1230-S", "1230-H"]


def test_parse_custom_name_property() -> None:
    doc = collection({"type": "Feature", "properties": {"NAMN": "Hjärup"}, "geometry": HJARUP})
    assert parse_areas(doc, name_property="NAMN")[0].name == "Hjärup"


def test_parse_single_feature() -> None:
    assert parse_areas(feature("Hjärup", HJARUP)) == [AreaDef("hjarup", "Hjärup", HJARUP)]


def test_parse_multipolygon_and_closes_rings() -> None:
    open_ring = [[13.0, 55.0], [13.1, 55.0], [13.1, 55.1]]
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [[open_ring], rect(14, 55, 14.1, 55.1)["coordinates"]],
    }
    (area,) = parse_areas(collection(feature("Två delar", geometry)))
    assert area.geometry["type"] == "MultiPolygon"
    assert area.geometry["coordinates"][0][0] == [*open_ring, open_ring[0]]


def test_parse_does_not_alias_the_document() -> None:
    doc = copy.deepcopy(MUNICIPALITY)
    areas = parse_areas(doc)
    doc["features"][1]["geometry"]["coordinates"][0][0][0] = 0.0
    assert areas[1].geometry == STAFFANSTORP


def test_slugify_swedish() -> None:
    assert slugify("Åkarp – Östra Hjärup!") == "akarp-ostra-hjarup"
    assert slugify("???") == ""


# --- parse_areas: one test per error message -------------------------------------------


def problems_of(doc: object, **kwargs: object) -> list[str]:
    """Return the problems parse_areas reports for a document."""
    with pytest.raises(AreaError) as caught:
        parse_areas(doc, **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    for problem in caught.value.problems:
        assert problem in str(caught.value)
    return caught.value.problems


def test_error_not_a_feature_collection() -> None:
    (problem,) = problems_of({"type": "Polygon", "coordinates": []})
    assert "not a GeoJSON FeatureCollection" in problem
    assert "'Polygon'" in problem


def test_error_not_an_object() -> None:
    (problem,) = problems_of(["not", "geojson"])
    assert "not a GeoJSON object" in problem


def test_error_features_not_a_list() -> None:
    (problem,) = problems_of({"type": "FeatureCollection", "features": {}})
    assert "no list of features" in problem


def test_error_empty_collection() -> None:
    (problem,) = problems_of(collection())
    assert "contains no features" in problem


def test_error_item_not_a_feature() -> None:
    (problem,) = problems_of(collection(feature("Hjärup", HJARUP), HJARUP))
    assert problem == "feature 2 is not a GeoJSON Feature."


def test_error_feature_without_geometry() -> None:
    (problem,) = problems_of(collection(feature("Hjärup", HJARUP), feature("Tågstationen", None)))
    assert problem.startswith('feature 2 ("Tågstationen") has no geometry')


def test_error_geometry_not_an_object() -> None:
    (problem,) = problems_of(collection(feature("Hjärup", "POLYGON((...))")))  # type: ignore[arg-type]
    assert problem.startswith('feature 1 ("Hjärup") has a geometry that is not a GeoJSON object')


def test_error_wrong_geometry_type() -> None:
    line = {"type": "LineString", "coordinates": [[13.1, 55.6], [13.2, 55.7]]}
    (problem,) = problems_of(collection(feature("Hjärup", HJARUP), feature("Gågatan", line)))
    assert problem.startswith('feature 2 ("Gågatan") is a LineString')
    assert "only Polygon and MultiPolygon" in problem


def test_error_geometry_without_type() -> None:
    (problem,) = problems_of(collection(feature("Hjärup", {"coordinates": []})))
    assert problem.startswith('feature 1 ("Hjärup") is a geometry without a type')


def test_error_invalid_polygon_explains_validity() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[13.1, 55.6], [13.2, 55.7], [13.2, 55.6], [13.1, 55.7], [13.1, 55.6]]],
    }
    (problem,) = problems_of(collection(feature("Hjärup", HJARUP), feature("Fjärilen", bowtie)))
    assert problem.startswith('feature 2 ("Fjärilen") has an invalid polygon')
    assert "Self-intersection" in problem


def test_error_polygon_that_cannot_be_built() -> None:
    sliver = {"type": "Polygon", "coordinates": [[[13.1, 55.6], [13.2, 55.7]]]}
    (problem,) = problems_of(collection(feature("Strecket", sliver)))
    assert problem.startswith('feature 1 ("Strecket") has a polygon that cannot be built')
    assert "..." not in problem and ".." not in problem.rstrip(".")


def test_error_empty_polygon() -> None:
    (problem,) = problems_of(collection(feature("Tomt", {"type": "Polygon", "coordinates": []})))
    assert problem.startswith('feature 1 ("Tomt") has an empty geometry')


def test_error_malformed_coordinates() -> None:
    bad = {"type": "Polygon", "coordinates": "13.1 55.6"}
    (problem,) = problems_of(collection(feature("Hjärup", bad)))
    assert problem.startswith('feature 1 ("Hjärup") has malformed coordinates')


def test_error_malformed_position() -> None:
    bad = {"type": "Polygon", "coordinates": [[[13.1, "55.6"], [13.2, 55.6], [13.2, 55.7]]]}
    (problem,) = problems_of(collection(feature("Hjärup", bad)))
    assert problem.startswith('feature 1 ("Hjärup") has a malformed position')


def test_error_missing_name() -> None:
    (problem,) = problems_of(collection(feature("Hjärup", HJARUP), feature(None, STAFFANSTORP)))
    assert problem == 'feature 2 has no "name" property; every area needs a name.'


def test_error_blank_name_counts_as_missing() -> None:
    (problem,) = problems_of(collection(feature("  ", HJARUP)))
    assert problem.startswith('feature 1 has no "name" property')


def test_error_name_without_letters() -> None:
    (problem,) = problems_of(collection(feature("???", HJARUP)))
    assert problem.startswith('feature 1 ("???") has a name with no letters or digits')


def test_error_missing_code() -> None:
    doc = collection(feature("Hjärup", HJARUP, kod="H"), feature("Staffanstorp", STAFFANSTORP))
    (problem,) = problems_of(doc, code_property="kod")
    assert problem == 'feature 2 ("Staffanstorp") has no "kod" property; every area needs a code.'


def test_error_coordinates_outside_wgs84() -> None:
    # SWEREF 99 TM metres, a common mistake in Swedish exports.
    sweref = rect(386_000, 6_166_000, 390_000, 6_170_000)
    (problem,) = problems_of(collection(feature("Hjärup", HJARUP), feature("Centrum", sweref)))
    assert problem.startswith('feature 2 ("Centrum") has coordinates outside the WGS84 range')
    assert "EPSG:4326" in problem


def test_error_duplicate_code() -> None:
    doc = collection(feature("Hjärup", HJARUP), feature("Hjarup", STAFFANSTORP))
    (problem,) = problems_of(doc)
    assert problem.startswith(
        'feature 2 ("Hjarup") has the code "hjarup", already used by feature 1'
    )


def test_all_errors_are_collected() -> None:
    line = {"type": "LineString", "coordinates": [[13.1, 55.6], [13.2, 55.7]]}
    doc = collection(
        feature("Hjärup", HJARUP),
        feature(None, None),
        feature("Gågatan", line),
        feature("Hjärup", STAFFANSTORP),
    )
    problems = problems_of(doc)
    assert [p.split(" ", 2)[:2] for p in problems] == [
        ["feature", "2"],
        ["feature", "2"],
        ["feature", "3"],
        ["feature", "4"],
    ]
    with pytest.raises(AreaError, match=r"^4 problems in the areas file:"):
        parse_areas(doc)


# --- AreaIndex -------------------------------------------------------------------------


def index_of(doc: dict) -> AreaIndex[str]:
    """Return an index over the areas of a document, keyed by code."""
    return AreaIndex([(a.code, a.geometry) for a in parse_areas(doc)])


def test_locate_staffanstorp_and_hjarup_overlap_smallest_wins() -> None:
    index = index_of(MUNICIPALITY)
    assert len(index) == 3
    assert index.locate(55.64, 13.21) == "staffanstorp"
    assert index.locate(55.67, 13.13) == "hjarup"
    # Between the towns only the municipality covers the point.
    assert index.locate(55.655, 13.17) == "staffanstorps-kommun"
    # East of the municipality's rectangle.
    assert index.locate(55.705, 13.35) is None


def test_locate_many_matches_locate() -> None:
    index = index_of(MUNICIPALITY)
    points = [(55.64, 13.21), (55.67, 13.13), (55.655, 13.17), (55.705, 13.35), (0.0, 0.0)]
    assert index.locate_many(points) == [index.locate(lat, lon) for lat, lon in points]
    assert index.locate_many([]) == []


def test_locate_non_finite_is_none() -> None:
    index = index_of(MUNICIPALITY)
    assert index.locate(math.nan, 13.21) is None
    assert index.locate_many([(math.nan, 13.21), (55.64, math.inf), (55.64, 13.21)]) == [
        None,
        None,
        "staffanstorp",
    ]


def test_empty_index() -> None:
    index: AreaIndex[str] = AreaIndex([])
    assert index.locate(55.64, 13.21) is None
    assert index.locate_many([(55.64, 13.21)]) == [None]


def test_multipolygon() -> None:
    parts = {
        "type": "MultiPolygon",
        "coordinates": [rect(0, 0, 1, 1)["coordinates"], rect(2, 0, 3, 1)["coordinates"]],
    }
    index = AreaIndex([("both", parts)])
    assert index.locate(0.5, 0.5) == "both"
    assert index.locate(0.5, 2.5) == "both"
    assert index.locate(0.5, 1.5) is None


def test_hole() -> None:
    donut = {
        "type": "Polygon",
        "coordinates": [rect(0, 0, 4, 4)["coordinates"][0], rect(1, 1, 3, 3)["coordinates"][0]],
    }
    index = AreaIndex([("donut", donut)])
    assert index.locate(0.5, 0.5) == "donut"
    assert index.locate(2, 2) is None
    # The hole's ring is part of the polygon's boundary, so it is covered.
    assert index.locate(1, 2) == "donut"
    assert index.locate_many([(2, 2), (1, 2), (0.5, 0.5)]) == [None, "donut", "donut"]


def test_boundary_points_are_covered() -> None:
    index = AreaIndex([("a", rect(0, 0, 1, 1))])
    for lat, lon in [(0, 0), (0, 0.5), (1, 1), (0.5, 1)]:
        assert index.locate(lat, lon) == "a"
    assert index.locate_many([(0, 0), (0, 0.5), (1.0000001, 0.5)]) == ["a", "a", None]


def test_shared_edge_goes_to_smaller_then_key() -> None:
    big = rect(0, 0, 2, 1)
    small = rect(2, 0, 3, 1)
    index = AreaIndex([("big", big), ("small", small)])
    assert index.locate(0.5, 2) == "small"
    # Equal areas: the smaller key wins, whatever the input order.
    twin_a, twin_b = rect(0, 0, 1, 1), rect(1, 0, 2, 1)
    assert AreaIndex([("b", twin_b), ("a", twin_a)]).locate(0.5, 1) == "a"
    assert AreaIndex([("a", twin_a), ("b", twin_b)]).locate(0.5, 1) == "a"


def test_identical_areas_tie_break_by_key() -> None:
    square = rect(0, 0, 1, 1)
    index = AreaIndex([("z", square), ("m", square), ("q", square)])
    assert index.locate(0.5, 0.5) == "m"
    assert index.locate_many([(0.5, 0.5)]) == ["m"]


def test_duplicate_keys_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate area key"):
        AreaIndex([("a", rect(0, 0, 1, 1)), ("a", rect(1, 1, 2, 2))])


def test_non_polygon_rejected() -> None:
    with pytest.raises(ValueError, match="not a polygon"):
        AreaIndex([("p", {"type": "Point", "coordinates": [0, 0]})])


# --- property: the index agrees with a brute-force shapely check ------------------------

# Coordinates on a quarter-degree grid are exact in binary, so points on edges and
# corners are really on them and boundary handling is exercised often.
grid = st.integers(0, 16).map(lambda n: n / 4)


@st.composite
def polygons(draw: st.DrawFn) -> dict:
    """Draw a rectangle or a right triangle on the grid."""
    x1, x2 = sorted(draw(st.lists(grid, min_size=2, max_size=2, unique=True)))
    y1, y2 = sorted(draw(st.lists(grid, min_size=2, max_size=2, unique=True)))
    if draw(st.booleans()):
        return rect(x1, y1, x2, y2)
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x1, y2], [x1, y1]]]}


@st.composite
def area_sets(draw: st.DrawFn) -> list[tuple[str, dict]]:
    """Draw a few possibly overlapping areas with unique keys."""
    keys = draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6, unique=True))
    return [(key, draw(polygons())) for key in keys]


def brute_force(areas: list[tuple[str, dict]], lat: float, lon: float) -> str | None:
    """Return the covering area with the smallest (area, key), using plain shapely."""
    covering = [
        (shape(geometry).area, key)
        for key, geometry in areas
        if shape(geometry).covers(Point(lon, lat))
    ]
    return min(covering)[1] if covering else None


point_coord = st.one_of(grid, st.floats(-0.5, 4.5, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(areas=area_sets(), points=st.lists(st.tuples(point_coord, point_coord), max_size=20))
def test_locate_equals_brute_force(areas: list[tuple[str, dict]], points: list) -> None:
    index = AreaIndex(areas)
    expected = [brute_force(areas, lat, lon) for lat, lon in points]
    assert [index.locate(lat, lon) for lat, lon in points] == expected
    assert index.locate_many(points) == expected

"""The grouping's anchor index: it narrows the candidates and never changes a grouping."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import anchor_index
from analysis.anchor_index import AnchorIndex, Neighbourhood
from analysis.distance import EARTH_RADIUS_M, haversine_m
from analysis.grouping import group_reports
from tests.unit.test_grouping import scenarios

# Latitudes where the box is ordinary, near the poles, and longitudes at the antimeridian.
CENTRES = [(55.6398, 13.2083), (0.0, 0.0), (89.9995, 10.0), (-89.9995, -170.0), (60.0, 179.9999)]


def _near(lat0: float, lon0: float, north_m: float, east_m: float) -> tuple[float, float]:
    """Return a position about `north_m`/`east_m` metres from a centre, wrapped into range."""
    lat = lat0 + math.degrees(north_m / EARTH_RADIUS_M)
    lat = max(-90.0, min(90.0, lat))
    cos = max(math.cos(math.radians(lat0)), 1e-6)
    lon = lon0 + math.degrees(east_m / (EARTH_RADIUS_M * cos))
    lon = (lon + 180.0) % 360.0 - 180.0
    return lat, lon


# Offsets in radii, so that many anchors fall just inside or just outside the circle.
offsets = st.tuples(st.floats(-3, 3), st.floats(-3, 3))


@settings(max_examples=300, deadline=None)
@given(
    centre=st.sampled_from(CENTRES),
    radius=st.sampled_from([1.0, 25.0, 150.0, 400.0, 2500.0]),
    anchors=st.lists(
        st.tuples(offsets, st.sampled_from(["", "torget", "stationen"]), st.booleans()),
        max_size=40,
    ),
    probe=st.tuples(offsets, st.sampled_from(["", "torget"]), st.booleans()),
)
def test_every_anchor_in_reach_is_a_candidate(centre, radius, anchors, probe) -> None:
    index = AnchorIndex(radius)
    where: dict[str, tuple[float | None, float | None, str]] = {}
    for n, ((north, east), place, positioned) in enumerate(anchors):
        lat, lon = _near(*centre, north * radius, east * radius) if positioned else (None, None)
        where[f"k{n}"] = (lat, lon, place)
        index.add(f"k{n}", lat, lon, place)
    (north, east), place, positioned = probe
    lat, lon = _near(*centre, north * radius, east * radius) if positioned else (None, None)
    found = set(index.candidates(lat, lon, place))
    for key, (a_lat, a_lon, a_place) in where.items():
        both = None not in (lat, lon, a_lat, a_lon)
        if both and haversine_m(lat, lon, a_lat, a_lon) <= radius:
            assert key in found, (key, lat, lon, a_lat, a_lon)
        if place and place == a_place:
            assert key in found


def _destination(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    """Return the point `metres` from a position along a bearing (radians) on the sphere."""
    phi, lam, angle = math.radians(lat), math.radians(lon), metres / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing)
    )
    lam2 = lam + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540.0) % 360.0 - 180.0


@settings(max_examples=2000, deadline=None)
@given(
    lat=st.floats(-89.9, 89.9),
    lon=st.floats(-179.99, 179.99),
    radius=st.floats(0.5, 20_000.0),
    bearing=st.floats(0.0, 2 * math.pi),
    share=st.floats(0.0, 1.0),
)
def test_the_box_holds_the_cell_of_every_point_within_the_radius(
    lat, lon, radius, bearing, share
) -> None:
    index = AnchorIndex(radius)
    box = index.box(lat, lon)
    if box is None:
        return  # the index scans every anchor there
    other = _destination(lat, lon, bearing, radius * share)
    if haversine_m(lat, lon, *other) > radius:
        return  # rounding put the point outside; the rule would not match it either
    row, col = index._cell_of(*other)
    assert box[0] <= row <= box[1] and box[2] <= col <= box[3], (box, row, col)


def test_a_discarded_anchor_is_no_candidate_and_empty_cells_go() -> None:
    index = AnchorIndex(100.0)
    index.add("a", 55.6, 13.2, "torget")
    index.add("b", 55.6, 13.2, "")
    index.discard("a")
    assert set(index.candidates(55.6, 13.2, "torget")) == {"b"}
    index.discard("b")
    index.discard("b")  # twice is harmless
    assert len(index) == 0 and not index.cells and not index.places


def test_a_far_anchor_is_not_a_candidate_where_the_box_applies() -> None:
    index = AnchorIndex(100.0)
    for n in range(50):
        index.add(f"k{n}", 55.0 + n * 0.01, 13.0, "")
    assert set(index.candidates(55.0, 13.0, "")) == {"k0"}


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_grouping_with_the_index_equals_grouping_by_scanning_every_anchor(scenario) -> None:
    reports, rules, pins, closed = scenario
    indexed = group_reports(reports, rules, pinned=pins, closed=closed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(anchor_index.AnchorIndex, "candidates", lambda self, *a: iter(list(self.keys)))
        scanned = group_reports(reports, rules, pinned=pins, closed=closed)
    assert indexed == scanned


def test_a_neighbourhood_reaches_by_position_within_the_radius_or_by_place() -> None:
    near = Neighbourhood([(55.6, 13.2, ""), (None, None, "torget")], radius_m=500.0)
    assert near.reaches(55.6 + 0.002, 13.2, "", 300.0)  # about 222 m north
    assert not near.reaches(55.6 + 0.004, 13.2, "", 300.0)  # about 445 m: beyond 300
    assert near.reaches(55.6 + 0.004, 13.2, "", 500.0)
    assert near.reaches(None, None, "torget", 100.0)
    assert near.reaches(40.0, 10.0, "torget", 100.0)  # a shared place reaches anywhere
    assert not near.reaches(None, None, "stationen", 500.0)
    assert not near.reaches(None, None, "", 500.0)


def test_a_neighbourhood_refuses_a_radius_beyond_its_cells() -> None:
    near = Neighbourhood([(55.6, 13.2, "")], radius_m=100.0)
    with pytest.raises(ValueError, match="exceeds"):
        near.reaches(55.6, 13.2, "", 150.0)

"""The walk plan's pure checks: route, stops and participant counts."""

from __future__ import annotations

import pytest

from server.domain_errors import Invalid
from server.walks.service import check_participants, check_route, check_stops

LINE = {"type": "LineString", "coordinates": [[13.2, 55.6], [13.21, 55.61]]}


def test_a_route_is_taken_from_a_geometry_a_feature_or_a_collection() -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": LINE}
    collection = {"type": "FeatureCollection", "features": [feature]}
    for doc in (LINE, feature, collection):
        assert check_route(doc) == LINE
    assert check_route(None) is None


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "FeatureCollection", "features": []},
        {"type": "FeatureCollection", "features": [{"geometry": LINE}, {"geometry": LINE}]},
        {"type": "Polygon", "coordinates": []},
        {"type": "LineString", "coordinates": [[13.2, 55.6]]},
        {"type": "LineString", "coordinates": [[13.2, 55.6], [True, 55.6]]},
        {"type": "LineString", "coordinates": [[13.2, 55.6], [float("nan"), 55.6]]},
        {"type": "LineString", "coordinates": [[13.2, 55.6], [181, 55.6]]},
        {"type": "LineString", "coordinates": "13.2,55.6"},
        [LINE],
    ],
)
def test_a_bad_route_is_refused(doc) -> None:
    with pytest.raises(Invalid):
        check_route(doc)


def test_stops_are_numbered_by_position_with_or_without_a_place() -> None:
    stops = check_stops([{"name": " Torget ", "lat": 55.6, "lon": 13.2}, {"name": "Parken"}])
    assert stops == [
        {"name": "Torget", "lat": 55.6, "lon": 13.2},
        {"name": "Parken", "lat": None, "lon": None},
    ]


@pytest.mark.parametrize(
    "stops",
    [
        ["Torget"],
        [{"name": ""}],
        [{"name": "Torget", "lat": 55.6}],
        [{"name": "Torget", "lat": 91, "lon": 13.2}],
        [{"name": f"Stopp {i}"} for i in range(51)],
        "Torget",
    ],
)
def test_bad_stops_are_refused(stops) -> None:
    with pytest.raises(Invalid):
        check_stops(stops)


def test_counts_default_to_zero_for_every_kind() -> None:
    counts = check_participants({"residents": 12, "police": 999})
    assert counts["residents"] == 12 and counts["others"] == 0 and len(counts) == 6


@pytest.mark.parametrize(
    "counts",
    [{"residents": 1000}, {"residents": -1}, {"police": True}, {"police": 1.5},
     {"names": 2}, ["residents"]],
)  # fmt: skip
def test_bad_counts_are_refused(counts) -> None:
    with pytest.raises(Invalid):
        check_participants(counts)

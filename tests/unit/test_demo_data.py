"""Tests for the Staffanstorp demo data generator."""

from __future__ import annotations

import math
import re
import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.demo.data import (
    CATEGORY_CODES,
    DEVICES,
    PLACE_KINDS,
    PLACES,
    TOWNS,
    DemoReport,
    generate_reports,
)
from server.devices.models import DEVICE_KINDS

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 20, 6, 30, tzinfo=TZ)
PAYLOAD_KEYS = {
    "id", "created_at", "category", "severity", "description",
    "location", "place", "people_count", "photos",
}  # fmt: skip
# Staffanstorp municipality, with Hjärup's west edge (Jakriborg) and Kyrkheddinge inside.
LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 55.60, 55.70, 13.12, 13.30
PERSONNUMMER = re.compile(r"\d{6,8}[-+]?\d{4}")


def _when(report: DemoReport) -> datetime:
    """Parse a report's created_at."""
    return datetime.fromisoformat(report.payload["created_at"])


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def reports() -> list[DemoReport]:
    """Generate the default four weeks once for the module."""
    return generate_reports(now=NOW)


def test_places_are_real_shaped_and_inside_the_municipality() -> None:
    """Check place names are unique and each place has a valid town, kind and position."""
    assert 20 <= len(PLACES) <= 30
    assert len({p.name for p in PLACES}) == len(PLACES)
    for place in PLACES:
        assert place.town in TOWNS
        assert place.kind in PLACE_KINDS
        assert LAT_MIN < place.lat < LAT_MAX and LON_MIN < place.lon < LON_MAX
    assert {p.town for p in PLACES} == set(TOWNS)


def test_devices_have_the_three_roles() -> None:
    """Check every device kind is one of the three field roles, all present."""
    assert {d.kind for d in DEVICES} == {"vaktare", "faltare", "nattvandrare"}
    assert {d.kind for d in DEVICES} <= set(DEVICE_KINDS)
    assert len({d.name for d in DEVICES}) == len(DEVICES)


def test_same_seed_same_output_and_other_seed_differs(reports: list[DemoReport]) -> None:
    """Check generation is deterministic per seed and varies between seeds."""
    assert generate_reports(now=NOW) == reports
    other = generate_reports(now=NOW, seed=2)
    assert [r.payload for r in other] != [r.payload for r in reports]
    assert {r.payload["id"] for r in other}.isdisjoint(r.payload["id"] for r in reports)


def test_volume_is_a_realistic_four_weeks(reports: list[DemoReport]) -> None:
    """Check four weeks give roughly 10–25 reports a night."""
    assert 300 <= len(reports) <= 600
    assert {r.device_name for r in reports} == {d.name for d in DEVICES}


def test_payloads_have_exactly_the_sync_shape(reports: list[DemoReport]) -> None:
    """Check every payload's keys, types and value ranges."""
    for report in reports:
        p = report.payload
        assert set(p) == PAYLOAD_KEYS
        assert str(uuid.UUID(p["id"])) == p["id"] and uuid.UUID(p["id"]).version == 4
        assert p["category"] in CATEGORY_CODES
        assert p["severity"] in (None, 1, 2, 3)
        assert isinstance(p["description"], str) and 0 < len(p["description"]) <= 200
        assert not PERSONNUMMER.search(p["description"])
        assert isinstance(p["place"], str) and p["place"]
        assert p["photos"] == []
        count = p["people_count"]
        assert count is None or (type(count) is int and count >= 1)
        if p["category"] == "samling":
            assert 3 <= count <= 25 and str(count) in p["description"]
        loc = p["location"]
        if loc is not None:
            assert set(loc) == {"lat", "lon", "accuracy_m"}
            assert LAT_MIN < loc["lat"] < LAT_MAX and LON_MIN < loc["lon"] < LON_MAX
            assert 0 < loc["accuracy_m"] <= 100


def test_created_at_offsets_match_stockholm(reports: list[DemoReport]) -> None:
    """Check created_at is RFC 3339 with the Stockholm offset of that instant."""
    for report in reports:
        when = _when(report)
        assert when.utcoffset() is not None
        assert when.utcoffset() == when.astimezone(TZ).utcoffset()
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", report.payload["created_at"]
        )


def test_ids_unique_and_times_inside_the_window(reports: list[DemoReport]) -> None:
    """Check ids are unique and every report lies in (now - weeks, now)."""
    assert len({r.payload["id"] for r in reports}) == len(reports)
    for weeks in (1, 4):
        for report in generate_reports(now=NOW, weeks=weeks):
            assert NOW - timedelta(weeks=weeks) < _when(report) < NOW


def test_naive_now_is_read_as_stockholm_time() -> None:
    """Check a naive now is treated as local Stockholm time."""
    naive = generate_reports(now=NOW.replace(tzinfo=None), weeks=1)
    assert naive == generate_reports(now=NOW, weeks=1)


def test_reports_are_night_weighted(reports: list[DemoReport]) -> None:
    """Check most reports fall 18–06 local and Fri/Sat nights are the busiest."""
    hours = [_when(r).astimezone(TZ).hour for r in reports]
    assert sum(h >= 18 or h < 6 for h in hours) > 0.7 * len(hours)
    # The night a report belongs to starts the evening before any 00–06 report.
    nights = Counter((_when(r).astimezone(TZ) - timedelta(hours=6)).weekday() for r in reports)
    weekend = (nights[4] + nights[5]) / 2
    weekday = sum(nights[d] for d in (0, 1, 2, 6)) / 4
    assert weekend > 1.5 * weekday


def test_categories_are_plausible(reports: list[DemoReport]) -> None:
    """Check brand is rare, brand/brott are mostly severe, lugnt is never severe."""
    by_category = Counter(r.payload["category"] for r in reports)
    assert 1 <= by_category["brand"] <= 15
    assert by_category["lugnt"] >= 20
    severe = [r.payload["severity"] for r in reports if r.payload["category"] in ("brand", "brott")]
    assert severe.count(3) > len(severe) / 2
    assert {r.payload["severity"] for r in reports if r.payload["category"] == "lugnt"} <= {None, 1}


def test_guards_close_about_forty_percent_of_nights_with_lugn_natt(
    reports: list[DemoReport],
) -> None:
    """Check the first guard car ends a good share of its shifts with a calm-night report."""
    closings = {
        _when(r).astimezone(TZ).date()
        for r in reports
        if r.device_name == "Väktarbil 1" and "Lugn natt" in r.payload["description"]
    }
    assert 0.2 * 28 <= len(closings) <= 0.6 * 28


def test_recurring_hotspot_within_150_m(reports: list[DemoReport]) -> None:
    """Check some place has at least five reports within 150 m in the last 28 days."""
    recent = [
        r.payload["location"]
        for r in reports
        if r.payload["location"] and _when(r) > NOW - timedelta(days=28)
    ]
    best = max(
        sum(_metres(p.lat, p.lon, loc["lat"], loc["lon"]) <= 150 for loc in recent) for p in PLACES
    )
    assert best >= 5
    stations = [p for p in PLACES if p.kind in ("station", "centrum")]
    assert all(
        sum(_metres(p.lat, p.lon, loc["lat"], loc["lon"]) <= 150 for loc in recent) >= 5
        for p in stations
        if p.town != "Kyrkheddinge"
    )


def test_some_reports_have_no_gps_fix(reports: list[DemoReport]) -> None:
    """Check a small share of reports lack a location (indoors, no fix)."""
    missing = sum(r.payload["location"] is None for r in reports)
    assert 0 < missing < 0.15 * len(reports)


def test_offsets_follow_the_october_dst_change() -> None:
    """Check reports before 25 Oct 2026 carry +02:00 and those after carry +01:00."""
    reports = generate_reports(now=datetime(2026, 11, 5, 7, 0, tzinfo=TZ))
    october = [r.payload["created_at"] for r in reports if r.payload["created_at"][5:7] == "10"]
    before = [s for s in october if s[:10] < "2026-10-25"]
    after = [s for s in october if s[:10] > "2026-10-25"]
    assert before and after
    assert all(s.endswith("+02:00") for s in before)
    assert all(s.endswith("+01:00") for s in after)
    assert all(s.endswith("+01:00") for s in (r.payload["created_at"] for r in reports[-5:]))


def test_spring_dst_gap_gives_real_instants() -> None:
    """Check a window over the March DST change yields only real, correctly offset times."""
    for report in generate_reports(now=datetime(2026, 4, 2, 7, 0, tzinfo=TZ), weeks=2):
        when = _when(report)
        assert when.utcoffset() == when.astimezone(TZ).utcoffset()
        assert when.astimezone(TZ).isoformat(timespec="seconds") == report.payload["created_at"]


def test_the_partner_organisations_have_valid_kinds_and_their_own_reports():
    from server.demo.data import PARTNERS
    from server.orgs.models import ORG_KINDS

    assert {p.kind for p in PARTNERS} == {"bostadsbolag", "vaktbolag"} <= set(ORG_KINDS)
    for partner in PARTNERS:
        assert {d.kind for d in partner.devices} <= set(DEVICE_KINDS)
        made = generate_reports(now=datetime(2026, 12, 6, 6, tzinfo=ZoneInfo("Europe/Stockholm")),
                                weeks=4, seed=2, devices=partner.devices)  # fmt: skip
        assert made and {r.device_name for r in made} == {d.name for d in partner.devices}

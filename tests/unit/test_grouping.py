"""Tests for analysis.grouping: deterministic grouping of field reports into incidents."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.distance import EARTH_RADIUS_M, haversine_m
from analysis.grouping import ReportPoint, group_reports, normalise_place
from analysis.grouping_rules import DEFAULT_RULES, NEVER, GroupRule, Rules

BASE = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
# Staffanstorp, where the demo municipality lives.
LAT0, LON0 = 55.64, 13.21
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180

# Short windows, so that a few hours of reports outgrow max_window and incremental
# regrouping really works with a partial context.
SHORT_RULES = Rules(
    default=GroupRule(150.0, timedelta(minutes=40)),
    per_category={
        "brand": GroupRule(300.0, timedelta(minutes=90)),
        "brott": GroupRule(200.0, timedelta(minutes=30)),
        "samling": GroupRule(250.0, timedelta(minutes=60)),
        "miljo": GroupRule(50.0, timedelta(minutes=60)),
        "lugnt": NEVER,
    },
    related=[frozenset({"brott", "samling"}), frozenset({"samling", "narkotika"})],
)
# Fires three times as often: most groups need two reports of one category.
CATEGORIES = ["brand", "brand", "brand", "brott", "samling", "narkotika", "miljo", "lugnt"]
PLACES = ["", "Torget", "  TORGET ", "Stationen"]


def point(dx_m: float, dy_m: float) -> tuple[float, float]:
    """Return the position dx metres east and dy metres north of Staffanstorp's centre."""
    lat = LAT0 + dy_m / METRES_PER_DEGREE
    lon = LON0 + dx_m / (METRES_PER_DEGREE * math.cos(math.radians(LAT0)))
    return lat, lon


def rp(
    rid: str,
    minutes: float,
    category: str = "brand",
    east: float | None = 0.0,
    north: float = 0.0,
    place: str = "",
) -> ReportPoint:
    """Return a report `minutes` after BASE, `east`/`north` metres from the centre."""
    when = BASE + timedelta(minutes=minutes)
    if east is None:
        return ReportPoint(rid, when, category, None, None, place)
    lat, lon = point(east, north)
    return ReportPoint(rid, when, category, lat, lon, place)


def order(report: ReportPoint) -> tuple[datetime, str]:
    """Return the canonical order of a report."""
    return (report.created_at, report.id)


def oracle(
    reports: Iterable[ReportPoint],
    rules: Rules,
    pinned: Mapping[str, str],
    closed: AbstractSet[str],
) -> dict[str, str]:
    """Return the grouping by a literal, quadratic reading of the specification."""
    keys: dict[str, str] = {}
    members: dict[str, list[ReportPoint]] = {}
    for report in sorted(reports, key=order):
        key = pinned.get(report.id)
        if key is None:
            best = None
            for candidate, group in members.items():
                named = [m for m in group if m.id == candidate]
                anchor = named[0] if named else min(group, key=order)
                rule = rules.rule_for(anchor.category)
                if candidate in closed or not rule.groups:
                    continue
                if not rules.rule_for(report.category).groups:
                    continue
                if not rules.are_related(anchor.category, report.category):
                    continue
                if not timedelta(0) <= report.created_at - anchor.created_at <= rule.window:
                    continue
                if report.has_position and anchor.has_position:
                    distance = haversine_m(report.lat, report.lon, anchor.lat, anchor.lon)
                    if distance > rule.radius_m:
                        continue
                else:
                    place = normalise_place(report.place)
                    if not place or place != normalise_place(anchor.place):
                        continue
                    distance = rule.radius_m
                rank = (distance, anchor.created_at, candidate)
                best = rank if best is None or rank < best else best
            key = report.id if best is None else best[2]
        keys[report.id] = key
        members.setdefault(key, []).append(report)
    return keys


def with_margin(times: list[datetime], rules: Rules) -> datetime | None:
    """Return the earliest new time less the largest window: a safe, wider regrouping start."""
    return min(times) - rules.max_window() if times else None


def regroup(
    known: list[ReportPoint],
    current: Mapping[str, str],
    since: datetime,
    rules: Rules,
    pins: Mapping[str, str],
    closed: AbstractSet[str],
    *,
    anchors: bool = True,
) -> dict[str, str]:
    """Return the keys after regrouping from `since`, with the context a server passes."""
    fresh = [r for r in known if r.created_at >= since]
    older = [r for r in known if r.created_at < since]
    start = since - rules.max_window()
    context = {r.id: r for r in older if r.created_at >= start}
    pinned = {rid: current[rid] for rid in context}
    pinned.update({r.id: pins[r.id] for r in fresh if r.id in pins})
    if anchors:
        by_id = {r.id: r for r in older}
        for key in set(pinned.values()):
            members = [r for r in older if current[r.id] == key]
            named = by_id.get(key)
            support = [named] if named is not None and current[key] == key else []
            support += [min(members, key=order)] if members else []
            for report in support:
                context[report.id] = report
                pinned[report.id] = current[report.id]
    result = group_reports([*fresh, *context.values()], rules, pinned, closed)
    assert all(result[rid] == current[rid] for rid in context)
    updated = dict(current)
    updated.update({r.id: result[r.id] for r in fresh})
    return updated


# --- strategies ------------------------------------------------------------------------

# Coarse grids of time and space, so equal times, shared places and near-radius distances
# all happen often: 10 min steps over 5 h, and positions either on a 50 m grid within
# 300 m of the centre or along one 1 km street, where incidents sit next to each other and
# late members of old incidents lie near new reports.
SQUARE = st.tuples(st.integers(-6, 6), st.integers(-6, 6))
STREET = st.tuples(st.integers(0, 20), st.just(0))
report_fields = st.tuples(
    st.integers(0, 30).map(lambda n: n * 10),
    st.sampled_from(CATEGORIES),
    st.sampled_from(PLACES),
    st.sampled_from([UTC, CET]),
)


@st.composite
def report_sets(draw: st.DrawFn) -> list[ReportPoint]:
    """Draw reports with distinct ids."""
    # Drawing the size first spreads it evenly; plain lists are mostly tiny.
    size = draw(st.integers(0, 24))
    names = st.text("abcdef", min_size=1, max_size=2)
    ids = draw(st.lists(names, unique=True, min_size=size, max_size=size))
    layout = draw(st.sampled_from([SQUARE, STREET]))
    reports = []
    for rid in ids:
        minutes, category, place, zone = draw(report_fields)
        # About one report in six has no fix (indoors, GPS off).
        grid = draw(st.one_of(layout, layout, layout, layout, layout, st.none()))
        when = (BASE + timedelta(minutes=minutes)).astimezone(zone)
        lat, lon = (None, None) if grid is None else point(grid[0] * 50.0, grid[1] * 50.0)
        reports.append(ReportPoint(rid, when, category, lat, lon, place))
    return reports


@st.composite
def scenarios(draw: st.DrawFn, decisions: bool = True) -> tuple:
    """Draw reports, rules, coordinator pins and closed keys."""
    reports = draw(report_sets())
    rules = draw(st.sampled_from([SHORT_RULES, DEFAULT_RULES]))
    if not decisions or not reports:
        return reports, rules, {}, frozenset()
    ids = [r.id for r in reports]
    keys = st.sampled_from([*ids, "x1", "x2"])
    pins = draw(st.dictionaries(st.sampled_from(ids), keys, max_size=4))
    closed = draw(st.frozensets(keys, max_size=3))
    return reports, rules, pins, closed


# --- rules -----------------------------------------------------------------------------


def test_same_category_nearby_joins_the_first_report():
    reports = [rp("a", 0), rp("b", 10, east=120), rp("c", 25, north=-200)]
    assert group_reports(reports, DEFAULT_RULES) == {"a": "a", "b": "a", "c": "a"}


def test_far_away_starts_its_own_incident():
    reports = [rp("a", 0), rp("b", 10, east=320)]
    assert group_reports(reports, DEFAULT_RULES) == {"a": "a", "b": "b"}


def test_window_is_inclusive_and_outside_it_starts_a_new_incident():
    # brand reaches 3 h; exactly 3 h joins, a minute later does not.
    assert group_reports([rp("a", 0), rp("b", 180)], DEFAULT_RULES)["b"] == "a"
    assert group_reports([rp("a", 0), rp("b", 181)], DEFAULT_RULES)["b"] == "b"


def test_radius_is_measured_from_the_anchor_so_incidents_do_not_creep():
    # Each report is 250 m from the previous one, inside brand's 300 m, but the third is
    # 500 m from the anchor.
    reports = [rp("a", 0), rp("b", 5, east=250), rp("c", 10, east=500)]
    assert group_reports(reports, DEFAULT_RULES) == {"a": "a", "b": "a", "c": "c"}


def test_related_categories_join():
    reports = [rp("a", 0, "samling"), rp("b", 30, "brott", east=50)]
    assert group_reports(reports, DEFAULT_RULES) == {"a": "a", "b": "a"}


def test_unrelated_categories_do_not_join():
    reports = [rp("a", 0, "brand"), rp("b", 5, "skadegorelse"), rp("c", 6, "trafik")]
    assert group_reports(reports, DEFAULT_RULES) == {"a": "a", "b": "b", "c": "c"}


def test_the_anchors_rule_decides_reach():
    # samling reaches 3 h, brott 1 h: a fight 2 h into a gathering joins it, while a
    # gathering 2 h after a fight is a new incident.
    gathering_first = [rp("a", 0, "samling"), rp("b", 120, "brott")]
    fight_first = [rp("a", 0, "brott"), rp("b", 120, "samling")]
    assert group_reports(gathering_first, DEFAULT_RULES)["b"] == "a"
    assert group_reports(fight_first, DEFAULT_RULES)["b"] == "b"


def test_closed_incident_is_not_joined():
    reports = [rp("a", 0), rp("b", 10, east=20)]
    assert group_reports(reports, DEFAULT_RULES, closed={"a"}) == {"a": "a", "b": "b"}


@pytest.mark.parametrize("category", ["lugnt", "rykten"])
def test_calm_and_rumour_reports_never_group(category):
    reports = [rp(rid, i, category, place="Torget") for i, rid in enumerate("abc")]
    reports.append(rp("d", 5, category, east=None, place="Torget"))
    assert group_reports(reports, DEFAULT_RULES) == {r.id: r.id for r in reports}


def test_a_never_grouping_category_joins_nothing_even_when_declared_related():
    rules = Rules(GroupRule(150, timedelta(hours=2)), {"lugnt": NEVER}, [{"lugnt", "ovrigt"}])
    ovrigt_first = [rp("a", 0, "ovrigt"), rp("b", 1, "lugnt")]
    lugnt_first = [rp("a", 0, "lugnt"), rp("b", 1, "ovrigt")]
    assert group_reports(ovrigt_first, rules) == {"a": "a", "b": "b"}
    assert group_reports(lugnt_first, rules) == {"a": "a", "b": "b"}


def test_reports_without_position_match_by_normalised_place_only():
    reports = [
        rp("a", 0, east=None, place="Stora  Torget"),
        rp("b", 5, east=None, place=" stora torget "),
        rp("c", 6, east=None, place="Stationen"),
        rp("d", 7, east=None, place=""),
        rp("e", 8, east=None, place=""),
    ]
    assert group_reports(reports, DEFAULT_RULES) == {
        "a": "a",
        "b": "a",
        "c": "c",
        "d": "d",
        "e": "e",
    }


def test_a_positioned_report_matches_an_unpositioned_anchor_by_place():
    reports = [rp("a", 0, east=None, place="Torget"), rp("b", 5, east=5000, place="torget")]
    assert group_reports(reports, DEFAULT_RULES)["b"] == "a"


def test_two_positions_use_distance_only_even_with_the_same_place():
    reports = [rp("a", 0, place="Centrum"), rp("b", 5, east=900, place="Centrum")]
    assert group_reports(reports, DEFAULT_RULES)["b"] == "b"


def test_place_text_is_normalised_for_unicode_case_and_whitespace():
    assert normalise_place("  O\u0308STRA\tTorget ") == normalise_place("östra torget")
    composed, decomposed = "Väster", "Va\u0308ster"
    assert normalise_place(composed) == normalise_place(decomposed)


def test_nearest_anchor_wins():
    reports = [rp("a", 0), rp("b", 1, east=400), rp("c", 2, east=250)]
    assert group_reports(reports, DEFAULT_RULES)["c"] == "b"


def test_a_real_fix_beats_a_place_name_match():
    # "p" has no position; matching it by name ranks as brand's full 300 m.
    reports = [
        rp("p", 0, east=None, place="Torget"),
        rp("q", 1, east=290),
        rp("r", 2, place="Torget"),
    ]
    assert group_reports(reports, DEFAULT_RULES)["r"] == "q"


def test_at_equal_distance_the_earliest_anchor_wins_then_the_smallest_key():
    # Place-name matches all rank as the radius, so the distances are exactly equal.
    def at(rid: str, minutes: float) -> ReportPoint:
        return rp(rid, minutes, east=None, place="Torget")

    assert (
        group_reports([at("b", 0), at("a", 1), at("c", 2)], DEFAULT_RULES, {"a": "a"})["c"] == "b"
    )
    assert (
        group_reports([at("b", 0), at("a", 0), at("c", 2)], DEFAULT_RULES, {"b": "b"})["c"] == "a"
    )


def test_pinned_reports_keep_their_key_and_are_never_moved():
    reports = [rp("a", 0), rp("b", 5, east=10), rp("c", 6, east=3000), rp("d", 7, east=-20)]
    pinned = {"b": "inc-7", "c": "a"}
    keys = group_reports(reports, DEFAULT_RULES, pinned)
    assert keys == {"a": "a", "b": "inc-7", "c": "a", "d": "a"}


def test_pins_of_absent_reports_are_ignored():
    assert group_reports([rp("a", 0)], DEFAULT_RULES, {"zz": "a"}) == {"a": "a"}


def test_a_manual_split_is_not_undone_by_later_reports():
    before = [rp("a", 0), rp("b", 10, east=100)]
    assert group_reports(before, DEFAULT_RULES)["b"] == "a"
    # The coordinator splits b off; pinning it to its own id makes it a new incident.
    later = [*before, rp("c", 20, east=150), rp("d", 30, east=130), rp("e", 40, east=-10)]
    keys = group_reports(later, DEFAULT_RULES, {"b": "b"})
    assert keys["a"] == "a"
    assert keys["b"] == "b"
    # New reports now join whichever anchor is nearest: c and d are nearer b, e nearer a.
    assert keys["c"] == keys["d"] == "b"
    assert keys["e"] == "a"


def test_when_the_seed_is_moved_out_the_earliest_member_anchors():
    reports = [rp("a", 0), rp("b", 20, east=100), rp("c", 40, east=100), rp("d", 190, east=150)]
    # Without a move d is 3 h 10 after the seed: too late for brand's 3 h window.
    assert group_reports(reports, DEFAULT_RULES)["d"] == "d"
    # The coordinator moves a to another incident and keeps b and c in "a": b anchors now.
    pinned = {"a": "other", "b": "a", "c": "a"}
    keys = group_reports(reports, DEFAULT_RULES, pinned)
    assert keys == {"a": "other", "b": "a", "c": "a", "d": "a"}


def test_moving_the_seed_out_without_pinning_the_rest_rekeys_them():
    # a is moved into the far-away incident l; nothing anchors "a" any more, so b starts
    # its own incident and c follows it.
    reports = [rp("l", -30, east=5000), rp("a", 0), rp("b", 20, east=100), rp("c", 40, east=100)]
    keys = group_reports(reports, DEFAULT_RULES, {"a": "l"})
    assert keys == {"l": "l", "a": "l", "b": "b", "c": "b"}


def test_the_report_named_by_the_key_anchors_once_it_arrives():
    # The coordinator merged the earlier report a into k's incident. Until k arrives, a
    # anchors; from then on k does, and its window (2 h for narkotika) counts from k.
    reports = [
        rp("a", 0, "narkotika", place="Parken"),
        rp("y", 30, "narkotika", east=None, place="parken"),
        rp("k", 60, "narkotika", east=None, place="Parken"),
        rp("x", 150, "narkotika", east=None, place="Parken"),
    ]
    keys = group_reports(reports, DEFAULT_RULES, {"a": "k"})
    assert keys == {"a": "k", "y": "k", "k": "k", "x": "k"}
    # Anchored at a, x (2 h 30 later) would have been too late.
    without_k = [r for r in reports if r.id != "k"]
    assert group_reports(without_k, DEFAULT_RULES, {"a": "k"})["x"] == "x"


def test_once_the_named_report_anchors_the_old_anchor_stops_matching():
    # The fire a was pinned to the gathering k. Once k arrives the incident is a gathering:
    # a later fire next to a is not related to it and starts its own incident.
    reports = [rp("a", 0, "brand"), rp("k", 10, "samling", east=50), rp("x", 20, "brand")]
    assert group_reports(reports, DEFAULT_RULES, {"a": "k"}) == {"a": "k", "k": "k", "x": "x"}


def test_input_order_and_time_zones_do_not_matter():
    reports = [rp("a", 0), rp("b", 10, east=100), rp("c", 10, east=100)]
    shifted = [
        ReportPoint(r.id, r.created_at.astimezone(CET), r.category, r.lat, r.lon) for r in reports
    ]
    assert group_reports(reversed(shifted), DEFAULT_RULES) == group_reports(reports, DEFAULT_RULES)


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        group_reports([rp("a", 0), rp("a", 1)], DEFAULT_RULES)


# --- incremental regrouping ------------------------------------------------------------


def test_context_must_carry_the_anchor_of_old_incidents():
    # Only fires group, within 300 m and 3 h. k is 3 h 20 older than r, m joined k at
    # 2 h 50, 200 m east; r is 150 m from m but 350 m and 3 h 20 from k: its own incident.
    rules = Rules(NEVER, {"brand": GroupRule(300.0, timedelta(hours=3))})
    known = [rp("k", 0), rp("m", 170, east=200), rp("r", 200, east=350), rp("n", 380, east=5000)]
    current = group_reports(known[:3], rules)
    assert current == {"k": "k", "m": "k", "r": "r"}
    since = with_margin([known[3].created_at], rules)
    assert since == known[2].created_at
    expected = group_reports(known, rules)
    assert regroup(known, current, since, rules, {}, frozenset()) == expected
    # With only [since - max_window, since) as context, m would anchor "k" and take r.
    naive = regroup(known, current, since, rules, {}, frozenset(), anchors=False)
    assert naive["r"] == "k" != expected["r"]


# --- rules tables ----------------------------------------------------------------------


def test_default_rules_table():
    assert DEFAULT_RULES.rule_for("brand") == GroupRule(300, timedelta(hours=3))
    assert DEFAULT_RULES.rule_for("okand_kod") == DEFAULT_RULES.default
    assert not DEFAULT_RULES.rule_for("lugnt").groups
    assert not DEFAULT_RULES.rule_for("rykten").groups
    assert DEFAULT_RULES.max_window() == timedelta(days=7)
    assert DEFAULT_RULES.are_related("brott", "samling")
    assert DEFAULT_RULES.are_related("samling", "brott")
    assert DEFAULT_RULES.are_related("ovrigt", "ovrigt")
    assert not DEFAULT_RULES.are_related("brand", "skadegorelse")
    # Not transitive: both relate to samling, not to each other.
    assert not DEFAULT_RULES.are_related("brott", "narkotika")


def test_related_accepts_groups_or_a_mapping():
    rule = GroupRule(100, timedelta(hours=1))
    as_groups = Rules(rule, related=[frozenset({"a", "b"}), frozenset({"a", "c"})])
    as_mapping = Rules(rule, related={"a": ["b", "c"]})
    assert as_groups == as_mapping
    assert as_groups.related == {frozenset({"a", "b"}), frozenset({"a", "c"})}
    assert as_groups.related_to("a") == {"a", "b", "c"}
    assert not as_mapping.are_related("b", "c")
    assert Rules(rule, related=as_groups.related) == as_groups


def test_max_window_ignores_rules_that_never_group():
    rules = Rules(
        NEVER, {"x": GroupRule(0, timedelta(days=30)), "y": GroupRule(1, timedelta(hours=2))}
    )
    assert rules.max_window() == timedelta(hours=2)
    assert Rules(NEVER).max_window() == timedelta(0)


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: GroupRule(-1, timedelta(hours=1)), ValueError),
        (lambda: GroupRule(math.nan, timedelta(hours=1)), ValueError),
        (lambda: GroupRule(True, timedelta(hours=1)), TypeError),
        (lambda: GroupRule(10, timedelta(hours=-1)), ValueError),
        (lambda: GroupRule(10, 3600), TypeError),
        (lambda: Rules(NEVER, related=["brott"]), TypeError),
        (lambda: Rules(NEVER, {"brand": (300, 3)}), TypeError),
        (lambda: ReportPoint("a", datetime(2026, 1, 1), "brand", None, None), ValueError),
        (lambda: ReportPoint("a", BASE, "brand", 55.6, None), ValueError),
        (lambda: ReportPoint("a", BASE, "brand", 95.0, 13.2), ValueError),
        (lambda: ReportPoint("a", BASE, "brand", math.inf, 13.2), ValueError),
        (lambda: ReportPoint("", BASE, "brand", None, None), ValueError),
        (lambda: ReportPoint("a", BASE, "brand", None, None, None), TypeError),
    ],
)
def test_invalid_values_are_rejected(build, error):
    with pytest.raises(error):
        build()


def test_haversine_matches_known_distances():
    assert haversine_m(LAT0, LON0, LAT0, LON0) == 0
    # One degree of latitude on the mean sphere.
    assert haversine_m(0, 0, 1, 0) == pytest.approx(METRES_PER_DEGREE)
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)
    east, north = point(300, 400)
    assert haversine_m(LAT0, LON0, east, north) == pytest.approx(500, abs=0.5)


# --- properties ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_matches_a_literal_reading_of_the_specification(scenario):
    reports, rules, pins, closed = scenario
    assert group_reports(reports, rules, pins, closed) == oracle(reports, rules, pins, closed)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_any_input_order_gives_the_same_mapping(scenario, data):
    reports, rules, pins, closed = scenario
    shuffled = data.draw(st.permutations(reports))
    expected = group_reports(reports, rules, pins, closed)
    assert group_reports(shuffled, rules, pins, closed) == expected


@settings(max_examples=200, deadline=None)
@given(scenarios(decisions=False))
def test_every_report_gets_one_key_naming_a_seed_of_the_input(scenario):
    reports, rules, _, _ = scenario
    keys = group_reports(reports, rules)
    assert set(keys) == {r.id for r in reports}
    # Every key is the id of a report in the input, and that report is its own seed.
    assert all(keys[key] == key for key in keys.values())


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_incremental_batches_give_the_same_mapping_as_one_pass(scenario, data):
    reports, rules, pins, closed = scenario
    arrival = data.draw(st.permutations(reports))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(arrival)), max_size=4)))
    # recompute_since keeps a one-window margin; regrouping from the first new report
    # alone must be enough as well.
    margin = data.draw(st.booleans())
    known: list[ReportPoint] = []
    current: dict[str, str] = {}
    for start, end in itertools.pairwise([0, *cuts, len(arrival)]):
        batch = arrival[start:end]
        known += batch
        times = [r.created_at for r in batch]
        since = with_margin(times, rules) if margin else min(times, default=None)
        if since is None:
            continue
        current = regroup(known, current, since, rules, pins, closed)
        assert current == group_reports(known, rules, pins, closed)
    assert current == group_reports(reports, rules, pins, closed)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_regrouping_with_nothing_new_changes_nothing(scenario, data):
    reports, rules, pins, closed = scenario
    keys = group_reports(reports, rules, pins, closed)
    if reports:
        since = data.draw(st.sampled_from(reports)).created_at
        assert regroup(reports, keys, since, rules, pins, closed) == keys
    # Confirming keys (pinning reports where they already are) changes nothing either.
    confirmed = data.draw(st.sets(st.sampled_from(sorted(keys)))) if keys else set()
    pinned = {**{rid: keys[rid] for rid in confirmed}, **pins}
    assert group_reports(reports, rules, pinned, closed) == keys


@settings(max_examples=200, deadline=None)
@given(scenarios(decisions=False), st.frozensets(st.text("abcdef", min_size=1, max_size=2)))
def test_members_are_within_reach_of_their_anchor_and_seeds_had_no_choice(scenario, closed):
    reports, rules, _, _ = scenario
    keys = group_reports(reports, rules, closed=closed)
    by_id = {r.id: r for r in reports}

    def reaches(anchor: ReportPoint, report: ReportPoint) -> bool:
        """Return whether the report may join the incident anchored at `anchor`."""
        rule = rules.rule_for(anchor.category)
        if anchor.id in closed or not (rule.groups and rules.rule_for(report.category).groups):
            return False
        if not rules.are_related(anchor.category, report.category):
            return False
        if not timedelta(0) <= report.created_at - anchor.created_at <= rule.window:
            return False
        if report.has_position and anchor.has_position:
            return haversine_m(report.lat, report.lon, anchor.lat, anchor.lon) <= rule.radius_m
        place = normalise_place(report.place)
        return bool(place) and place == normalise_place(anchor.place)

    seeds = [by_id[key] for key in set(keys.values())]
    for report in reports:
        if keys[report.id] != report.id:
            assert reaches(by_id[keys[report.id]], report)
        else:
            earlier = [s for s in seeds if order(s) < order(report)]
            assert not any(reaches(seed, report) for seed in earlier)


# --- rules from a JSON file (LAGESBILD_GROUPING_RULES) --------------------------------------


def test_rules_from_json_override_the_defaults_and_keep_the_rest():
    from analysis.grouping_rules import NEVER, rules_from_json

    rules = rules_from_json(
        {
            "default": {"radius_m": 80, "window_minutes": 30},
            "categories": {"brand": {"radius_m": 500, "window_minutes": 240}, "trafik": "never"},
            "related": [["brand", "skadegorelse"]],
        }
    )
    assert rules.default == GroupRule(80.0, timedelta(minutes=30))
    assert rules.rule_for("brand") == GroupRule(500.0, timedelta(hours=4))
    assert rules.rule_for("trafik") == NEVER
    assert rules.rule_for("miljo") == DEFAULT_RULES.rule_for("miljo")
    assert rules.are_related("brand", "skadegorelse")
    assert not rules.are_related("samling", "brott")
    assert rules_from_json({}) == DEFAULT_RULES


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "JSON object"),
        ({"colour": 1}, "unknown keys: colour"),
        ({"default": {"radius_m": 10}}, "default: give radius_m and window_minutes"),
        ({"default": {"radius_m": -1, "window_minutes": 5}}, "radius_m 0–10000"),
        ({"categories": {"brand": {"radius_m": "far", "window_minutes": 5}}}, "categories.brand"),
        ({"categories": []}, "categories must be an object"),
        ({"related": [["brand", 3]]}, "related must be a list of lists"),
        ({"related": "brand"}, "related must be a list of lists"),
    ],
)
def test_bad_rules_are_refused_with_what_is_wrong(doc, words):
    from analysis.grouping_rules import rules_from_json

    with pytest.raises(ValueError, match=words):
        rules_from_json(doc)

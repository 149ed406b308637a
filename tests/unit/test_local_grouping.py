"""Tests for analysis.local_grouping: regrouping only what a pass can affect is exact."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import Phase, assume, find, given, settings
from hypothesis import strategies as st

from analysis.grouping import ReportPoint, group_reports
from analysis.grouping_rules import Rules
from analysis.local_grouping import StoredReport, affected, regroup_locally
from tests.unit.test_grouping import SHORT_RULES, order, point, rp, scenarios


def stored_state(
    known: list[ReportPoint], rules: Rules, pins: Mapping[str, str], closed: AbstractSet[str]
) -> dict[str, str]:
    """Return the keys earlier passes stored: the grouping of the known reports."""
    return group_reports(known, rules, pins, closed)


def described(
    reports: list[ReportPoint],
    keys: Mapping[str, str],
    pinned: AbstractSet[str],
) -> list[StoredReport]:
    """Describe reports with their stored keys (None: pending) and pins."""
    return [StoredReport(r, keys.get(r.id), r.id in pinned and r.id in keys) for r in reports]


def after(
    given: list[StoredReport],
    rules: Rules,
    closed: AbstractSet[str],
    extra: AbstractSet[str] = frozenset(),
) -> dict[str, str]:
    """Return every report's key after a local regroup: C regrouped, the rest as stored."""
    new = regroup_locally(given, rules, closed, extra)
    return {s.point.id: new.get(s.point.id, s.key) for s in given}  # type: ignore[misc]


@st.composite
def passes(draw: st.DrawFn) -> tuple:
    """Draw a stored grouping, the late reports of a pass, and whether the pass is windowed.

    The late reports are a random part or the earliest few (phones syncing a shift late),
    so they often sort before seeds and old members alike; one known report may be edited
    (moved in time and space), which sends its old key along as an extra key.
    """
    reports, rules, pins, closed = draw(scenarios())
    if len(reports) < 2:
        reports = [rp("p", 0), rp("q", 10, east=20.0)]
    ordered = sorted(reports, key=order)
    if draw(st.booleans()):
        late = set(draw(st.sets(st.sampled_from([r.id for r in reports]), min_size=1)))
    else:
        late = {r.id for r in ordered[: draw(st.integers(1, max(1, len(ordered) // 3)))]}
    known = [r for r in reports if r.id not in late]
    # A pending report has no incident, so it cannot be pinned.
    pins = {rid: key for rid, key in pins.items() if rid not in late}
    edited: ReportPoint | None = None
    movable = [r for r in known if r.id not in pins]
    if movable and draw(st.booleans()):
        old = draw(st.sampled_from(movable))
        minutes = draw(st.integers(-120, 120))
        lat, lon = point(draw(st.integers(-6, 6)) * 50.0, draw(st.integers(-6, 6)) * 50.0)
        edited = replace(
            old, created_at=old.created_at + timedelta(minutes=minutes), lat=lat, lon=lon
        )
    return reports, known, late, pins, closed, rules, edited


def scenario_keys(scenario: tuple) -> tuple[list[StoredReport], dict[str, str], frozenset]:
    """Return the described reports of a pass, the full grouping after it, the extra keys."""
    reports, known, _, pins, closed, rules, edited = scenario
    keys = stored_state(known, rules, pins, closed)
    extra: frozenset[str] = frozenset()
    current = list(reports)
    if edited is not None:
        # The edit leaves its incident (its key is dropped) and waits like a new report.
        extra = frozenset({keys.pop(edited.id)})
        current = [edited if r.id == edited.id else r for r in reports]
    return described(current, keys, set(pins)), group_reports(current, rules, pins, closed), extra


@settings(max_examples=400, deadline=None)
@given(passes())
def test_the_local_regroup_equals_the_full_regroup(scenario):
    rules, closed = scenario[5], scenario[4]
    given_, expected, extra = scenario_keys(scenario)
    assert after(given_, rules, closed, extra) == expected


@settings(max_examples=200, deadline=None)
@given(passes(), st.data())
def test_a_windowed_pass_equals_the_full_regroup_of_its_window(scenario, data):
    # The server's pass: the reports from the earliest pending one on, and before that only
    # the anchors of the incidents still open, pinned (the full regroup's input).
    reports, closed, rules, edited = scenario[0], scenario[4], scenario[5], scenario[6]
    given_, _, extra = scenario_keys(scenario)
    pending = [s.point for s in given_ if s.key is None]
    since = min(r.created_at for r in pending)
    if edited is not None:
        # The server starts at the old incident's first report, the edit's old time included.
        old = next(r for r in reports if r.id == edited.id)
        members = [s.point.created_at for s in given_ if s.key in extra]
        since = min(since, old.created_at, *members)
    start = since - rules.max_window()
    window = [s for s in given_ if s.point.created_at >= since]
    older = [s for s in given_ if s.point.created_at < since]
    context: dict[str, StoredReport] = {}
    for key in {s.key for s in older}:
        members = sorted((s for s in older if s.key == key), key=lambda s: order(s.point))
        named = [s for s in members if s.point.id == key]
        for s in [*named, members[0]]:
            if s.point.created_at >= start:
                context[s.point.id] = replace(s, pinned=True)
    # The windowed regroup is a faithful oracle only while the window holds every anchor
    # of the incidents it regroups. An incident whose anchor is older than the longest
    # window would be re-anchored on a later member there, and reports the full grouping
    # keeps apart would be moved into it; the local pass keeps them, as the full grouping
    # does (test_the_local_regroup_equals_the_full_regroup checks that case).
    assume(all(anchor_of(key, given_).created_at >= start for key in window_keys(window)))
    full_input = [*window, *context.values()]
    full_pins = {s.point.id: s.key for s in full_input if s.pinned}
    expected = group_reports([s.point for s in full_input], rules, full_pins, closed)
    got = after(full_input, rules, closed, extra)
    assert got == expected


def window_keys(window: list[StoredReport]) -> set[str]:
    """Return the stored keys of the window's reports."""
    return {s.key for s in window if s.key is not None}


def anchor_of(key: str, reports: list[StoredReport]) -> ReportPoint:
    """Return an incident's anchor: the report its key names, else its earliest member."""
    members = sorted((s.point for s in reports if s.key == key), key=order)
    named = [p for p in members if p.id == key]
    return named[0] if named else members[0]


def strict(scenario: tuple) -> bool:
    """Tell whether a pass regroups some but not all reports and keeps some stored keys."""
    rules = scenario[5]
    given_, _, extra = scenario_keys(scenario)
    found = affected(given_, rules, extra)
    outside = [s for s in given_ if s.point.id not in found.regroup and not s.pinned]
    return bool(outside) and any(s.key is not None and s.point.id in found.regroup for s in given_)


# Search without shrinking: any example proves the point, the smallest is not needed.
_SEARCH = settings(max_examples=2000, database=None, phases=[Phase.generate])


def test_the_generated_passes_regroup_a_strict_part_often():
    # Without such passes the equality above would hold trivially (C = every report).
    found = find(passes(), strict, settings=_SEARCH)
    assert strict(found)


def test_the_generated_passes_include_a_rekey_outside_the_pending_reports():
    # A late report sorting before a seed moves that seed's incident to a new key, while
    # some unpinned stored reports stay outside C.
    def rekeyed(scenario: tuple) -> bool:
        given_, expected, _ = scenario_keys(scenario)
        moved = [s for s in given_ if s.key is not None and expected[s.point.id] != s.key]
        return bool(moved) and strict(scenario)

    found = find(passes(), rekeyed, settings=_SEARCH)
    assert rekeyed(found)


# --- worked examples --------------------------------------------------------------------


def test_a_late_report_far_back_regroups_only_its_scene():
    # Two scenes a kilometre apart; a late report at the first, before its seed.
    reports = [
        rp("a", 0),
        rp("b", 10, east=20.0),
        rp("x", 5, east=1000.0),
        rp("y", 15, east=1010.0),
    ]
    keys = group_reports(reports, SHORT_RULES)
    late = rp("l", -5, east=10.0)
    given_ = [*described(reports, keys, set()), StoredReport(late, None)]
    found = affected(given_, SHORT_RULES)
    assert found.regroup == {"l", "a", "b"}
    assert found.keep == frozenset()
    assert (
        after(given_, SHORT_RULES, frozenset())
        == group_reports([*reports, late], SHORT_RULES)
        == {"a": "l", "b": "l", "l": "l", "x": "x", "y": "x"}
    )


def test_a_pinned_member_of_a_touched_incident_comes_along_and_keeps_its_key():
    # The coordinator pinned "p" into a's incident; a late report joins that incident.
    reports = [rp("a", 0), rp("p", 20, east=800.0)]
    pins = {"p": "a"}
    keys = group_reports(reports, SHORT_RULES, pins)
    late = rp("l", 30, east=10.0)
    given_ = [*described(reports, keys, set(pins)), StoredReport(late, None)]
    found = affected(given_, SHORT_RULES)
    assert found.regroup == {"l"}
    assert found.keep == {"a", "p"}
    assert after(given_, SHORT_RULES, frozenset()) == {"a": "a", "p": "a", "l": "a"}


def test_a_positionless_report_reaches_by_place_text():
    # No fix on the late report: it meets the incident at "Torget" by name only, and the
    # report at another square stays out of C.
    reports = [
        rp("a", 0, place="Torget"),
        rp("b", 5, east=None, place=" torget"),
        rp("c", 0, east=2000.0),
    ]
    keys = group_reports(reports, SHORT_RULES)
    late = rp("l", -10, east=None, place="TORGET")
    given_ = [*described(reports, keys, set()), StoredReport(late, None)]
    found = affected(given_, SHORT_RULES)
    assert "c" not in found.regroup and {"l", "a", "b"} <= found.regroup
    assert after(given_, SHORT_RULES, frozenset()) == group_reports([*reports, late], SHORT_RULES)


def test_a_closed_incident_is_not_joined_by_the_local_regroup_either():
    reports = [rp("a", 0), rp("b", 10, east=30.0)]
    keys = group_reports(reports, SHORT_RULES)
    late = rp("l", 20, east=10.0)
    given_ = [*described(reports, keys, {"a", "b"}), StoredReport(late, None)]
    got = after(given_, SHORT_RULES, frozenset({"a"}))
    assert got == {"a": "a", "b": "a", "l": "l"}


def test_a_pin_without_a_key_and_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="needs a key"):
        StoredReport(rp("a", 0), None, pinned=True)
    with pytest.raises(ValueError, match="duplicate"):
        affected([StoredReport(rp("a", 0), None), StoredReport(rp("a", 5), "a")], SHORT_RULES)


def test_nothing_pending_regroups_nothing():
    reports = [rp("a", 0), rp("b", 10, east=30.0)]
    keys = group_reports(reports, SHORT_RULES)
    found = affected(described(reports, keys, set()), SHORT_RULES)
    assert found.regroup == frozenset() and found.keep == frozenset()


def test_times_at_the_ends_of_the_calendar_do_not_overflow():
    rules = SHORT_RULES
    early = ReportPoint(
        "e", datetime.min.replace(tzinfo=rp("x", 0).created_at.tzinfo), "brand", 55.6, 13.2
    )
    late = ReportPoint(
        "z", datetime.max.replace(tzinfo=rp("x", 0).created_at.tzinfo), "brand", 55.6, 13.2
    )
    found = affected([StoredReport(early, None), StoredReport(late, "z")], rules)
    assert found.regroup == {"e"}


def test_an_incident_anchored_before_the_window_does_not_pull_its_neighbours_in():
    # Found by hypothesis: report "a" anchors incident "a" for good, hours before the
    # pass; a coordinator pinned "aa" into it. "cc" at the same place as "aa" could not
    # reach "a" and started its own incident. A pass that no longer sees "a" must not
    # re-anchor the incident on "aa" and pull "cc" in, as a windowed full regroup did.
    at = datetime(2026, 11, 21, 20, 40, tzinfo=UTC)
    old = ReportPoint("a", at - timedelta(hours=3), "brand", None, None, "Torget")
    aa = ReportPoint("aa", at, "brand", None, None, "Torget")
    ae = ReportPoint("ae", at, "brand", 55.64, 13.21)
    cc = ReportPoint("cc", at, "brand", None, None, "Torget")
    truth = group_reports([old, aa, ae, cc], SHORT_RULES, {"aa": "a"})
    assert (truth["cc"], truth["ae"]) == ("cc", "ae")
    seen = [
        StoredReport(aa, "a", pinned=True),
        StoredReport(ae, None),
        StoredReport(cc, "cc"),
    ]
    assert after(seen, SHORT_RULES, frozenset()) == {"aa": "a", "ae": "ae", "cc": "cc"}
    # The windowed full regroup (the old server pass) moved "cc" into "a".
    assert group_reports([aa, ae, cc], SHORT_RULES, {"aa": "a"})["cc"] == "a"

"""Tests for analysis.twins: a new report twin to a seed renames the incident, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from analysis.grouping import ReportPoint, group_reports, normalise_place
from analysis.grouping_rules import DEFAULT_RULES, Rules
from analysis.local_grouping import StoredReport
from analysis.twins import is_twin, place_reach, places_unread, twin_seed
from tests.unit.test_grouping import PLACES, rp, scenarios


@st.composite
def twin_passes(draw: st.DrawFn) -> tuple:
    """Draw a stored grouping and a new report copied from a stored one with a smaller id.

    The copy keeps time, category, position and place (so it is usually a twin); its id
    sorts just before the original's or before every id, so reports may lie between.
    """
    reports, rules, pins, closed = draw(scenarios())
    if not reports:
        reports = [rp("b", 0), rp("c", 5, east=20.0)]
    original = draw(st.sampled_from(reports))
    taken = {r.id for r in reports}
    choices = [i for i in ("0" + original.id, original.id[:-1], "!") if i and i not in taken]
    new = replace(original, id=draw(st.sampled_from(choices)))
    typed = draw(st.sampled_from(["as is", "as typed", "another"]))
    if typed == "as typed":
        # The place text as typed differently: only its normalised form must match.
        new = replace(new, place=new.place.upper() + " ")
    elif typed == "another":
        # Another place text, often one that other reports carry: a twin only at a position,
        # with no report without one near in time (which could be named like either).
        own = normalise_place(new.place)
        others = [p for p in [*PLACES, "Kiosken"] if normalise_place(p) != own]
        new = replace(new, place=draw(st.sampled_from(others)))
    return reports, new, rules, pins, closed


def decide(reports, new, rules, pins: Mapping[str, str], closed) -> tuple[dict, str | None]:
    """Return the stored keys and what `twin_seed` says about the new report."""
    keys = group_reports(reports, rules, pins, closed)
    stored = [StoredReport(r, keys[r.id], r.id in pins) for r in reports]
    same = [s for s in stored if s.point.created_at == new.created_at]
    elsewhere = {s.key for s in stored if s.point.created_at != new.created_at}
    unread = places_unread(new, reports, rules)
    return keys, twin_seed(new, same, rules, closed, set(pins.values()), elsewhere, unread)


def by_position_only(reports, new, rules) -> bool:
    """Tell whether the new report is a twin of a stored one only by the relaxed rule 1."""
    return any(
        is_twin(new, r, rules, positions_only=True) and not is_twin(new, r, rules) for r in reports
    )


@settings(max_examples=600, deadline=None)
@given(twin_passes())
def test_a_twin_seed_is_renamed_and_nothing_else_changes(scenario):
    reports, new, rules, pins, closed = scenario
    keys, key = decide(reports, new, rules, pins, closed)
    if key is None:
        return
    expected = {rid: new.id if k == key else k for rid, k in keys.items()}
    expected[new.id] = new.id
    assert group_reports([*reports, new], rules, pins, closed) == expected


def accepted(scenario: tuple) -> bool:
    """Tell whether `twin_seed` takes the shortcut on a scenario with other reports about."""
    reports, new, rules, pins, closed = scenario
    _, key = decide(reports, new, rules, pins, closed)
    return key is not None and len(reports) >= 4


def refused_with_a_twin(scenario: tuple) -> bool:
    """Tell whether `twin_seed` refuses a real twin of a seed because of what lies around it."""
    reports, new, rules, pins, closed = scenario
    keys, key = decide(reports, new, rules, pins, closed)
    seeds = [r for r in reports if keys[r.id] == r.id and is_twin(new, r, rules)]
    return key is None and bool(seeds)


def accepted_by_position(scenario: tuple) -> bool:
    """Tell whether `twin_seed` renames for a twin with another place text among others."""
    reports, new, rules, *_ = scenario
    return accepted(scenario) and by_position_only(reports, new, rules)


def refused_for_a_place_read(scenario: tuple) -> bool:
    """Tell whether a twin by position alone is refused because a report has no position."""
    reports, new, rules, pins, closed = scenario
    keys, key = decide(reports, new, rules, pins, closed)
    return (
        key is None
        and not places_unread(new, reports, rules)
        and any(
            keys[r.id] == r.id
            and is_twin(new, r, rules, positions_only=True)
            and not is_twin(new, r, rules)
            for r in reports
        )
    )


_SEARCH = settings(max_examples=3000, database=None, phases=[Phase.generate])


def test_the_generated_passes_take_the_shortcut_among_other_reports():
    # Without accepted cases the property above would hold trivially.
    assert accepted(find(twin_passes(), accepted, settings=_SEARCH))


def test_the_generated_passes_also_refuse_real_twins():
    assert refused_with_a_twin(find(twin_passes(), refused_with_a_twin, settings=_SEARCH))


def test_the_generated_passes_rename_for_twins_with_another_place_text():
    assert accepted_by_position(find(twin_passes(), accepted_by_position, settings=_SEARCH))


def test_the_generated_passes_refuse_them_when_a_report_has_no_position():
    found = find(twin_passes(), refused_for_a_place_read, settings=_SEARCH)
    assert refused_for_a_place_read(found)


# --- worked examples --------------------------------------------------------------------


def stored(points: list[ReportPoint], rules: Rules = DEFAULT_RULES) -> list[StoredReport]:
    """Return reports with the keys their grouping gives, none pinned."""
    keys = group_reports(points, rules)
    return [StoredReport(p, keys[p.id]) for p in points]


def test_the_benchmarks_rekey_is_a_rename():
    # Every report at one place and second: the seed is the smallest id.
    scene = stored([rp("m", 0), rp("n", 0), rp("o", 0)])
    assert twin_seed(rp("k", 0), scene, DEFAULT_RULES, set(), set(), set()) == "m"


def test_a_report_between_the_two_ids_refuses_it():
    # "l" sits between "k" and "m" at the same second, in an incident of its own
    # (a different category), so the order around it could change.
    scene = stored([rp("l", 0, "trafik"), rp("m", 0), rp("n", 0)])
    assert twin_seed(rp("k", 0), scene, DEFAULT_RULES, set(), set(), set()) is None


def test_a_pinned_key_between_the_two_ids_at_that_second_refuses_it():
    # A coordinator placed "z" of the same second in the incident keyed "l" (a split: the
    # key names no report), so "z" anchors it; "l" lies between "k" and "m", and a tie
    # between the two anchors could flip.
    scene = [StoredReport(rp("m", 0), "m"), StoredReport(rp("z", 0, east=40.0), "l", True)]
    assert twin_seed(rp("k", 0), scene, DEFAULT_RULES, set(), set(), set()) is None


def test_anything_else_that_differs_refuses_it():
    scene = stored([rp("m", 0, place="Torget")])
    rules, none = DEFAULT_RULES, set()
    assert twin_seed(rp("k", 0, place=" torget"), scene, rules, none, none, none) == "m"
    for other in (
        rp("k", 1, place="Torget"),  # another minute
        rp("k", 0, "skadegorelse", place="Torget"),  # another category
        rp("k", 0, east=1.0, place="Torget"),  # another position
        rp("k", 0, place="Stortorget"),  # another place
        rp("n", 0, place="Torget"),  # sorts after the seed
    ):
        assert twin_seed(other, scene, rules, none, none, none) is None


def test_a_pinned_closed_or_moved_seed_refuses_it():
    seed, new, none = rp("m", 0), rp("k", 0), set()
    rules = DEFAULT_RULES
    assert twin_seed(new, [StoredReport(seed, "m", pinned=True)], rules, none, none, none) is None
    assert twin_seed(new, [StoredReport(seed, "m")], rules, {"m"}, none, none) is None
    assert twin_seed(new, [StoredReport(seed, "m")], rules, none, {"m"}, none) is None
    assert twin_seed(new, [StoredReport(seed, "a")], rules, none, none, none) is None
    assert twin_seed(new, [StoredReport(seed, "m")], rules, none, none, {"k"}) is None


def test_a_category_that_never_groups_refuses_it():
    scene = stored([rp("m", 0, "lugnt")])
    assert twin_seed(rp("k", 0, "lugnt"), scene, DEFAULT_RULES, set(), set(), set()) is None


def test_twins_without_a_position_or_a_place_refuse_it():
    # Neither can reach the other, so the old seed keeps its own incident.
    scene = stored([rp("m", 0, east=None)])
    assert twin_seed(rp("k", 0, east=None), scene, DEFAULT_RULES, set(), set(), set()) is None


def test_another_place_text_at_the_same_position_is_a_twin_when_no_place_is_read():
    scene = stored([rp("m", 0, place="Torget"), rp("n", 1, east=30.0, place="Kiosken")])
    new = rp("k", 0, place="Stortorget")
    unread = places_unread(new, [p.point for p in scene], DEFAULT_RULES)
    assert unread
    assert twin_seed(new, scene, DEFAULT_RULES, set(), set(), set()) is None  # strict rule 1
    assert twin_seed(new, scene, DEFAULT_RULES, set(), set(), set(), unread) == "m"
    # The position still must match, and the place text alone never makes a twin.
    moved = rp("k", 0, east=1.0, place="Stortorget")
    assert twin_seed(moved, scene, DEFAULT_RULES, set(), set(), set(), True) is None
    nowhere = stored([rp("m", 0, east=None, place="Torget")])
    other = rp("k", 0, east=None, place="Stortorget")
    assert twin_seed(other, nowhere, DEFAULT_RULES, set(), set(), set(), True) is None


def test_a_report_without_a_position_within_reach_in_time_reads_places():
    # brand reaches 3 h; a related category's longer window would reach further.
    related, window = place_reach("brand", DEFAULT_RULES)
    assert "brand" in related
    new = rp("k", 0, place="Stortorget")
    edge = window.total_seconds() / 60
    for minutes in (-edge, -1, 0, 1, edge):
        assert not places_unread(new, [rp("x", minutes, east=None)], DEFAULT_RULES), minutes
    for minutes in (-edge - 1, edge + 1):
        assert places_unread(new, [rp("x", minutes, east=None)], DEFAULT_RULES), minutes
    unrelated = next(c for c in ("lugnt", "trafik", "miljo") if c not in related)
    assert places_unread(new, [rp("x", 0, unrelated, east=None)], DEFAULT_RULES)
    assert places_unread(new, [rp("x", 0, east=5.0)], DEFAULT_RULES)


def test_a_place_read_in_the_grouping_would_tell_them_apart():
    # Why the relaxed rule needs `places_unread`: a report without a position named like
    # the new seed's place joins it, though it never reached the old seed.
    old, new = rp("m", 0, place="Torget"), rp("k", 0, place="Stortorget")
    by_name = rp("z", 10, east=None, place="Stortorget")
    before = group_reports([old, by_name], DEFAULT_RULES)
    after = group_reports([old, by_name, new], DEFAULT_RULES)
    assert before["z"] == "z" and after["z"] == "k"
    assert not places_unread(new, [old, by_name], DEFAULT_RULES)


def renames_as_regrouping(reports: list[ReportPoint], new: ReportPoint) -> bool:
    """Tell whether `twin_seed`'s answer agrees with regrouping everything (DEFAULT_RULES)."""
    _, key = decide(reports, new, DEFAULT_RULES, {}, frozenset())
    keys = group_reports(reports, DEFAULT_RULES)
    if key is None:
        return True
    expected = {rid: new.id if k == key else k for rid, k in keys.items()}
    return group_reports([*reports, new], DEFAULT_RULES) == {**expected, new.id: new.id}


def test_a_related_category_s_longer_window_counts():
    # A gathering (samling, 3 h) named "Kiosken" two hours before a crime (brott, 1 h)
    # there: the new seed named "Kiosken" joins the gathering, the old seed did not.
    x = rp("x", -120, "samling", east=None, place="Kiosken")
    s, p = rp("s", 0, "brott", place="Torget"), rp("p", 0, "brott", place="Kiosken")
    assert group_reports([x, s, p], DEFAULT_RULES)["p"] == "x"
    assert not places_unread(p, [x, s], DEFAULT_RULES)
    assert renames_as_regrouping([x, s], p)


def test_a_related_category_without_a_position_after_the_seed_counts():
    # A gathering named like the old seed joins it; under the new name it would not.
    s, p = rp("s", 0, "brott", place="Torget"), rp("p", 0, "brott", place="Kiosken")
    x = rp("x", 10, "samling", east=None, place="Torget")
    assert group_reports([s, x], DEFAULT_RULES)["x"] == "s"
    assert group_reports([s, x, p], DEFAULT_RULES)["x"] == "x"
    assert not places_unread(p, [s, x], DEFAULT_RULES)
    assert renames_as_regrouping([s, x], p)

"""Tests for sync.merge: per-field last-writer-wins merge of device edits."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.merge import (
    DEVICE_FIELDS,
    Edit,
    FieldState,
    Outcome,
    ReportState,
    apply_batch,
    canonical,
    clocks_to_json,
    field_key,
    initial_state,
    merge,
    state_from_columns,
    values_of,
)

BASE = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
ZONES = [UTC, CET, timezone(timedelta(hours=-5))]
IDS = ["r1", "r2", "r3"]
PHOTOS = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(3)]

# Few choices per field, so equal values, equal times and equal revisions all happen often.
FIELD_VALUES = {
    "created_at": st.sampled_from(
        ["2026-11-21T02:13:00.000+01:00", "2026-11-21T02:14:00.000+01:00"]
    ),
    "category": st.sampled_from(["fire", "fight", "other"]),
    "severity": st.none() | st.integers(1, 3),
    "description": st.text(alphabet="abå ", max_size=3),
    "location": st.none()
    | st.fixed_dictionaries(
        {
            "lat": st.sampled_from([59.33, 59.34]),
            "lon": st.just(18.06),
            "accuracy_m": st.none() | st.sampled_from([5.0, 12.5]),
        }
    ),
    "place": st.sampled_from(["", "Torget", "Stationen"]),
    "people_count": st.none() | st.integers(0, 2),
    "photos": st.lists(st.sampled_from(PHOTOS), max_size=2, unique=True),
}
# Coordinator keys sometimes ride along in the payload; the merge must ignore them.
values_st = st.fixed_dictionaries(
    FIELD_VALUES, optional={"status": st.sampled_from(["new", "closed"]), "incident_id": st.just(7)}
)
# The same instant is expressed in different offsets to exercise UTC normalisation.
times_st = st.builds(
    lambda minutes, zone: (BASE + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(0, 3),
    st.sampled_from(ZONES),
)
edits_st = st.builds(Edit, values_st, times_st, st.integers(0, 2))
items_st = st.lists(st.tuples(st.sampled_from(IDS), edits_st), max_size=12)


def make_values(**overrides: object) -> dict[str, object]:
    """Return a complete, valid report payload with some fields overridden."""
    values: dict[str, object] = {
        "created_at": "2026-11-21T02:13:00.000+01:00",
        "category": "fire",
        "severity": 2,
        "description": "Rök från källaren",
        "location": {"lat": 59.33, "lon": 18.06, "accuracy_m": 8.0},
        "place": "Torget",
        "people_count": 3,
        "photos": [PHOTOS[0]],
    }
    values.update(overrides)
    return values


def at(minutes: int) -> datetime:
    """Return BASE shifted by some minutes."""
    return BASE + timedelta(minutes=minutes)


def fold(items: list[tuple[str, Edit]]) -> dict[str, ReportState]:
    """Return the states reached by merging the items one by one."""
    states: dict[str, ReportState] = {}
    for report_id, edit in items:
        result = merge(states.get(report_id), edit)
        assert result.state is not None
        states[report_id] = result.state
    return states


def through_storage(state: ReportState) -> ReportState:
    """Return the state after a round trip through value columns and a JSON clocks column."""
    clocks = json.loads(json.dumps(clocks_to_json(state)))
    return state_from_columns(values_of(state), clocks)


def register(edit: Edit, name: str) -> FieldState:
    """Return the register an edit proposes for one field."""
    return FieldState(edit.values[name], edit.edited_at, edit.revision)


# --- properties ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(items=items_st, data=st.data())
def test_any_order_duplication_and_batching_converge(items, data):
    reference = fold(items)
    copies = data.draw(st.lists(st.sampled_from(items), max_size=6)) if items else []
    arrival = data.draw(st.permutations(items + copies))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(arrival)), max_size=4)))
    bounds = [0, *cuts, len(arrival)]
    stored: dict[str, ReportState] = {}
    for start, end in itertools.pairwise(bounds):
        batch = apply_batch(stored, set(), arrival[start:end])
        # The server persists only `final`, so clock-only changes must be in it too.
        stored.update({rid: through_storage(state) for rid, state in batch.final.items()})
    assert stored == reference
    assert {rid: clocks_to_json(s) for rid, s in stored.items()} == {
        rid: clocks_to_json(s) for rid, s in reference.items()
    }


@given(items_st)
def test_each_field_holds_the_value_of_the_edit_with_the_greatest_key(items):
    states = fold(items)
    assert set(states) == {rid for rid, _ in items}
    for report_id, state in states.items():
        edits = [edit for rid, edit in items if rid == report_id]
        assert set(state) == set(DEVICE_FIELDS)
        for name in DEVICE_FIELDS:
            best = max((register(edit, name) for edit in edits), key=field_key)
            assert canonical(state[name].value) == canonical(best.value)
            assert (state[name].edited_at, state[name].revision) == (best.edited_at, best.revision)


@given(items=items_st, edit=edits_st)
def test_merge_reports_exactly_what_changed(items, edit):
    state = fold(items).get("r1")
    result = merge(state, edit)
    if state is None:
        assert result.outcome is Outcome.CREATED
        assert result.state == initial_state(edit)
        return
    expected = {
        name: max(state[name], register(edit, name), key=field_key) for name in DEVICE_FIELDS
    }
    changed = {
        n for n in DEVICE_FIELDS if canonical(state[n].value) != canonical(expected[n].value)
    }
    clocks_moved = any(
        (state[n].edited_at, state[n].revision) != (expected[n].edited_at, expected[n].revision)
        for n in DEVICE_FIELDS
    )
    assert result.state == expected
    assert result.changed == changed
    assert result.clocks_changed is clocks_moved
    assert result.outcome is (Outcome.UPDATED if changed else Outcome.DUPLICATE)


@given(items=items_st, edit=edits_st)
def test_merging_the_same_edit_twice_is_a_duplicate(items, edit):
    first = merge(fold(items).get("r1"), edit)
    second = merge(first.state, edit)
    assert second.outcome is Outcome.DUPLICATE
    assert second.changed == frozenset()
    assert second.clocks_changed is False
    assert second.state == first.state


@given(items_st)
def test_resending_any_already_merged_edit_changes_nothing(items):
    states = fold(items)
    for report_id, edit in items:
        result = merge(states[report_id], edit)
        assert (result.outcome, result.changed, result.clocks_changed) == (
            Outcome.DUPLICATE,
            frozenset(),
            False,
        )
        assert result.state == states[report_id]


@given(
    items=items_st.filter(bool),
    values=values_st,
    minutes_earlier=st.integers(1, 60),
    revision=st.integers(0, 100),
)
def test_stale_edit_is_a_duplicate_without_changes(items, values, minutes_earlier, revision):
    report_id, _ = items[0]
    state = fold(items)[report_id]
    # Older than every stored clock; a high revision must not beat an earlier time.
    stale = Edit(values, BASE - timedelta(minutes=minutes_earlier), revision)
    result = merge(state, stale)
    assert result.outcome is Outcome.DUPLICATE
    assert result.changed == frozenset()
    assert result.clocks_changed is False
    assert result.state == state


@given(
    before=items_st,
    items=items_st,
    tombstoned=st.sets(st.sampled_from(IDS)),
)
def test_tombstoned_ids_are_gone_and_never_return(before, items, tombstoned):
    existing = fold(before)
    snapshot = {rid: dict(state) for rid, state in existing.items()}
    batch = apply_batch(existing, tombstoned, items)
    assert len(batch.results) == len(items)
    for (report_id, _), result in zip(items, batch.results, strict=True):
        if report_id in tombstoned:
            assert result.outcome is Outcome.GONE
            assert result.state is None
            assert result.changed == frozenset()
            assert result.clocks_changed is False
        else:
            assert result.outcome is not Outcome.GONE
    assert not tombstoned & set(batch.final)
    assert not tombstoned & batch.created
    assert existing == snapshot  # the input mapping is not mutated


@given(before=items_st, items=items_st)
def test_batch_creates_each_new_id_once_and_later_copies_see_it(before, items):
    existing = fold(before)
    batch = apply_batch(existing, set(), items)
    new_ids = {rid for rid, _ in items} - set(existing)
    assert batch.created == new_ids
    seen = set(existing)
    for (report_id, _), result in zip(items, batch.results, strict=True):
        assert (result.outcome is Outcome.CREATED) == (report_id not in seen)
        seen.add(report_id)
    assert set(batch.final) >= new_ids
    assert batch.final == {rid: s for rid, s in fold(before + items).items() if rid in batch.final}
    for report_id in set(fold(before + items)) - set(batch.final):
        assert existing[report_id] == fold(before + items)[report_id]


# --- examples --------------------------------------------------------------------------


def test_created_then_duplicate_then_updated():
    first = Edit(make_values(), at(0), 0)
    created = merge(None, first)
    assert created.outcome is Outcome.CREATED
    assert created.changed == frozenset(DEVICE_FIELDS)
    assert values_of(created.state) == make_values()

    again = merge(created.state, Edit(make_values(), at(0), 0))
    assert again.outcome is Outcome.DUPLICATE
    assert again.state == created.state

    updated = merge(again.state, Edit(make_values(severity=3), at(5), 1))
    assert updated.outcome is Outcome.UPDATED
    assert updated.changed == frozenset({"severity"})
    assert updated.clocks_changed is True
    assert values_of(updated.state)["severity"] == 3


def test_coordinator_keys_are_ignored():
    edit = Edit(make_values(status="closed", comments=["x"], incident_id=4), at(0), 0)
    assert set(edit.values) == set(DEVICE_FIELDS)
    state = initial_state(edit)
    assert "status" not in state
    result = merge(state, Edit(make_values(status="new"), at(0), 0))
    assert result.outcome is Outcome.DUPLICATE
    assert "status" not in result.state


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_equal_clocks_pick_the_greater_canonical_value_in_any_order(order):
    edits = [
        Edit(make_values(category="fight"), at(1), 2),
        Edit(make_values(category="fire"), at(1), 2),
    ]
    state = initial_state(edits[order[0]])
    result = merge(state, edits[order[1]])
    # '"fire"' > '"fight"' as canonical JSON, whichever arrives first.
    assert result.state["category"].value == "fire"
    assert result.changed == (frozenset({"category"}) if order == (0, 1) else frozenset())


def test_higher_revision_wins_at_equal_time_and_later_time_beats_revision():
    state = initial_state(Edit(make_values(place="Torget"), at(1), 5))
    same_time = merge(state, Edit(make_values(place="A"), at(1), 6))
    assert same_time.state["place"].value == "A"
    lower_rev_later = merge(same_time.state, Edit(make_values(place="B"), at(2), 0))
    assert lower_rev_later.state["place"].value == "B"
    older_high_rev = merge(lower_rev_later.state, Edit(make_values(place="C"), at(1), 99))
    assert older_high_rev.state["place"].value == "B"


def test_changed_is_exactly_the_fields_whose_value_changed():
    state = initial_state(Edit(make_values(), at(0), 0))
    result = merge(state, Edit(make_values(severity=1, place="Stationen"), at(1), 1))
    assert result.outcome is Outcome.UPDATED
    assert result.changed == frozenset({"severity", "place"})


def test_newer_clock_with_same_value_is_kept_so_a_middle_edit_loses():
    state = initial_state(Edit(make_values(place="Torget"), at(0), 0))
    clocks_only = merge(state, Edit(make_values(place="Torget"), at(10), 2))
    assert clocks_only.outcome is Outcome.DUPLICATE
    assert clocks_only.changed == frozenset()
    assert clocks_only.clocks_changed is True
    assert clocks_only.state["place"].edited_at == at(10)
    # Written between the two: it must lose, exactly as it would had it arrived first.
    middle = merge(clocks_only.state, Edit(make_values(place="Stationen"), at(5), 1))
    assert middle.outcome is Outcome.DUPLICATE
    assert middle.state["place"].value == "Torget"


def test_tombstoned_merge_is_gone():
    result = merge(None, Edit(make_values(), at(0), 0), tombstoned=True)
    assert (result.outcome, result.state, result.changed, result.clocks_changed) == (
        Outcome.GONE,
        None,
        frozenset(),
        False,
    )


def test_clocks_are_normalised_to_utc():
    local = datetime(2026, 11, 21, 2, 13, tzinfo=CET)
    edit = Edit(make_values(), local, 2)
    assert edit.edited_at.utcoffset() == timedelta(0)
    state = initial_state(edit)
    assert clocks_to_json(state)["category"] == ["2026-11-21T01:13:00.000000+00:00", 2]
    same_instant = merge(state, Edit(make_values(), local.astimezone(UTC), 2))
    assert (same_instant.outcome, same_instant.clocks_changed) == (Outcome.DUPLICATE, False)


def test_state_survives_storage_and_missing_clocks_are_minimal():
    state = initial_state(Edit(make_values(), at(3), 4))
    assert through_storage(state) == state
    old_row = state_from_columns(make_values(), {})
    assert old_row["place"].edited_at == datetime.min.replace(tzinfo=UTC)
    assert old_row["place"].revision == 0
    partial = state_from_columns(make_values(), {"place": clocks_to_json(state)["place"]})
    assert partial["place"] == state["place"]
    assert partial["category"].revision == 0
    result = merge(old_row, Edit(make_values(category="other"), at(0), 0))
    assert result.changed == frozenset({"category"})


@pytest.mark.parametrize(
    "bad",
    [["not a time", 1], ["2026-11-21T01:13:00", 1], [1, 2], ["2026-11-21T01:13:00+00:00", -1], "x"],
)
def test_corrupt_clocks_raise(bad):
    with pytest.raises(ValueError):
        state_from_columns(make_values(), {"place": bad})


def test_missing_values_raise():
    with pytest.raises(ValueError, match="severity"):
        state_from_columns({k: v for k, v in make_values().items() if k != "severity"}, {})


@pytest.mark.parametrize(
    ("values", "edited_at", "revision"),
    [
        ({k: v for k, v in make_values().items() if k != "photos"}, BASE, 0),
        (make_values(), datetime(2026, 11, 21, 1, 0), 0),
        (make_values(), BASE, -1),
        (make_values(), BASE, True),
    ],
)
def test_invalid_edits_are_rejected(values, edited_at, revision):
    with pytest.raises(ValueError):
        Edit(values, edited_at, revision)


def test_edits_and_values_do_not_alias_caller_data():
    values = make_values()
    edit = Edit(values, at(0), 0)
    values["photos"].append(PHOTOS[1])
    assert edit.values["photos"] == [PHOTOS[0]]
    state = initial_state(edit)
    values_of(state)["photos"].append(PHOTOS[2])
    assert state["photos"].value == [PHOTOS[0]]


@settings(max_examples=50, deadline=None)
@given(values_st, st.sampled_from(ZONES), st.integers(0, 3))
def test_a_new_reports_registers_equal_fully_checked_field_states(values, zone, revision):
    # The registers of a first edit skip FieldState's checks (the Edit made them already):
    # they must be exactly what the checked constructor gives, clock in UTC.
    edit = Edit(values=values, edited_at=BASE.astimezone(zone), revision=revision)

    state = initial_state(edit)

    checked = {
        n: FieldState(edit.values[n], BASE.astimezone(zone), revision) for n in DEVICE_FIELDS
    }
    assert state == checked
    assert all(fs.edited_at.tzinfo is UTC for fs in state.values())

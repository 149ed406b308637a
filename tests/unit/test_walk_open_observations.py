"""The open-observations rule of follow-up walks, on plain data (server.walks.followup)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.walks.followup import Seen, latest_marks, open_after, short_text

T0 = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _obs(n: int, feeling: str | None = "unsafe", minute: int = 0) -> Seen:
    return Seen(_id(n), feeling, T0 + timedelta(minutes=minute))


def _mark(n: int, follows: int, code: str, minute: int = 0) -> Seen:
    return Seen(_id(n), None, T0 + timedelta(minutes=minute), _id(follows), code)


def test_a_walk_leaves_its_observations_open_except_the_safe_ones() -> None:
    walk = [_obs(1, "unsafe"), _obs(2, "neutral"), _obs(3, "safe"), _obs(4, None)]
    assert open_after([walk]) == [_id(1), _id(2), _id(4)]


def test_an_observation_stays_open_until_a_follow_up_marks_it_atgardat() -> None:
    first = [_obs(1), _obs(2), _obs(3)]
    second = [_mark(10, 1, "atgardat"), _mark(11, 2, "kvarstar"), _obs(12, "unsafe")]
    third = [_mark(20, 2, "atgardat")]
    assert open_after([first]) == [_id(1), _id(2), _id(3)]
    assert open_after([first, second]) == [_id(2), _id(3), _id(12)]
    assert open_after([first, second, third]) == [_id(3), _id(12)]
    assert open_after([first, [], []]) == [_id(1), _id(2), _id(3)]  # unchecked: still open


def test_a_mark_is_never_an_observation_of_its_own() -> None:
    first = [_obs(1)]
    assert _id(10) not in open_after([first, [_mark(10, 1, "kvarstar")]])


def test_the_latest_mark_wins_and_equal_times_go_to_the_larger_id() -> None:
    marks = [_mark(5, 1, "kvarstar", minute=9), _mark(6, 1, "atgardat", minute=2)]
    assert latest_marks(marks) == {_id(1): "kvarstar"}
    assert latest_marks(reversed(marks)) == {_id(1): "kvarstar"}
    tie = [_mark(8, 2, "atgardat", minute=3), _mark(7, 2, "kvarstar", minute=3)]
    assert latest_marks(tie) == {_id(2): "atgardat"} == latest_marks(reversed(tie))


def test_the_phone_text_is_cut_at_140_characters() -> None:
    assert short_text(None) == "" and short_text(" kort ") == "kort"
    cut = short_text("ö" * 200)
    assert len(cut) == 140 and cut.endswith("…")
    assert short_text("a" * 140) == "a" * 140


# --- a model check: the rule against its definition ---------------------------------------

FEELING = st.sampled_from(["unsafe", "neutral", "safe", None])


@st.composite
def chains(draw: st.DrawFn) -> list[list[Seen]]:
    """Walks oldest first: observations, and marks on observations of earlier walks."""
    chain: list[list[Seen]] = []
    made: list[int] = []
    counter = iter(range(1, 10_000))
    for _ in range(draw(st.integers(1, 5))):
        walk: list[Seen] = []
        for _ in range(draw(st.integers(0, 4)) if made else 0):
            walk.append(
                _mark(
                    next(counter),
                    draw(st.sampled_from(made)),
                    draw(st.sampled_from(["atgardat", "kvarstar"])),
                    draw(st.integers(0, 5)),
                )
            )
        fresh = [next(counter) for _ in range(draw(st.integers(0, 3)))]
        walk += [_obs(n, draw(FEELING), draw(st.integers(0, 5))) for n in fresh]
        made += fresh
        chain.append(draw(st.permutations(walk)))
    return chain


def _by_definition(chain: list[list[Seen]]) -> set[uuid.UUID]:
    """Open: made not safe in some walk, and no later walk's winning mark is atgardat."""
    still: set[uuid.UUID] = set()
    for i, walk in enumerate(chain):
        for seen in walk:
            if seen.follows is not None or seen.feeling == "safe":
                continue
            later = chain[i + 1 :]
            winners = []
            for other in later:
                marks = [m for m in other if m.follows == seen.id]
                if marks:
                    winners.append(max(marks, key=lambda m: (m.created_at, str(m.id))).follow_up)
            if "atgardat" not in winners:
                still.add(seen.id)
    return still


@settings(max_examples=300, deadline=None)
@given(chains())
def test_the_rule_keeps_exactly_what_no_follow_up_marked_atgardat(chain) -> None:
    got = open_after(chain)
    assert len(got) == len(set(got))
    assert set(got) == _by_definition(chain)

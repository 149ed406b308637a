"""Which report names an incident: a real report before a calm round, whatever the order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.incidents.title import CALM, headline, title_order

START = datetime(2026, 11, 20, 18, tzinfo=UTC)
CODES = (CALM, "skadegorelse", "brand", "miljo")


@dataclass
class Member:
    """The fields of a report the title rule reads."""

    id: uuid.UUID
    category_code: str
    created_at: datetime
    place: str
    description: str
    lat: float | None = None
    lon: float | None = None
    area_id: int | None = None


member = st.builds(
    Member,
    id=st.uuids(),
    category_code=st.sampled_from(CODES),
    created_at=st.integers(0, 12 * 60).map(lambda m: START + timedelta(minutes=m)),
    place=st.sampled_from(["", "Torget", "Busskuren"]),
    description=st.sampled_from(["", "Lugn natt.", "Krossad ruta."]),
)


@given(st.lists(member, min_size=1, max_size=8), st.data())
def test_a_calm_round_never_names_an_incident_with_real_reports(members, data) -> None:
    anchor = data.draw(st.sampled_from([m.id for m in members] + [uuid.uuid4()]))
    first = headline(members, anchor)
    real = [m for m in members if m.category_code != CALM]
    if real:
        assert first.category_code != CALM
        # The place and the summary come from a real report when one has them.
        if any(m.place for m in real):
            assert first.place in {m.place for m in real if m.place}
        if any(m.description for m in real):
            assert first.summary in {m.description for m in real if m.description}
    else:
        assert first.category_code == CALM


@given(st.lists(member, min_size=1, max_size=8))
def test_the_order_is_real_then_anchor_then_oldest(members) -> None:
    anchor = members[-1].id
    ordered = title_order(members, anchor)
    assert sorted(ordered, key=id) == sorted(members, key=id)  # a permutation
    keys = [(m.category_code == CALM, m.id != anchor, m.created_at, str(m.id)) for m in ordered]
    assert keys == sorted(keys)


def test_a_merge_into_a_calm_round_takes_the_real_reports_name() -> None:
    calm = Member(uuid.uuid4(), CALM, START, "Stationen", "Lugn natt, inget att rapportera.")
    real = Member(
        uuid.uuid4(), "skadegorelse", START + timedelta(hours=1), "Busskuren", "Krossad ruta."
    )
    got = headline([calm, real], calm.id)  # the calm incident is the merge's target
    assert (got.category_code, got.place, got.summary) == (
        "skadegorelse",
        "Busskuren",
        "Krossad ruta.",
    )

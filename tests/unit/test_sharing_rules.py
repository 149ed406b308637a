"""The sharing rule: own items in full; others only through an agreement in force that
covers the item, the most generous one winning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.sharing.rules import DETAILS, Agreement, at_least, detail_for

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
HOUSING, TOWN, POLICE = 1, 2, 3


def agreement(**kw: object) -> Agreement:
    base: dict[str, object] = {
        "id": 1,
        "from_org": HOUSING,
        "to_org": TOWN,
        "detail": "reports",
        "starts_at": NOW - timedelta(days=1),
    }
    return Agreement(**{**base, **kw})  # type: ignore[arg-type]


def test_an_organisation_sees_its_own_items_in_full_without_any_agreement() -> None:
    assert detail_for(TOWN, TOWN, "brand", None, [], NOW) == "full"


def test_without_an_agreement_another_organisation_sees_nothing() -> None:
    assert detail_for(TOWN, HOUSING, "brand", "centrum", [], NOW) is None


def test_an_agreement_is_directional() -> None:
    shared = [agreement()]
    assert detail_for(TOWN, HOUSING, "brand", None, shared, NOW) == "reports"
    assert detail_for(HOUSING, TOWN, "brand", None, shared, NOW) is None
    assert detail_for(POLICE, HOUSING, "brand", None, shared, NOW) is None


def test_limits_on_categories_and_areas() -> None:
    shared = [agreement(categories=frozenset({"brand"}), areas=frozenset({"centrum"}))]
    assert detail_for(TOWN, HOUSING, "brand", "centrum", shared, NOW) == "reports"
    assert detail_for(TOWN, HOUSING, "klotter", "centrum", shared, NOW) is None
    assert detail_for(TOWN, HOUSING, "brand", "norr", shared, NOW) is None
    # An item without an area cannot keep a promise about where.
    assert detail_for(TOWN, HOUSING, "brand", None, shared, NOW) is None


def test_time_limits_and_revocation() -> None:
    later = agreement(starts_at=NOW + timedelta(seconds=1))
    ended = agreement(ends_at=NOW)
    revoked = agreement(revoked_at=NOW - timedelta(seconds=1))
    for a in (later, ended, revoked):
        assert detail_for(TOWN, HOUSING, "brand", None, [a], NOW) is None
    assert detail_for(TOWN, HOUSING, "brand", None, [agreement(ends_at=NOW + timedelta(1))], NOW)


def test_the_most_generous_agreement_wins() -> None:
    shared = [agreement(id=1, detail="counts"), agreement(id=2, detail="full"),
              agreement(id=3, detail="reports")]  # fmt: skip
    assert detail_for(TOWN, HOUSING, "brand", None, shared, NOW) == "full"


def test_at_least_orders_the_levels() -> None:
    assert at_least("full", "counts") and at_least("reports", "reports")
    assert not at_least("counts", "reports") and not at_least(None, "counts")


_agreements = st.lists(
    st.builds(
        Agreement,
        id=st.integers(1, 50),
        from_org=st.sampled_from([HOUSING, TOWN, POLICE]),
        to_org=st.sampled_from([HOUSING, TOWN, POLICE]),
        detail=st.sampled_from(DETAILS),
        starts_at=st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=1)]),
        ends_at=st.sampled_from([None, NOW, NOW + timedelta(days=1)]),
        revoked_at=st.sampled_from([None, NOW - timedelta(hours=1)]),
        categories=st.sampled_from([None, frozenset({"brand"}), frozenset({"klotter"})]),
        areas=st.sampled_from([None, frozenset({"centrum"})]),
    ),
    max_size=6,
)


@given(
    shared=_agreements,
    viewer=st.sampled_from([HOUSING, TOWN, POLICE]),
    owner=st.sampled_from([HOUSING, TOWN, POLICE]),
    category=st.sampled_from(["brand", "klotter"]),
    area=st.sampled_from([None, "centrum", "norr"]),
)
def test_granted_detail_is_the_best_of_the_applicable_agreements(
    shared: list[Agreement], viewer: int, owner: int, category: str, area: str | None
) -> None:
    got = detail_for(viewer, owner, category, area, shared, NOW)
    if viewer == owner:
        assert got == "full"
        return
    applicable = [
        a.detail
        for a in shared
        if (a.from_org, a.to_org) == (owner, viewer)
        and a.in_force(NOW)
        and a.covers(category, area)
    ]
    assert got == (max(applicable, key=DETAILS.index) if applicable else None)
    # Removing agreements never grants more; adding one never grants less.
    for i in range(len(shared)):
        fewer = detail_for(viewer, owner, category, area, shared[:i] + shared[i + 1 :], NOW)
        if got is None:
            assert fewer is None
        elif fewer is not None:
            assert DETAILS.index(fewer) <= DETAILS.index(got)

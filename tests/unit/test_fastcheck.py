"""The push's fast check decides exactly as the ReportIn schema does, on generated reports."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from server.protocol.fastcheck import Rules, fast_load
from server.protocol.schemas import ReportIn

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
SKEW = timedelta(hours=12)
CATEGORIES = {"skadegorelse", "brand", "lugnt", "x" * 40, "åäö", "gammal"}
RULES = Rules(categories=CATEGORIES, now=NOW, future_skew=SKEW)
SCHEMA = ReportIn(categories=CATEGORIES, now=NOW, future_skew=SKEW)
DROP = object()  # leave the key out

# Text a JSON string can carry, with the characters the schema must refuse mixed in.
NASTY = st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\ufeff", "\n", "é", "😀"])
TEXT = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), NASTY, st.text(max_size=8)),
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: Python's json reads them
    | TEXT
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def _sized_text(limit: int) -> st.SearchStrategy[str]:
    """Text right around a length limit, sometimes with a character the schema refuses."""
    return st.integers(max(0, limit - 2), limit + 2).flatmap(
        lambda n: st.one_of(
            st.just("a" * n),
            st.just("ö" * n),
            st.builds(lambda c: c + "a" * max(0, n - 1), NASTY),
        )
    )


def _times() -> st.SearchStrategy[str]:
    """Device times: near the bounds, with and without offsets, odd offsets, odd formats."""
    around = st.sampled_from(
        [NOW + SKEW, datetime(2000, 1, 1, tzinfo=UTC), NOW - timedelta(days=3)]
    ).flatmap(
        lambda base: st.builds(
            lambda s, minutes, secs: (
                (base + timedelta(seconds=s))
                .astimezone(timezone(timedelta(minutes=minutes, seconds=secs)))
                .isoformat()
            ),
            st.integers(-2, 2) | st.integers(-(10**6), 10**6),
            st.integers(-18 * 60, 18 * 60) | st.integers(-1439, 1439),
            st.sampled_from([0, 0, 0, 30]),
        )
    )
    fixed = st.sampled_from(
        [
            "2026-11-21T02:13:00+01:00",
            "2026-11-21T02:13:00Z",
            "2026-11-21T02:13:00",
            "2026-11-21",
            "20261121T021300+0100",
            "2026-11-21T02:13:00.123456+01:00",
            "2026-11-21 02:13:00+01:00",
            "2026-02-30T25:61:00+01:00",
            "1999-12-31T23:59:59+00:00",
            "2000-01-01T00:59:59+01:00",
            "2000-01-01T01:00:00+01:00",
            "2026-11-21T02:13:00+18:00",
            "2026-11-21T02:13:00+18:01",
            "2026-11-21T02:13:00-18:00",
            "2026-11-21T02:13:00+01:00:30",
            "2026-11-21T02:13:00+01:00:00.5",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00+01:00",
            " 2026-11-21T02:13:00+01:00",
        ]
    )
    naive = st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
    return around | fixed | naive


def _numbers(low: float, high: float) -> st.SearchStrategy[Any]:
    """Numbers at and beyond a range's ends, numeric strings, specials and huge integers."""
    edges = [low, high, math.nextafter(low, -math.inf), math.nextafter(high, math.inf)]
    return st.one_of(
        st.sampled_from(edges),
        st.floats(low - 1, high + 1),
        st.integers(int(low) - 2, int(high) + 2),
        st.sampled_from([math.nan, math.inf, -math.inf, 10**400, -(10**400)]),
        st.sampled_from(["12.5", " 45 ", "1e1", "nan", "inf", "1_0", "", "0x10", "-0"]),
        st.booleans(),  # an int to Python, never a number to the schema
        st.floats(low, high).map(str),
    )


def _location() -> st.SearchStrategy[Any]:
    """A position object with some of its keys replaced, dropped or added."""
    keys = {
        "lat": _numbers(-90, 90) | ANY_JSON,
        "lon": _numbers(-180, 180) | ANY_JSON,
        "accuracy_m": _numbers(0, 100_000) | ANY_JSON,
        "altitude": ANY_JSON,
    }

    @st.composite
    def located(draw: st.DrawFn) -> dict[str, Any]:
        loc: dict[str, Any] = {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0}
        for name in draw(st.sets(st.sampled_from(sorted(keys)), min_size=1, max_size=2)):
            value = draw(st.just(DROP) | keys[name])
            if value is DROP:
                loc.pop(name, None)
            else:
                loc[name] = value
        return loc

    return located()


HEX64 = st.integers(0, 2**256 - 1).map(lambda i: f"{i:064x}")
PHOTO = st.one_of(
    HEX64,
    HEX64.map(lambda h: h + "\n"),  # `$` matches before a final newline
    HEX64.map(str.upper),
    st.integers(0, 2**256 - 1).map(lambda i: f"{i:063x}"),
    st.integers(0, 2**256 - 1).map(lambda i: f"{i:065x}"),
    ANY_JSON,
)
INTS = (
    st.integers(-3, 4)
    | st.sampled_from([2**31 - 1, 2**31, 10_000, 10_001, -1, True, False])
    | ANY_JSON
)

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": st.uuids().flatmap(
        lambda u: st.sampled_from(
            [str(u), u.hex, str(u).upper(), u.urn, f"{{{u}}}", str(u)[:-1], f"+{u.hex[1:]}"]
        )
    )
    | ANY_JSON,
    "created_at": _times() | ANY_JSON,
    "updated_at": _times() | ANY_JSON,
    "revision": INTS | st.floats(0, 3),
    "category": st.sampled_from(sorted(CATEGORIES)) | _sized_text(40) | TEXT | ANY_JSON,
    "severity": INTS | st.sampled_from([1.0, 2.0, True, "2"]),
    "description": _sized_text(4000) | TEXT | ANY_JSON,
    "location": _location() | ANY_JSON,
    "place": _sized_text(200) | TEXT | ANY_JSON,
    "people_count": INTS,
    "photos": st.lists(PHOTO, max_size=3)
    | st.integers(19, 21).map(lambda n: [f"{i:064x}" for i in range(n)])
    | HEX64.map(lambda h: [h, h])
    | ANY_JSON,
    "status": ANY_JSON,  # an unknown key the schema ignores
    # A walk observation: a walk id, its stop and a feeling (a stop or a feeling alone is
    # refused: WALK_FIELDS below draws them together more often).
    "walk_id": INTS | st.sampled_from([1, 7, 2**31 - 1, 2**31, 0, "7", 7.0]),
    "walk_stop": INTS | st.sampled_from([1, 999, 1000, 0, "3", 3.0]),
    "feeling": st.sampled_from(["unsafe", "neutral", "safe", "Safe", "", "otrygg", 1]) | ANY_JSON,
    # A follow-up mark: the observation's id and its mark, only together and on a walk.
    "follows": st.uuids().flatmap(
        lambda u: st.sampled_from([str(u), u.hex, str(u).upper(), u.urn, f"{{{u}}}", str(u)[:-1]])
    )
    | ANY_JSON,
    "follow_up": st.sampled_from(["atgardat", "kvarstar", "Åtgärdat", "klar", "", 1]) | ANY_JSON,
}
GOOD: dict[str, Any] = {
    "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "created_at": "2026-11-21T02:13:00+01:00",
    "category": "skadegorelse",
    "severity": 2,
    "description": "Klotter på busskuren.",
    "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
    "place": "Busskuren",
    "people_count": None,
    "photos": ["a" * 64],
}


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    """A report that starts well-formed and has some of its fields replaced or dropped."""
    body = dict(GOOD)
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=4)):
        value = draw(st.just(DROP) | FIELDS[name])
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def _schema_load(raw: dict[str, Any]) -> dict[str, Any] | None:
    """Return the schema's data, or None when it rejects the report."""
    try:
        return SCHEMA.load(raw)
    except ValidationError:
        return None


def _same(raw: dict[str, Any]) -> None:
    """Assert that the fast check and the schema agree on accept/reject and on the data."""
    expected = _schema_load(raw)
    got = fast_load(raw, RULES)
    assert (got is None) == (expected is None), (raw, expected)
    assert got == expected


WALK = st.fixed_dictionaries(
    {},
    optional={
        "walk_id": FIELDS["walk_id"],
        "walk_stop": FIELDS["walk_stop"],
        "feeling": FIELDS["feeling"],
        "follows": FIELDS["follows"],
        "follow_up": FIELDS["follow_up"],
    },
)


@settings(max_examples=600, deadline=None)
@given(WALK, st.booleans())
def test_fast_check_agrees_on_walk_fields(walk: dict[str, Any], with_id: bool) -> None:
    """Walk id, stop and feeling together or alone, valid and not: the same decision."""
    body = {**GOOD, **walk}
    if with_id:
        body.setdefault("walk_id", 3)
    _same(body)


def test_walk_fields_bounds() -> None:
    """Fixed walk cases: a full observation, a stop or feeling without a walk, bad values."""
    accepted = fast_load({**GOOD, "walk_id": 4, "walk_stop": 2, "feeling": "safe"}, RULES)
    assert accepted is not None and (accepted["walk_id"], accepted["feeling"]) == (4, "safe")
    marked = {"walk_id": 4, "follows": GOOD["id"].upper(), "follow_up": "kvarstar"}
    accepted = fast_load({**GOOD, **marked}, RULES)
    assert accepted is not None and str(accepted["follows"]) == GOOD["id"]
    _same({**GOOD, **marked})
    for change in (
        {"walk_stop": 1},
        {"feeling": "unsafe"},
        {"walk_id": 4, "walk_stop": 0},
        {"walk_id": 4, "walk_stop": 1000},
        {"walk_id": 4, "feeling": "scary"},
        {"walk_id": 0},
        {"walk_id": "4"},
        {"follows": "0f8fad5b-d9cb-469f-a165-70867728950e", "follow_up": "atgardat"},
        {"walk_id": 4, "follows": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        {"walk_id": 4, "follow_up": "kvarstar"},
        {"walk_id": 4, "follows": 7, "follow_up": "kvarstar"},
        {"walk_id": 4, "follows": "0f8fad5b", "follow_up": "kvarstar"},
        {"walk_id": 4, "follows": "0f8fad5b-d9cb-469f-a165-70867728950e", "follow_up": "klar"},
    ):
        assert fast_load({**GOOD, **change}, RULES) is None, change
        _same({**GOOD, **change})


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_fast_check_decides_as_the_schema(raw: dict[str, Any]) -> None:
    """Replaced, dropped, mistyped and extra fields: the same decision and the same data."""
    _same(raw)


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(sorted(FIELDS)).flatmap(lambda k: st.tuples(st.just(k), FIELDS[k])))
def test_fast_check_agrees_field_by_field(change: tuple[str, Any]) -> None:
    """One field at a time at its boundaries and beyond, the rest well-formed."""
    name, value = change
    _same({**GOOD, name: value})


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["created_at", "updated_at"]), _times())
def test_fast_check_agrees_on_times(clock: str, when: str) -> None:
    """Every time boundary and offset: ranges, whole minutes, ±18:00, naive times."""
    _same({**GOOD, clock: when})


def test_a_well_formed_report_is_accepted_with_the_schema_data() -> None:
    """The common case goes through the fast check, with defaults filled in."""
    got = fast_load(dict(GOOD), RULES)
    assert got is not None
    assert got == SCHEMA.load(dict(GOOD))
    assert got["updated_at"] is None and got["revision"] == 0


def test_each_bound_is_kept() -> None:
    """A few fixed cases at the limits (hypothesis may not draw them every run)."""
    cases = [
        {"location": {"lat": 90, "lon": -180, "accuracy_m": 100_000}},
        {"location": {"lat": 90.0000001, "lon": 0}},
        {"location": {"lat": "nan", "lon": 0}},
        {"location": {"lat": 1, "lon": 2, "accuracy_m": math.inf}},
        {"photos": ["a" * 64 + "\n"]},
        {"photos": [f"{i:064x}" for i in range(21)]},
        {"photos": ["a" * 64, "a" * 64]},
        {"revision": True},
        {"revision": 2**31},
        {"severity": 2.0},
        {"category": "gammal"},
        {"category": ""},
        {"description": "a\x00"},
        {"place": "\ud800"},
        {"created_at": "2026-11-21T02:13:00+01:00:30"},
        {"created_at": (NOW + SKEW).isoformat()},
        {"created_at": (NOW + SKEW + timedelta(microseconds=1)).isoformat()},
        {"id": f"+{'1' * 31}"},
    ]
    for change in cases:
        _same({**GOOD, **change})


@settings(max_examples=500, deadline=None)
@given(_location())
def test_fast_check_agrees_on_positions(location: dict[str, Any]) -> None:
    """The nested position: each key at its range's ends, mistyped, missing or extra."""
    _same({**GOOD, "location": location})

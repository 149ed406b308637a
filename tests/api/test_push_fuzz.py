"""POST /api/v1/sync/push under fuzzing: nothing a client sends gives a 500."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support import factories
from tests.support.envelope import assert_error
from tests.support.push import now_local, shifted_now

PUSH = "/api/v1/sync/push"
STATUSES = {"created", "duplicate", "updated", "gone", "rejected"}
HASH_A = "a" * 64
HASH_B = "b" * 64
HASH_C = "0123456789abcdef" * 4


# --- fuzzing: nothing a client sends gives a 500 ---------------------------------------------

# Any text a JSON string can carry, often with NUL, other controls or a lone surrogate in it.
NASTY_CHARS = st.sampled_from(["\x00", "\x1f", "\ud800", "\udfff", "\u2028", "\ufeff"])
JSON_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=12), NASTY_CHARS, st.text(max_size=12)),
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | JSON_TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)
DROP = object()
CATEGORY_CODES = ["skadegorelse", "brand", "miljo", "samling", "narkotika", "trafik",
                  "brott", "otrygg_plats", "rykten", "stod", "lugnt", "ovrigt"]  # fmt: skip
TIMES = st.one_of(
    st.integers(-(10**6), 10**6).map(
        lambda s: (now_local() + timedelta(seconds=s)).isoformat(timespec="seconds")
    ),
    st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2026-02-30T25:61:00+01:00",
            "2026-11-21T02:13:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-11-21T02:13:00+23:59",
            "2026-11-21",
        ]
    ),
)
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-200, 200),
    st.integers(),
    st.integers(10**300, 10**400),
)
HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
# Per field: plausible values of the right shape, and any JSON at all.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": st.uuids().flatmap(
        lambda u: st.sampled_from([str(u), u.hex, str(u).upper(), u.urn, f"{{{u}}}"])
    ),
    "created_at": TIMES,
    "updated_at": TIMES,
    "revision": st.integers(),
    "category": st.sampled_from(CATEGORY_CODES) | JSON_TEXT,
    "severity": st.integers(-1, 5),
    "description": JSON_TEXT | st.integers(3990, 4010).map(lambda n: "å" * n),
    "place": JSON_TEXT | st.integers(190, 210).map(lambda n: "p" * n),
    "location": st.fixed_dictionaries(
        {"lat": NUMBERS, "lon": NUMBERS}, optional={"accuracy_m": NUMBERS | st.none()}
    ),
    "location.lat": NUMBERS,
    "location.lon": NUMBERS,
    "location.accuracy_m": NUMBERS,
    "people_count": st.integers(),
    "photos": st.lists(st.sampled_from([HASH_A, HASH_B, HASH_C]) | HEX64, max_size=22),
    "status": JSON_TEXT,
}


def fuzz_report(data: st.DataObject, body: dict[str, Any], label: str) -> dict[str, Any]:
    """Replace, break or drop one or two fields of a report."""
    keys = data.draw(
        st.lists(st.sampled_from(sorted(FIELD_VALUES)), min_size=1, max_size=2, unique=True),
        label=f"{label} keys",
    )
    for key in keys:
        # Mostly values of the right shape (they reach the database), else anything at all.
        value = data.draw(
            st.one_of(FIELD_VALUES[key], FIELD_VALUES[key], JSON_VALUES, st.just(DROP)),
            label=f"{label} {key}",
        )
        target, name = body, key
        if key.startswith("location."):
            if not isinstance(body.get("location"), dict):
                continue
            target, name = body["location"], key.split(".", 1)[1]
        if value is DROP:
            target.pop(name, None)
        else:
            target[name] = value
    return body


# No shrinking: each example is an HTTP request on a real database, and shrinking a failure
# on PostgreSQL takes minutes; the explicit tests above pin down the minimal cases.
FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def assert_no_server_error(resp, reports: Any) -> None:
    """Check the contract every push answer keeps, whatever was sent."""
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    if resp.status_code == 200:
        results = resp.get_json()["results"]
        assert isinstance(reports, list)
        assert len(results) == len(reports)
        for res in results:
            assert res["status"] in STATUSES, res
    else:
        assert_error(resp, resp.status_code)


@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzzed_report_fields_never_give_a_server_error(client, device, data):
    body = fuzz_report(data, factories.report(id=str(data.draw(st.uuids(), label="id"))), "first")
    reports = [body]
    if data.draw(st.booleans(), label="resend an edit"):
        later = {**copy.deepcopy(body), "updated_at": shifted_now(5), "revision": 1}
        reports.append(fuzz_report(data, later, "edit"))

    resp = client.post(PUSH, json={"reports": reports}, headers=device.headers)

    assert_no_server_error(resp, reports)


VALID_REPORTS = st.uuids().map(lambda u: factories.report(id=str(u)))
TOP_LEVEL = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"reports": JSON_VALUES}),
    st.fixed_dictionaries({"reports": st.lists(JSON_VALUES | VALID_REPORTS, max_size=6)}),
    st.fixed_dictionaries(
        {"reports": st.lists(VALID_REPORTS, max_size=4)},
        optional={"extra": JSON_VALUES, "cursor": JSON_VALUES},
    ),
)


@FUZZ_SETTINGS
@given(body=TOP_LEVEL)
def test_fuzzed_push_bodies_never_give_a_server_error(client, device, body):
    resp = client.post(PUSH, json=body, headers=device.headers)

    reports = body.get("reports") if isinstance(body, dict) else None
    assert_no_server_error(resp, reports)
    if resp.status_code != 200:
        assert resp.status_code == 400
        assert not isinstance(reports, list)


@settings(FUZZ_SETTINGS, max_examples=40)
@given(raw=st.binary(max_size=200))
def test_fuzzed_raw_bytes_never_give_a_server_error(client, device, raw):
    resp = client.post(PUSH, data=raw, content_type="application/json", headers=device.headers)

    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]
    if resp.status_code != 200:
        assert_error(resp, resp.status_code)

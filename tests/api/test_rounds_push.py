"""Scans and round runs in the push: exactly once, flagged, rejected one by one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from server.extensions import db
from server.rounds.models import CheckpointScan, RoundRun
from tests.support import factories
from tests.support.rounds import PUSH, at, checkpoint, push, round_over, run, scan


def scan_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CheckpointScan))


def test_the_same_scan_sent_three_times_is_stored_once(client, org, device) -> None:
    cp = checkpoint(org.id)
    item = scan(cp)
    answers = [push(client, device, scans=[item])["scan_results"][0] for _ in range(3)]
    assert [a["status"] for a in answers] == ["created", "duplicate", "duplicate"]
    assert answers[0]["checkpoint"] == {"id": cp.id, "name": "Port A"}
    assert answers[0]["flags"] == []
    assert scan_count() == 1


def test_the_same_scan_twice_in_one_push_is_one_row(client, org, device) -> None:
    item = scan(checkpoint(org.id))
    got = push(client, device, scans=[item, item])["scan_results"]
    assert [g["status"] for g in got] == ["created", "duplicate"]
    assert scan_count() == 1


def test_an_unknown_token_is_rejected_alone(client, org, device) -> None:
    cp = checkpoint(org.id)
    report = factories.report()
    body = push(client, device, reports=[report], scans=[scan(token="nope"), scan(cp)])
    assert body["results"][0]["status"] == "created"
    bad, good = body["scan_results"]
    assert bad["status"] == "rejected" and bad["error"]["code"] == "unknown_checkpoint"
    assert "short code" in bad["error"]["message"]
    assert good["status"] == "created"
    assert scan_count() == 1


def test_a_checkpoint_of_another_organisation_is_rejected(client, org, device) -> None:
    other = checkpoint(factories.make_org().id)
    got = push(client, device, scans=[scan(other)])["scan_results"][0]
    assert got["error"]["code"] == "foreign_checkpoint"
    # Its short code is simply unknown in this organisation.
    typed = push(client, device, scans=[scan(short_code=other.short_code)])["scan_results"][0]
    assert typed["error"]["code"] == "unknown_checkpoint"
    assert scan_count() == 0


def test_a_typed_short_code_is_accepted_in_any_case_and_flagged(client, org, device) -> None:
    cp = checkpoint(org.id)
    got = push(client, device, scans=[scan(short_code=cp.short_code.lower(), method="code")])
    result = got["scan_results"][0]
    assert result["status"] == "created" and result["flags"] == ["typed_code"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"scanned_at": "yesterday"}, "bad_time"),
        ({"scanned_at": "2026-05-01T22:00:00"}, "bad_time"),
        ({"scanned_at": "1999-12-31T23:00:00+00:00"}, "bad_time"),
        ({"id": "not-a-uuid"}, "invalid"),
        ({"method": "telepathy"}, "invalid"),
        ({"location": {"lat": 91, "lon": 13}}, "invalid"),
        ({"location": {"lat": "55", "lon": 13}}, "invalid"),
        ({"location": [55, 13]}, "invalid"),
        ({"round_run": 5}, "invalid"),
        ({"short_code": "ABC234"}, "invalid"),  # token and short code both
        # The ends of the calendar overflow the conversion to UTC.
        ({"scanned_at": "9999-12-31T23:59:59-12:00"}, "bad_time"),
        ({"scanned_at": "0001-01-01T00:30:00+01:00"}, "bad_time"),
        # A lone surrogate is valid JSON but no database encodes it; PostgreSQL refuses NUL.
        ({"token": "\ud800"}, "invalid"),
        ({"token": "ab\x00c"}, "invalid"),
        ({"token": None, "short_code": "\ud800"}, "invalid"),
        ({"token": None, "short_code": "A\x00B"}, "invalid"),
    ],
)
def test_a_malformed_scan_is_rejected_with_a_code(client, org, device, overrides, code) -> None:
    cp = checkpoint(org.id)
    got = push(client, device, scans=[scan(cp, **overrides), scan(cp)])["scan_results"]
    assert got[0]["status"] == "rejected" and got[0]["error"]["code"] == code, got[0]
    assert got[1]["status"] == "created"


def test_a_time_the_skew_moves_off_the_calendar_is_rejected(client, org, device) -> None:
    cp = checkpoint(org.id)
    week_slow = -7 * 24 * 3600 * 1000
    ancient = scan(cp, scanned_at="0001-01-01T00:30:00+00:00")
    got = push(client, device, clock_skew_ms=week_slow, scans=[ancient, scan(cp)])
    assert [r["status"] for r in got["scan_results"]] == ["rejected", "created"]
    assert got["scan_results"][0]["error"]["code"] == "bad_time"


def test_a_scan_far_in_the_future_is_rejected(client, org, device) -> None:
    future = at(datetime.now(UTC) + timedelta(days=3))
    got = push(client, device, scans=[scan(checkpoint(org.id), scanned_at=future)])
    assert got["scan_results"][0]["error"]["code"] == "bad_time"


@pytest.mark.parametrize("item", [None, 5, "scan", [], {}, {"id": str(uuid.uuid4())}])
def test_junk_scans_never_answer_500(client, org, device, item) -> None:
    got = push(client, device, scans=[item], round_runs=[item])
    assert got["scan_results"][0]["status"] == "rejected"
    assert got["round_run_results"][0]["status"] == "rejected"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"scans": "x"}, 400),
        ({"round_runs": {}}, 400),
        ({"scans": [], "clock_skew_ms": "5"}, 400),
        ({"scans": [], "clock_skew_ms": 10**12}, 400),
        ({"scans": [{}] * 501}, 413),
        ({"round_runs": [{}] * 51}, 413),
    ],
)
def test_a_bad_rounds_part_is_refused_whole(client, device, body, status) -> None:
    resp = client.post(PUSH, json=body, headers=device.headers)
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] in {
        "invalid_request",
        "too_many_scans",
        "too_many_round_runs",
    }


def test_device_time_is_stored_raw_and_corrected_by_the_clock_skew(client, org, device) -> None:
    cp = checkpoint(org.id)
    device_time = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    item = scan(cp, scanned_at=at(device_time))
    # The phone's clock is 90 s slow: server minus phone is +90 000 ms.
    push(client, device, scans=[item], clock_skew_ms=90_000)
    db.session.expire_all()
    row = db.session.get(CheckpointScan, uuid.UUID(item["id"]))
    assert row.scanned_at_device == device_time
    assert row.scanned_at == device_time + timedelta(seconds=90)
    assert row.clock_skew_ms == 90_000


def test_flags_come_back_in_the_answer(client, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [a, b], ordered=True)
    r = run(rnd.id)
    far = {"lat": 55.70, "lon": 13.2060, "accuracy": 10}
    first = scan(b, round_run=r["id"], location=far)
    again = scan(b, round_run=r["id"], location=None)
    got = push(client, device, round_runs=[r], scans=[first, again])
    assert got["round_run_results"] == [{"id": r["id"], "status": "created"}]
    flags = [s["flags"] for s in got["scan_results"]]
    assert "too_far" in flags[0] and "out_of_order" in flags[0]
    assert "rapid_repeat" in flags[1] and "no_position" in flags[1]


def test_a_scan_outside_its_runs_window_is_flagged(client, org, device) -> None:
    cp = checkpoint(org.id)
    # A window that ended long ago today or yesterday: 10 minutes wide, an hour from now
    # backwards; the run starts in it, the scan comes after its grace.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start_local = (now - timedelta(hours=2)).astimezone(factories.STOCKHOLM_WINTER)
    rnd = round_over(org.id, [cp], window=_window(now - timedelta(hours=2), 10))
    r = run(rnd.id, started=now - timedelta(hours=2) + timedelta(minutes=1))
    late = scan(cp, round_run=r["id"], scanned_at=at(now - timedelta(minutes=30)))
    got = push(client, device, round_runs=[r], scans=[late])["scan_results"][0]
    assert got["flags"] == ["out_of_window"], (start_local, got)


def _window(start: datetime, minutes: int) -> str:
    """Return the Stockholm window starting at `start` and `minutes` long."""
    from sync.rounds import STOCKHOLM

    a = start.astimezone(STOCKHOLM)
    b = (start + timedelta(minutes=minutes)).astimezone(STOCKHOLM)
    return f"{a:%H:%M}-{b:%H:%M}"


def test_a_run_is_created_then_ended_then_duplicate(client, org, device) -> None:
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])
    r = run(rnd.id)
    s = scan(cp, round_run=r["id"])
    assert (
        push(client, device, round_runs=[r], scans=[s])["round_run_results"][0]["status"]
        == "created"
    )
    ended = {"id": r["id"], "ended_at": at()}
    assert push(client, device, round_runs=[ended])["round_run_results"][0]["status"] == "updated"
    assert push(client, device, round_runs=[ended])["round_run_results"][0]["status"] == "duplicate"
    db.session.expire_all()
    assert db.session.get(RoundRun, uuid.UUID(r["id"])).ended_at is not None


def test_ending_with_required_checkpoints_unscanned_needs_a_reason(client, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [a, b])
    r = run(rnd.id)
    push(client, device, round_runs=[r], scans=[scan(a, round_run=r["id"])])
    end = {"id": r["id"], "ended_at": at()}
    got = push(client, device, round_runs=[end])["round_run_results"][0]
    assert got["status"] == "rejected" and got["error"]["code"] == "reason_required"
    db.session.expire_all()
    assert db.session.get(RoundRun, uuid.UUID(r["id"])).ended_at is None
    end["end_reason"] = "Grinden till B var låst."
    assert push(client, device, round_runs=[end])["round_run_results"][0]["status"] == "updated"


def test_a_run_ended_in_the_push_of_its_last_scan_needs_no_reason(client, org, device) -> None:
    a = checkpoint(org.id)
    started = datetime.now(UTC) - timedelta(minutes=20)
    two = round_over(org.id, [a, checkpoint(org.id, "B")])
    r = run(two.id, started=started, ended_at=at())
    got = push(client, device, round_runs=[r], scans=[scan(a, round_run=r["id"])])
    assert got["round_run_results"][0]["error"]["code"] == "reason_required"
    # Every required scan in the same push as the end: accepted.
    one = round_over(org.id, [a], name="Kort")
    r2 = run(one.id, started=started, ended_at=at())
    got = push(client, device, round_runs=[r2], scans=[scan(a, round_run=r2["id"])])
    assert got["round_run_results"][0]["status"] == "created"


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"round_id": 999999}, "unknown_round"),
        ({"round_id": None}, "invalid"),
        ({"started_at": None}, "invalid"),
        ({"started_at": "soon"}, "bad_time"),
        ({"end_reason": "x" * 501}, "invalid"),
        ({"round_id": "1"}, "invalid"),
        ({"started_at": "9999-12-31T23:59:59-12:00"}, "bad_time"),
        ({"started_at": "0001-01-01T00:30:00+01:00"}, "bad_time"),
        ({"ended_at": "9999-12-31T23:59:59-12:00"}, "bad_time"),
        ({"end_reason": "\ud800"}, "invalid"),
        ({"end_reason": "a\x00b"}, "invalid"),
    ],
)
def test_a_bad_round_run_is_rejected_alone(client, org, device, item, code) -> None:
    rnd = round_over(org.id, [checkpoint(org.id)])
    got = push(client, device, round_runs=[{**run(rnd.id), **item}, run(rnd.id)])
    results = got["round_run_results"]
    assert results[0]["status"] == "rejected" and results[0]["error"]["code"] == code
    assert results[1]["status"] == "created"


def test_a_round_of_another_organisation_is_unknown(client, org, device) -> None:
    other = factories.make_org()
    rnd = round_over(other.id, [checkpoint(other.id)])
    got = push(client, device, round_runs=[run(rnd.id)])["round_run_results"][0]
    assert got["error"]["code"] == "unknown_round"


def test_another_devices_run_id_is_refused(client, org, device) -> None:
    rnd = round_over(org.id, [checkpoint(org.id)])
    r = run(rnd.id)
    push(client, device, round_runs=[r])
    thief = factories.make_device(org)
    got = push(client, thief, round_runs=[r])["round_run_results"][0]
    assert got["error"]["code"] == "foreign_id"


def test_a_push_without_rounds_keeps_its_old_answer(client, device) -> None:
    body = push(client, device, reports=[factories.report()])
    assert set(body) == {"results", "server_time"}


# Texts a database cannot store (a lone surrogate, NUL) and the calendar's ends, which the
# default strategies never draw: each broke the push once.
_NASTY_TEXT = st.sampled_from(["\ud800", "a\udfffb", "\x00", "A\x00B", "ab\x00c"])
_TEXT = (
    st.text(alphabet=st.characters(exclude_categories=()), max_size=30)
    | st.text(max_size=30)
    | _NASTY_TEXT
)
_EXTREME_TIMES = st.sampled_from(
    [
        "9999-12-31T23:59:59-12:00",
        "9999-12-31T23:00:00+00:00",
        "0001-01-01T00:30:00+01:00",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:30:00-17:59",
    ]
)
_OFFSETS = st.timedeltas(min_value=timedelta(hours=-18), max_value=timedelta(hours=18)).map(
    lambda d: timezone(timedelta(minutes=d // timedelta(minutes=1)))
)
# Recent times too, so runs and scans get stored and a resend meets them.
_RECENT = st.integers(0, 600).map(lambda m: at(datetime.now(UTC) - timedelta(minutes=m)))
_TIMES = (
    st.datetimes(timezones=st.timezones() | _OFFSETS).map(lambda d: d.isoformat())
    | _EXTREME_TIMES
    | _RECENT
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
_FIELD_VALUES = {
    "id": st.uuids().map(str) | _JSON,
    "token": _TEXT | _JSON,
    "short_code": _TEXT | _JSON,
    "scanned_at": _TIMES | _JSON,
    "location": st.fixed_dictionaries({"lat": _JSON, "lon": _JSON}) | _JSON,
    "round_run": st.uuids().map(str) | _JSON,
    "method": st.sampled_from(["qr", "code", "nfc"]) | _JSON,
    "round_id": st.integers() | _JSON,
    "started_at": _TIMES | _JSON,
    "ended_at": _TIMES | _JSON,
    "end_reason": _TEXT | _JSON,
}
_FIELDS = st.fixed_dictionaries({}, optional=_FIELD_VALUES)
# A value that once got past the parsing to the database: drawn often for a valid item.
_NASTY = _NASTY_TEXT | _EXTREME_TIMES
_NASTY_KEYS = ["end_reason", "ended_at", "scanned_at", "short_code", "started_at", "token"]
_WEEK_MS = 7 * 24 * 3600 * 1000


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scans=st.lists(_FIELDS, max_size=4),
    runs=st.lists(_FIELDS, max_size=3),
    skew=st.sampled_from([0, 0, 90_000, -_WEEK_MS, _WEEK_MS]) | st.integers(-_WEEK_MS, _WEEK_MS),
    data=st.data(),
)
def test_any_scan_or_run_is_answered_item_by_item_never_500(
    client, org, device, scans, runs, skew, data
) -> None:
    # Half the items are valid but for at most one field, on a real checkpoint, round and
    # this push's runs: the paths that store, and meet the stored on the second push.
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])

    def spoilt(item: dict) -> dict:
        # A valid item with at most one field drawn, a nasty text or time half the time:
        # those reach the database only on an item that is valid otherwise.
        mode = data.draw(st.sampled_from(["keep", "nasty", "nasty", "any"]))
        key = data.draw(st.sampled_from(_NASTY_KEYS if mode == "nasty" else sorted(_FIELD_VALUES)))
        if key == "short_code":
            item.pop("token", None)
        if mode != "keep":
            item[key] = data.draw(_NASTY if mode == "nasty" else _FIELD_VALUES[key])
        return item

    for i in range(len(runs)):
        if data.draw(st.booleans()):
            runs[i] = spoilt(run(rnd.id, datetime.now(UTC) - timedelta(hours=1)))
    run_ids = [r["id"] for r in runs if isinstance(r.get("id"), str)]
    for i in range(len(scans)):
        if data.draw(st.booleans()):
            base = scan(cp)
            if run_ids and data.draw(st.booleans()):
                base["round_run"] = data.draw(st.sampled_from(run_ids))
            scans[i] = spoilt(base)
    body = {"scans": scans, "round_runs": runs, "clock_skew_ms": skew}
    # Twice: the second push meets what the first stored (duplicates, updates, conflicts).
    for _ in range(2):
        resp = client.post(PUSH, json=body, headers=device.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        got = resp.get_json()
        assert len(got["scan_results"]) == len(scans)
        assert len(got["round_run_results"]) == len(runs)


def test_scans_pushed_before_their_run_are_flagged_when_it_comes(client, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [a, b], ordered=True)
    # Inside the round's window (22:00-02:00): "ten minutes ago" fell before it from 21:10
    # to 22:00 Stockholm time, and the scan was also flagged too early.
    inside = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)  # 23:00 in Stockholm
    r = run(rnd.id, inside)
    early = scan(b, round_run=r["id"], scanned_at=at(inside + timedelta(minutes=5)))
    assert push(client, device, scans=[early])["scan_results"][0]["flags"] == []
    push(client, device, round_runs=[r])
    db.session.expire_all()
    assert db.session.get(CheckpointScan, uuid.UUID(early["id"])).flags == ["out_of_order"]
    # Flags are stable: a resend of the run changes nothing more.
    push(client, device, round_runs=[r])
    db.session.expire_all()
    assert db.session.get(CheckpointScan, uuid.UUID(early["id"])).flags == ["out_of_order"]

"""The lean push: few statements per push, and the fallbacks that keep it correct."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import g
from sqlalchemy import delete, event

from server.categories.models import Category
from server.devices import service as devices
from server.extensions import db
from server.orgs.models import ChangeCounter
from server.protocol import push, store
from server.protocol.schemas import PushOut
from server.types import UTCDateTime
from tests.support import factories
from tests.support.push import PUSH, counter, push_ok, stored

# The token lookup, and the read of the codes a push may use (other reads of these tables,
# such as the grouping's, are not the push's authentication).
_TOKEN = re.compile(r"\bdevices\.token_hash\b")
_CODES = re.compile(r"\bcategories\.active\b")


@contextmanager
def statements() -> Iterator[list[str]]:
    """Record the SQL statements the app sends while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_new_reports_are_numbered_and_stored_in_two_statements(app, device):
    org_id = device.device.org_id
    reports = [factories.report() for _ in range(3)]
    start = counter(org_id)

    with app.test_request_context(), statements() as seen:
        pushed = push.push(device.device, reports)

    assert pushed.wrote
    counters = [s for s in seen if "change_counters" in s]
    assert len(counters) == 1, counters
    assert counters[0].startswith("UPDATE change_counters") and "RETURNING" in counters[0]
    assert len([s for s in seen if s.startswith("INSERT") and "INTO reports" in s]) == 1
    # Nothing reads the stored reports to learn that the ids are new.
    assert not [s for s in seen if s.startswith("SELECT") and re.search(r"\breports\b", s)]
    seqs = sorted(stored(r["id"]).change_seq for r in reports)
    assert seqs == [start + 1, start + 2, start + 3]
    assert counter(org_id) == start + 3


def test_a_push_reads_its_device_and_the_categories_in_one_query(client, device):
    push_ok(client, device, factories.report())  # records last-seen, so the next push won't

    with statements() as seen:
        push_ok(client, device, factories.report())

    auth = [s for s in seen if _TOKEN.search(s) or _CODES.search(s)]
    assert len(auth) == 1, auth
    assert _TOKEN.search(auth[0]) and _CODES.search(auth[0])


def test_a_push_still_refuses_a_missing_unknown_or_revoked_token(client, device):
    body = {"reports": [factories.report()]}
    missing = client.post(PUSH, json=body)
    unknown = client.post(PUSH, json=body, headers={"Authorization": "Bearer nonsense"})
    devices.revoke(device.device.id)
    revoked = client.post(PUSH, json=body, headers=device.headers)

    for resp, code in [
        (missing, "missing_token"),
        (unknown, "invalid_token"),
        (revoked, "device_revoked"),
    ]:
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == code
    assert counter(device.device.org_id) == 0


def test_a_push_with_no_categories_defined_authenticates_and_rejects_the_category(client, device):
    db.session.execute(delete(Category))
    db.session.commit()

    [result] = push_ok(client, device, factories.report())

    assert result["status"] == "rejected"
    assert "Unknown category" in result["errors"]["category"][0]


def test_a_resend_among_new_reports_merges_and_leaves_no_gap_in_the_numbers(client, device):
    org_id = device.device.org_id
    first = factories.report()
    push_ok(client, device, first)
    start = counter(org_id)
    fresh = factories.report()

    results = push_ok(client, device, first, fresh)

    assert [r["status"] for r in results] == ["duplicate", "created"]
    assert stored(fresh["id"]).change_seq == start + 1
    assert counter(org_id) == start + 1


def test_a_push_to_an_organisation_without_its_counter_row_starts_it(client, device):
    org_id = device.device.org_id
    db.session.execute(delete(ChangeCounter).where(ChangeCounter.org_id == org_id))
    db.session.commit()
    body = factories.report()

    [result] = push_ok(client, device, body)

    assert result["status"] == "created"
    assert stored(body["id"]).change_seq == 1
    assert counter(org_id) == 1


def test_the_schema_has_the_last_word_should_the_fast_check_ever_refuse_wrongly(
    client, device, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(push, "fast_load", lambda _raw, _rules: None)
    body = factories.report()

    with caplog.at_level(logging.ERROR):
        [result] = push_ok(client, device, body)

    assert result["status"] == "created"
    assert stored(body["id"]) is not None
    assert "fast check refused a report the schema accepts" in caplog.text


def test_a_report_the_fast_check_refuses_gets_the_schema_messages(client, device):
    body = factories.report(severity=7, id=str(uuid.uuid4()))

    [result] = push_ok(client, device, body)

    assert result["status"] == "rejected"
    assert result["errors"] == {"severity": ["Severity must be 1 (låg), 2 (medel) or 3 (hög)."]}


def test_the_answer_is_what_the_push_out_schema_would_dump(client, device):
    good, bad = factories.report(photos=["a" * 64]), factories.report(severity=9)

    resp = client.post(PUSH, json={"reports": [good, bad]}, headers=device.headers)

    body = resp.get_json()
    assert PushOut().dump(PushOut().load(body)) == body
    assert set(body["results"][0]) == {"id", "status", "version", "missing_photos"}
    assert datetime.fromisoformat(body["server_time"]).utcoffset() == timedelta(0)


def test_new_reports_are_numbered_without_returning_support_too(
    client, device, monkeypatch: pytest.MonkeyPatch
):
    org_id = device.device.org_id
    start = counter(org_id)
    monkeypatch.setattr(db.engine.dialect, "update_returning", False)
    reports = [factories.report() for _ in range(2)]

    with statements() as seen:
        results = push_ok(client, device, *reports)

    assert [r["status"] for r in results] == ["created", "created"]
    assert not [s for s in seen if "change_counters" in s and "RETURNING" in s]
    assert sorted(stored(r["id"]).change_seq for r in reports) == [start + 1, start + 2]
    assert counter(org_id) == start + 2


@contextmanager
def datetime_conversions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """Record the transaction phase of every UTC datetime (not None) converted for SQLite."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL rows go to the driver as they are, converted by the insert")
    phases: list[str | None] = []
    convert = UTCDateTime.process_bind_param

    def spy(self, value, dialect):
        if value is not None:
            phases.append(g.get("db_phase"))
        return convert(self, value, dialect)

    monkeypatch.setattr(UTCDateTime, "process_bind_param", spy)
    store._sqlite_plan.cache_clear()  # built again, around the spy
    try:
        yield phases
    finally:
        store._sqlite_plan.cache_clear()


def test_new_rows_are_converted_for_the_driver_before_the_write_lock(
    app, device, monkeypatch: pytest.MonkeyPatch
):
    with app.test_request_context(), datetime_conversions(monkeypatch) as phases:
        pushed = push.push(device.device, [factories.report() for _ in range(3)])

    assert pushed.wrote
    assert phases, "no datetime column was converted"
    # Every other writer waits while the lock is held: no conversion happens under it.
    assert "write" not in phases


def test_a_datetime_shared_by_a_batch_is_converted_once(
    app, device, monkeypatch: pytest.MonkeyPatch
):
    base = datetime.fromisoformat("2026-12-07T21:00:00+01:00")
    reports = [
        factories.report(created_at=(base + timedelta(minutes=i)).isoformat()) for i in range(5)
    ]
    with app.test_request_context(), datetime_conversions(monkeypatch) as phases:
        pushed = push.push(device.device, reports)

    assert pushed.wrote
    # Five distinct created_at values, and one received_at = updated_at shared by all rows.
    assert len(phases) == 5 + 1
    row = stored(reports[3]["id"])
    assert row.created_at == base + timedelta(minutes=3)
    assert row.received_at == row.updated_at

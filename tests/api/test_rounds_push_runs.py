"""A round run stays one run across pushes: its end after its start, one round, its scans."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.rounds.models import CheckpointScan, RoundRun
from tests.support import factories
from tests.support.rounds import at, checkpoint, push, round_over, run, scan


def stored_run(raw: dict) -> RoundRun | None:
    db.session.expire_all()
    return db.session.get(RoundRun, uuid.UUID(raw["id"]))


def scans_stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CheckpointScan))


def test_a_later_end_before_the_stored_start_is_bad_time(client, org, device) -> None:
    rnd = round_over(org.id, [checkpoint(org.id)])
    started = datetime.now(UTC) - timedelta(minutes=10)
    r = run(rnd.id, started)
    push(client, device, round_runs=[r])
    end = {"id": r["id"], "ended_at": at(started - timedelta(days=3)), "end_reason": "Klart."}
    got = push(client, device, round_runs=[end])["round_run_results"][0]
    assert got["status"] == "rejected" and got["error"]["code"] == "bad_time", got
    assert stored_run(r).ended_at is None
    # An end after the start still goes through.
    end["ended_at"] = at()
    assert push(client, device, round_runs=[end])["round_run_results"][0]["status"] == "updated"


def test_one_run_id_for_two_rounds_is_a_conflict_not_a_duplicate(client, org, device) -> None:
    first = round_over(org.id, [checkpoint(org.id, "A")])
    second = round_over(org.id, [checkpoint(org.id, "B")], name="Andra")
    r = run(first.id)
    other = dict(r, round_id=second.id)
    got = push(client, device, round_runs=[r, other])["round_run_results"]
    assert [g["status"] for g in got] == ["created", "rejected"]
    assert got[1]["error"]["code"] == "conflict"
    assert "another round" in got[1]["error"]["message"]
    # In a later push too; the same round again is still a duplicate.
    again = push(client, device, round_runs=[other, r])["round_run_results"]
    assert [g["status"] for g in again] == ["rejected", "duplicate"]
    assert stored_run(r).round_id == first.id


def test_a_scan_of_a_run_refused_in_the_same_push_is_refused(client, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [a, b])
    # Ended with B unscanned and no reason: the run is refused, and so is its scan.
    r = run(rnd.id, datetime.now(UTC) - timedelta(minutes=20), ended_at=at())
    loose = scan(a)
    got = push(client, device, round_runs=[r], scans=[scan(a, round_run=r["id"]), loose])
    assert got["round_run_results"][0]["error"]["code"] == "reason_required"
    refused, kept = got["scan_results"]
    assert refused["status"] == "rejected" and refused["error"]["code"] == "run_refused"
    assert kept["status"] == "created"
    assert stored_run(r) is None and scans_stored() == 1


def test_a_scan_cannot_join_another_devices_run_through_a_refused_item(client, org, device) -> None:
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])
    theirs = run(rnd.id)
    push(client, factories.make_device(org), round_runs=[theirs])
    got = push(client, device, round_runs=[theirs], scans=[scan(cp, round_run=theirs["id"])])
    assert got["round_run_results"][0]["error"]["code"] == "foreign_id"
    assert got["scan_results"][0]["error"]["code"] == "run_refused"
    assert scans_stored() == 0


def test_a_scan_of_a_stored_run_stays_when_an_update_of_it_is_refused(client, org, device) -> None:
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])
    started = datetime.now(UTC) - timedelta(minutes=10)
    r = run(rnd.id, started)
    push(client, device, round_runs=[r])
    bad_end = {"id": r["id"], "ended_at": at(started - timedelta(hours=1))}
    got = push(client, device, round_runs=[bad_end], scans=[scan(cp, round_run=r["id"])])
    assert got["round_run_results"][0]["error"]["code"] == "bad_time"
    # The run exists and is this device's: the scan is part of it.
    assert got["scan_results"][0]["status"] == "created"
    db.session.expire_all()
    row = db.session.scalars(select(CheckpointScan)).one()
    assert row.round_run_id == uuid.UUID(r["id"])

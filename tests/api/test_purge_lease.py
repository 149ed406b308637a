"""The nightly purge runs once per organisation and day: the run row, the lease, takeover,
retries, and two processes racing. Both database lanes.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from server.audit.models import AuditEntry
from server.extensions import db
from server.retention import batches, runs, scheduler, service
from server.retention.models import PurgeRun
from tests.support import factories
from tests.support.children import run_children
from tests.support.retention import build_store

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TUESDAY = date(2026, 11, 24)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Stockholm wall-clock time as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


def purge_runs(org_id: int) -> list[PurgeRun]:
    """Return the organisation's runs, freshly read."""
    rows = list(
        db.session.scalars(
            select(PurgeRun)
            .where(PurgeRun.org_id == org_id)
            .order_by(PurgeRun.day)
            .execution_options(populate_existing=True)
        )
    )
    db.session.commit()
    return rows


def purge_entries(org_id: int) -> list[str]:
    """Return the targets of the organisation's purge audit entries."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.target).where(
                AuditEntry.org_id == org_id, AuditEntry.action == "retention.purge"
            )
        )
    )


def test_the_purge_is_due_from_0330_stockholm_time() -> None:
    assert scheduler.purge_day(at(TUESDAY, 3, 29)) == TUESDAY - timedelta(days=1)
    assert scheduler.purge_day(at(TUESDAY, 3, 30)) == TUESDAY
    assert scheduler.purge_day(at(TUESDAY, 23, 59)) == TUESDAY


def test_a_tick_purges_every_organisation_once_a_day(app: Flask) -> None:
    first, second = factories.make_org(), factories.make_org()
    outcomes = scheduler.tick(at(TUESDAY, 3, 31), owner="w:1")
    assert sorted((o.org_id, o.day, o.status) for o in outcomes) == [
        (first.id, TUESDAY, "done"),
        (second.id, TUESDAY, "done"),
    ]
    # Later ticks that day, by this or another worker, find the day done.
    assert scheduler.tick(at(TUESDAY, 3, 36), owner="w:2") == []
    assert scheduler.tick(at(TUESDAY, 23, 0), owner="w:1") == []
    [run] = purge_runs(first.id)
    assert (run.day, run.status, run.lease_owner) == (TUESDAY, "done", None)
    assert run.started_at == at(TUESDAY, 3, 31) and run.finished_at is not None
    assert len(purge_entries(first.id)) == 1
    # The next day is a new run.
    assert [o.day for o in scheduler.tick(at(TUESDAY + timedelta(days=1), 3, 31))] == [
        TUESDAY + timedelta(days=1)
    ] * 2


def test_a_claim_has_one_winner_until_its_lease_expires(app: Flask) -> None:
    org = factories.make_org()
    now = at(TUESDAY, 3, 30)
    run_id = runs.ensure_run(org.id, TUESDAY, now)
    assert runs.ensure_run(org.id, TUESDAY, now) == run_id  # one row per day
    assert runs.claim(run_id, now, "a:1")
    assert not runs.claim(run_id, now, "b:2")
    assert not runs.claim(run_id, now + runs.LEASE - timedelta(seconds=1), "b:2")
    assert not runs.claim(run_id, now, "b:2", manual=True)  # a person waits too
    assert runs.claim(run_id, now + runs.LEASE + timedelta(seconds=1), "b:2")
    [run] = purge_runs(org.id)
    assert run.lease_owner == "b:2" and run.status == "running"


def test_a_dead_holders_run_is_taken_over_and_its_counts_continued(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client, now=at(TUESDAY, 3, 30))
    run_id = runs.ensure_run(s.org.id, TUESDAY, s.now)
    assert runs.claim(run_id, s.now, "dead:1")
    # It committed one batch (the old report deleted, counted on the row), then died.
    holder = service.Progress(run_id, "dead:1", lambda: s.now, service.empty_counts())
    before = s.now - timedelta(days=730)

    def one_batch() -> int:
        return holder.add(
            reports_purged=batches.delete_reports(s.org.id, before, 1, s.now, set())[0]
        )

    service._fenced(holder, one_batch)
    assert s.row("deleted") is None
    assert purge_runs(s.org.id)[0].counts["reports_purged"] == 1

    assert scheduler.tick(s.now + timedelta(minutes=4), owner="w:2") == []  # lease holds
    [outcome] = scheduler.tick(s.now + timedelta(minutes=6), owner="w:2")
    assert outcome.status == "done"
    assert (outcome.counts["reports_purged"], outcome.counts["texts_cleared"]) == (0, 3)
    [run] = purge_runs(s.org.id)
    assert run.status == "done" and run.lease_owner is None
    assert (run.counts["reports_purged"], run.counts["texts_cleared"]) == (1, 3)


def test_a_purger_that_lost_its_lease_stops_and_its_batch_is_undone(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    run_id = runs.ensure_run(s.org.id, scheduler.purge_day(s.now), s.now)
    assert runs.claim(run_id, s.now, "slow:1")
    # The slow holder stalled past its lease, and another worker took the run over.
    assert runs.claim(run_id, s.now + runs.LEASE + timedelta(seconds=1), "fast:2")

    with pytest.raises(service.LeaseLost):
        service.purge(run_id, s.org.id, s.now, "slow:1")

    assert s.row("deleted") is not None  # its first batch was rolled back
    [run] = purge_runs(s.org.id)
    assert run.lease_owner == "fast:2" and run.counts == {}


def test_a_lost_lease_is_reported_by_the_scheduler(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = build_store(client)
    real_claim = runs.claim

    def claim_then_lose(run_id: int, now: datetime, owner: str, **kw: object) -> bool:
        won = real_claim(run_id, now, owner, **kw)  # type: ignore[arg-type]
        db.session.execute(update(PurgeRun).values(lease_owner="thief:9"))
        db.session.commit()
        return won

    monkeypatch.setattr(runs, "claim", claim_then_lose)
    [outcome] = scheduler.tick(s.now, owner="w:1")
    assert outcome.status == "lost"
    assert s.row("deleted") is not None and purge_entries(s.org.id) == []


def test_a_failed_purge_is_retried_after_half_an_hour(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = build_store(client, now=at(TUESDAY, 3, 30))
    real = batches.delete_audit
    failures = iter([RuntimeError("disk full")])

    def flaky(*args: object) -> int:
        for exc in failures:
            raise exc
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(batches, "delete_audit", flaky)
    [failed] = scheduler.tick(s.now, owner="w:1")
    assert failed.status == "failed" and "disk full" in (failed.error or "")
    [run] = purge_runs(s.org.id)
    assert run.status == "failed" and "disk full" in (run.last_error or "")
    # What was committed before the failure stays done, and counted.
    assert s.row("deleted") is None and run.counts["reports_purged"] == 1

    assert scheduler.tick(s.now + timedelta(minutes=20), owner="w:1") == []
    [retried] = scheduler.tick(s.now + timedelta(minutes=31), owner="w:2")
    assert retried.status == "done"
    [run] = purge_runs(s.org.id)
    assert run.status == "done" and run.last_error is None
    assert run.counts["reports_purged"] == 1 and run.counts["texts_cleared"] == 3


def test_a_manual_purge_shares_the_days_run_and_adds_to_it(app: Flask, client: FlaskClient) -> None:
    # A fixed noon: with the clock's own time the minutes below could cross 03:30, when
    # the purge day changes, and the "busy" purge would belong to the next day's run.
    s = build_store(client, now=at(TUESDAY, 12, 0))
    first = scheduler.purge_now(s.org.id, now=s.now, owner="cli:1")
    assert first.status == "done" and first.counts["texts_cleared"] == 3
    # Later the same day, after the periods were shortened.
    from server.retention import settings as retention

    retention.configure(s.org.id, text_days=5)
    second = scheduler.purge_now(s.org.id, now=s.now + timedelta(minutes=1), owner="cli:2")
    assert second.status == "done" and second.counts["texts_cleared"] == 2
    [run] = purge_runs(s.org.id)
    assert run.counts["texts_cleared"] == 5 and run.id == first.run_id == second.run_id
    assert len(purge_entries(s.org.id)) == 2
    # Never alongside a purge in progress.
    assert runs.claim(run.id, s.now + timedelta(minutes=2), "cli:3", manual=True)
    busy = scheduler.purge_now(s.org.id, now=s.now + timedelta(minutes=3), owner="cli:4")
    assert busy.status == "busy"


_CHILD = """
import json, os, time
from datetime import datetime
from sqlalchemy import text
from server.app import create_app
from server.extensions import db
from server.retention import scheduler

cfg = json.loads(os.environ["PURGE_CHILD_CONFIG"])
now = datetime.fromisoformat(cfg.pop("now"))
start_at = cfg.pop("start_at")
app = create_app(cfg)
with app.app_context():
    db.session.execute(text("select 1"))  # connect before the start line
    db.session.commit()
    time.sleep(max(0.0, start_at - time.time()))
    outcomes = scheduler.tick(now, owner=f"process-{os.getpid()}", batch=1)
    print(json.dumps([[o.org_id, o.status, o.counts] for o in outcomes]))
"""


def test_racing_processes_purge_each_organisation_once(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """Two processes (as two workers or two hosts) tick at the same moment."""
    now = at(TUESDAY, 3, 31)
    stores = [build_store(client, now=now), build_store(client, now=now)]
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key",
        "LAGESBILD_ENV": "testing",
        "DATA_DIR": app.config["DATA_DIR"],
        "now": now.isoformat(),
        "start_at": time.time() + 4.0,
    }
    results = [r for batch in run_children(_CHILD, "PURGE_CHILD_CONFIG", config) for r in batch]
    assert sorted((org_id, status) for org_id, status, _ in results) == sorted(
        (s.org.id, "done") for s in stores
    )
    for s in stores:
        [run] = purge_runs(s.org.id)
        assert run.status == "done" and run.counts["texts_cleared"] == 3
        assert run.counts["reports_purged"] == 1
        assert len(purge_entries(s.org.id)) == 1


def test_the_job_starts_once_per_process_and_not_for_the_cli(app: Flask) -> None:
    from server.retention import worker

    assert app.config["PURGE_SCHEDULER"] is False  # testing: tests tick themselves
    assert app.extensions["purge_scheduler"] is None
    started = worker.start(app)
    try:
        assert started.running and worker.start(app) is started
        [job] = started.get_jobs()
        assert job.id == "purge-tick"
    finally:
        worker.stop(app)
    assert app.extensions["purge_scheduler"] is None


def test_a_stopping_worker_ends_its_purge_between_batches_and_another_finishes(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = build_store(client, now=at(TUESDAY, 3, 30))
    stopping = threading.Event()
    real = batches.clear_texts

    def clear_then_stop(*args: object) -> tuple[int, int]:
        done = real(*args)  # type: ignore[arg-type]
        stopping.set()  # gunicorn's worker_exit arrives during the first text batch
        return done

    monkeypatch.setattr(batches, "clear_texts", clear_then_stop)
    [outcome] = scheduler.tick(s.now, owner="w:1", batch=1, stop=stopping)
    assert outcome.status == "interrupted"
    [run] = purge_runs(s.org.id)
    assert run.status == "running" and run.counts["texts_cleared"] == 1
    assert (run.lease_owner, run.lease_until) == (None, None)  # given up at once

    monkeypatch.setattr(batches, "clear_texts", real)
    [rest] = scheduler.tick(s.now + timedelta(minutes=5), owner="w:2")
    assert rest.status == "done" and rest.counts["texts_cleared"] == 2
    [run] = purge_runs(s.org.id)
    assert run.status == "done" and run.counts["texts_cleared"] == 3

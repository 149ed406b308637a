"""The background grouping on real gunicorn servers: fast under load, and crash-safe.

A push only stores and answers; a job in each worker groups what the pushes queued
(LAGESBILD_GROUPING=background, which tests/support/gunicorn.py sets for every system test).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.system.conftest import STOCKHOLM_WINTER, SystemEnv, normalise_id, report_payload

pytestmark = pytest.mark.slow

CLIENTS = 4
BATCH = 50
LOAD_SECONDS = 4.0
POLL = 0.05  # seconds between two looks at the queue
PROMISE = 2.0  # seconds from acknowledgement to incident
SETTLE_TIMEOUT = 15.0


def ungrouped_ids(engine: sa.Engine) -> set[str]:
    """Return the ids of the reports that wait for the grouping (the queue)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id FROM reports WHERE incident_id IS NULL"))
        return {normalise_id(r[0]) for r in rows}


def membership(engine: sa.Engine) -> tuple[int, int, int, int]:
    """Return (reports, reports in an existing incident, incidents, sum of report_count)."""
    with engine.connect() as conn:
        reports = conn.execute(sa.text("SELECT COUNT(*) FROM reports")).scalar_one()
        placed = conn.execute(
            sa.text("SELECT COUNT(*) FROM reports r JOIN incidents i ON i.id = r.incident_id")
        ).scalar_one()
        incidents, counted = conn.execute(
            sa.text("SELECT COUNT(*), COALESCE(SUM(report_count), 0) FROM incidents")
        ).one()
    return int(reports), int(placed), int(incidents), int(counted)


def batch_of(label: str, when: datetime, size: int) -> list[dict[str, Any]]:
    """Build new reports of one scene and second, each with its own place text.

    A new report whose id sorts before the seed's re-keys the incident. At one position,
    with no report without a position near, it is the seed's twin whatever its place text
    says, and the re-key is a rename (`analysis.twins`); a re-key by a report elsewhere
    regroups every member, linear in the incident's size (`bench/rekey.py --near`).
    """
    return [report_payload(str(uuid.uuid4()), f"{label}-{i}", when) for i in range(size)]


def wait_for_empty_queue(engine: sa.Engine, timeout: float) -> float:
    """Wait until no report waits for the grouping; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not ungrouped_ids(engine):
            return time.monotonic() - start
        time.sleep(POLL)
    pytest.fail(f"reports still ungrouped after {timeout:.0f} s: {len(ungrouped_ids(engine))}")


def test_a_new_report_is_in_its_incident_within_two_seconds_under_load(system: SystemEnv):
    server = system.gunicorn(workers=2).start()
    org = system.create_org("Lastkommunen")
    devices = [system.enrol(server, org, f"Bil {i}") for i in range(CLIENTS)]
    when = (datetime.now(STOCKHOLM_WINTER) - timedelta(minutes=10)).replace(microsecond=0)
    acked: list[tuple[float, list[str]]] = []  # (monotonic time of the answer, its ids)
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        session = requests.Session()
        k = 0
        while not stop.is_set():
            batch = batch_of(f"c{n}b{k}", when, BATCH)
            k += 1
            resp = devices[n].push(session, server.url, batch)
            done = time.monotonic()
            if resp.status_code != 200:
                with lock:
                    failures.append(f"HTTP {resp.status_code}: {resp.text[:300]}")
                return
            with lock:
                acked.append((done, [item["id"] for item in batch]))

    engine = system.engine()
    try:
        looks: list[tuple[float, set[str]]] = []  # (time a look started, the queue it saw)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        end = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < end:
            started = time.monotonic()
            looks.append((started, ungrouped_ids(engine)))
            time.sleep(POLL)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        wait_for_empty_queue(engine, SETTLE_TIMEOUT)
        looks.append((time.monotonic(), set()))
        assert not failures, failures
        assert len(acked) >= CLIENTS  # the load really ran
        delays = []
        for at, ids in acked:
            # The first look begun after the answer that no longer sees any of the batch.
            seen = next(t for t, queue in looks if t >= at and queue.isdisjoint(ids))
            delays.append(seen - at)
        delays.sort()
        worst = delays[-1]
        assert worst < PROMISE, (
            f"grouping delay p50 {delays[len(delays) // 2]:.2f} s, max {worst:.2f} s"
        )
        reports, placed, _incidents, counted = membership(engine)
        assert reports == placed == counted == BATCH * len(acked)
    finally:
        engine.dispose()
    assert server.problems() == []


def test_a_crash_between_store_and_grouping_loses_nothing(system: SystemEnv):
    # "queue": the pushes are stored and answered, and nothing groups them, so the SIGKILL
    # is sure to hit after the acknowledgement and before the grouping.
    server = system.gunicorn(workers=2)
    server.extra_env["LAGESBILD_GROUPING"] = "queue"
    server.start()
    org = system.create_org("Kraschkommunen")
    device = system.enrol(server, org, "Bil 1")
    when = (datetime.now(STOCKHOLM_WINTER) - timedelta(minutes=10)).replace(microsecond=0)
    session = requests.Session()
    sent: list[str] = []
    for k in range(3):
        batch = batch_of(f"b{k}", when + timedelta(minutes=k), 20)
        resp = device.push(session, server.url, batch)
        assert resp.status_code == 200
        assert {r["status"] for r in resp.json()["results"]} == {"created"}
        sent += [item["id"] for item in batch]
    engine = system.engine()
    try:
        assert ungrouped_ids(engine) == set(sent)  # acknowledged, not grouped
        server.kill()
        server.extra_env["LAGESBILD_GROUPING"] = "background"
        server.start()
        # A fresh worker drains what the dead one left, without waiting for a push.
        wait_for_empty_queue(engine, SETTLE_TIMEOUT)
        reports, placed, incidents, counted = membership(engine)
        assert reports == placed == counted == len(sent)
        assert incidents >= 1
    finally:
        engine.dispose()
    assert server.problems() == []

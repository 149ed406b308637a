"""The nightly purge on a real gunicorn: every worker runs the job, each organisation is
purged once a day (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from tests.system.conftest import HTTP_TIMEOUT, SystemEnv, normalise_id, report_payload

pytestmark = pytest.mark.slow

# Each worker's first tick comes 2–20 s after it starts (server.retention.worker).
FIRST_TICKS_WITHIN = 25.0


def push_old_reports(system: SystemEnv, org: dict, now: datetime) -> dict[str, str]:
    """Push a report past the report period and one past the text period; return their ids."""
    setup = system.gunicorn(workers=1).start()
    try:
        device = system.enrol(setup, org, "Väktarbil 1")
        ids = {"deleted": f"{org['id']:08d}-0000-4000-8000-000000000001"}
        ids["cleared"] = f"{org['id']:08d}-0000-4000-8000-000000000002"
        batch = [
            report_payload(ids["deleted"], "gammal", now - timedelta(days=800)),
            report_payload(ids["cleared"], "hundra", now - timedelta(days=100)),
        ]
        with requests.Session() as http:
            resp = device.push(http, setup.url, batch)
        assert resp.status_code == 200, resp.text
        assert [r["status"] for r in resp.json()["results"]] == ["created", "created"]
    finally:
        setup.stop()
    return ids


def read(system: SystemEnv, query: str, **params: object) -> list[sa.Row]:
    """Run a query on the database directly."""
    engine = system.engine()
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query), params))
    finally:
        engine.dispose()


def test_two_workers_purge_each_organisation_once(system: SystemEnv, device_time: datetime) -> None:
    orgs = [system.create_org("Mjölby kommun"), system.create_org("Bjuvs kommun")]
    ids = {org["id"]: push_old_reports(system, org, device_time) for org in orgs}

    server = system.gunicorn(workers=2)
    server.extra_env["LAGESBILD_PURGE_SCHEDULER"] = "true"
    started = time.monotonic()
    with server:
        deadline = started + 60
        while time.monotonic() < deadline:
            done = read(system, "SELECT org_id FROM purge_runs WHERE status = 'done'")
            if len(done) == len(orgs):
                break
            time.sleep(0.5)
        # Let both workers tick at least once, whoever won.
        time.sleep(max(2.0, FIRST_TICKS_WITHIN - (time.monotonic() - started)))
        rows = read(system, "SELECT org_id, day, status, counts, lease_owner FROM purge_runs")
    assert server.problems() == [], server.log_tail()

    assert sorted(r.org_id for r in rows) == sorted(o["id"] for o in orgs), rows
    for row in rows:
        counts = row.counts if isinstance(row.counts, dict) else json.loads(row.counts)
        assert row.status == "done" and row.lease_owner is None, row
        assert (counts["reports_purged"], counts["texts_cleared"]) == (1, 1), row
    entries = read(system, "SELECT org_id, target FROM audit_log WHERE action = 'retention.purge'")
    assert sorted(e.org_id for e in entries) == sorted(o["id"] for o in orgs), entries
    assert all("scheduled reports_purged=1 texts_cleared=1" in e.target for e in entries)

    reports = {
        normalise_id(r.id): r.description
        for r in read(system, "SELECT id, description FROM reports")
    }
    tombs = {
        normalise_id(t.report_id): t.reason
        for t in read(system, "SELECT report_id, reason FROM tombstones")
    }
    for org_ids in ids.values():
        assert org_ids["deleted"] not in reports and tombs[org_ids["deleted"]] == "retention"
        assert reports[org_ids["cleared"]] == ""


def test_a_resend_after_the_purge_does_not_bring_the_report_back(
    system: SystemEnv, device_time: datetime
) -> None:
    org = system.create_org("Staffanstorps kommun")
    server = system.gunicorn(workers=2).start()
    device = system.enrol(server, org, "Nattvandrare 1")
    old = report_payload(
        "00000000-0000-4000-8000-0000000000aa", "gammal", device_time - timedelta(days=800)
    )
    with requests.Session() as http:
        assert device.push(http, server.url, [old]).json()["results"][0]["status"] == "created"
        purged = system.cli("purge", "--org", org["slug"])
        assert purged["status"] == "done" and purged["counts"]["reports_purged"] == 1
        again = device.push(http, server.url, [old])
        assert again.json()["results"][0]["status"] == "gone"
        pulled = http.get(
            server.url + "/api/v1/sync/pull", headers=device.headers, timeout=HTTP_TIMEOUT
        ).json()
    assert old["id"] in pulled["deleted"]
    assert system.stored_reports().total_rows == 0

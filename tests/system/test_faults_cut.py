"""The connection cut after the server's commit and before its answer reached the phone.

A `FaultProxy` forwards the whole push to gunicorn, waits until the server starts
answering (it has committed by then) and resets the phone's connection. The phone never
saw an answer, so it sends the same batch again: every report comes back `duplicate`
and is stored once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests

from tests.support.faultproxy import PASS, Fault, FaultProxy, Request

pytestmark = pytest.mark.slow


def test_cut_after_commit_then_resend_answers_duplicate(system, make_report, device_time) -> None:
    server = system.gunicorn(workers=1).start()
    org = system.create_org("Avbrott kommun")
    device = system.enrol(server, org, "Telefon 1")
    cut_next = [True]

    def policy(request: Request) -> Fault:
        if request.path.startswith("/api/v1/sync/push") and cut_next[0]:
            cut_next[0] = False
            return Fault("cut")
        return PASS

    batch = [
        make_report(str(uuid.uuid4()), f"cut-{n}", device_time - timedelta(minutes=n))
        for n in range(20)
    ]
    ids = {item["id"] for item in batch}
    with FaultProxy(server.port or 0, policy) as proxy, requests.Session() as session:
        with pytest.raises(requests.ConnectionError):
            device.push(session, proxy.url, batch)
        assert proxy.counts()["cut"] == 1
        # The answer was lost, not the work: the batch is stored already.
        assert ids <= set(system.stored_reports().by_id)
        resent = device.push(session, proxy.url, batch)
    assert resent.status_code == 200, resent.text
    statuses = {res["id"]: res["status"] for res in resent.json()["results"]}
    assert statuses == dict.fromkeys(ids, "duplicate")
    stored = system.stored_reports()
    assert not stored.duplicates
    assert stored.total_rows == len(ids)
    assert all(stored.by_id[rid]["device_id"] == device.id for rid in ids)
    assert not server.problems(), server.log_tail()

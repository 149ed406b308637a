"""Urgent alerts exactly once across processes: two processes (two workers or two hosts on
one database) open, escalate and send once; the job in a worker, woken by the push."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import fanout, passclock, sender, webpush, worker
from server.extensions import db
from sync.clock import utcnow
from tests.support.alerts import (  # noqa: F401  (push_service_fixture is a fixture)
    deliveries,
    make_scene,
    push_service_fixture,
    send,
    urgent,
)
from tests.support.children import run_children
from tests.support.pushservice import PushService
from tests.support.smtp import (  # noqa: F401  (fixtures)
    SmtpServer,
    smtp_cert_fixture,
    smtp_server_fixture,
)
from tests.support.workspace import cheap_hashing  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

_CHILD = """
import json, os, time
from datetime import datetime, timedelta
from sqlalchemy import text
from server.alerts.tick import tick
from server.app import create_app
from server.extensions import db

cfg = json.loads(os.environ["ALERTS_CHILD_CONFIG"])
t0 = datetime.fromisoformat(cfg.pop("t0"))
start_at = cfg.pop("start_at")
app = create_app(cfg)
with app.app_context():
    db.session.execute(text("select 1"))  # connect before the start line
    db.session.commit()
    owner = f"host-{os.getpid()}"
    time.sleep(max(0.0, start_at - time.time()))
    first = tick(t0, owner=owner)
    # Both processes finish the first moment before either starts the second: their clocks
    # are frozen five minutes apart, and real hosts' clocks are not (a loaded machine could
    # otherwise overlap one's first tick with the other's second).
    barrier = os.path.join(cfg["DATA_DIR"], "first-ticks")
    os.makedirs(barrier, exist_ok=True)
    open(os.path.join(barrier, owner), "w").close()
    deadline = time.time() + 60
    while len(os.listdir(barrier)) < 2 and time.time() < deadline:
        time.sleep(0.02)
    second = tick(t0 + timedelta(minutes=5), owner=owner)
    print(json.dumps([first.opened, second.escalated, first.pushes, second.pushes, second.mails]))
"""


def test_two_processes_open_escalate_and_send_once(
    app: Flask, client: FlaskClient, push_service: PushService, smtp_server: SmtpServer
):
    """Two processes (two workers, or two hosts on one database) tick at the same moments."""
    scene = make_scene(app, push_service)
    send(client, scene, urgent())
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret-key",
        "LAGESBILD_ENV": "testing",
        "DATA_DIR": app.config["DATA_DIR"],
        "VAPID_PRIVATE_KEY": app.config["VAPID_PRIVATE_KEY"],
        "VAPID_SUBJECT": app.config["VAPID_SUBJECT"],
        **smtp_server.app_config(),
        "t0": utcnow().isoformat(),
        "start_at": time.time() + 4.0,
    }
    results = run_children(_CHILD, "ALERTS_CHILD_CONFIG", config)
    opened = [a for r in results for a in r[0]]
    escalated = [e for r in results for e in r[1]]
    assert len(opened) == 1 and len(escalated) == 1, results
    assert sorted(r.name for r in push_service.received) == [
        "first-laptop", "first-phone", "second-phone",
    ]  # fmt: skip
    assert len(smtp_server.messages) == 1
    assert sorted(d.status for d in deliveries()) == ["sent", "sent", "sent"]


def test_the_job_in_a_worker_sends_soon_after_the_push_that_woke_it(
    app: Flask, client: FlaskClient, push_service: PushService
):
    """The background job as gunicorn runs it: the push wakes it, no test calls tick()."""
    assert app.config["ALERTS_SCHEDULER"] is False  # testing: tests tick themselves
    scene = make_scene(app, push_service)
    db.session.commit()  # the job's thread reads through its own connection
    started = worker.start(app)
    try:
        assert started.running and worker.start(app) is started
        [job] = started.get_jobs()
        assert job.id == "alerts-tick"
        send(client, scene, urgent())
        db.session.commit()
        deadline = time.monotonic() + 10
        while len(push_service.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop(app)
    assert sorted(r.name for r in push_service.received) == ["first-laptop", "first-phone"]
    assert app.extensions["alerts_scheduler"] is None


def test_a_lease_runs_from_its_claim_so_an_overlapping_worker_sends_nothing_twice(
    app: Flask, client: FlaskClient, push_service: PushService, monkeypatch: pytest.MonkeyPatch
):
    """Worker A's first send hangs 70 s; worker B's pass starts while A sends the second."""
    scene = make_scene(app, push_service)
    send(client, scene, urgent())
    t0 = utcnow()
    fanout.open_alerts(t0)
    seconds = [0.0]  # the monotonic clock both passes read
    monkeypatch.setattr(passclock, "monotonic", lambda: seconds[0])
    real = webpush.send
    sends: Counter[str] = Counter()

    def slow_send(config, target, body, topic, now):
        sends[target.endpoint] += 1
        if sum(sends.values()) == 1:
            seconds[0] += 70  # the push service kept A waiting (and more than one lease)
        elif sum(sends.values()) == 2:
            sender.drain(t0 + timedelta(seconds=71), "B", app.config)
        return real(config, target, body, topic, now)

    monkeypatch.setattr(webpush, "send", slow_send)
    sender.drain(t0, "A", app.config)
    assert sorted(sends.values()) == [1, 1], sends  # level 1: two browsers, once each
    assert sorted(r.name for r in push_service.received) == ["first-laptop", "first-phone"]
    assert [(d.status, d.attempts) for d in deliveries()] == [("sent", 1)] * 2

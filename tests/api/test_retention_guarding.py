"""The purge deletes old checkpoint scans, round runs and urgent alerts, and counts them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from server.alerts.models import Alert, AlertDelivery, PushSubscription
from server.extensions import db
from server.reports.models import Report
from server.retention import scheduler
from server.retention.preview import preview
from server.rounds.models import CheckpointScan, RoundRun
from sync.clock import utcnow
from tests.support import factories
from tests.support.retention import DELETED_AGE, KEPT_AGE, at_age, push
from tests.support.rounds import checkpoint, round_over, stored_run

GUARDING = ("scans_deleted", "round_runs_deleted", "alerts_deleted", "alert_deliveries_deleted")


def _subscription(org) -> PushSubscription:
    person = factories.make_person(org, role="coordinator").person
    endpoint = f"https://push.example.net/{uuid.uuid4()}"
    sub = PushSubscription(
        person_id=person.id, endpoint=endpoint, endpoint_hash=endpoint[-64:], p256dh="k", auth="a"
    )
    db.session.add(sub)
    db.session.commit()
    return sub


def _alert(org, incident_id, opened, episode: int, sub: PushSubscription) -> Alert:
    alert = Alert(
        org_id=org.id,
        incident_id=incident_id,
        category_code="brand",
        opened_at=opened,
        episode=episode,
    )
    db.session.add(alert)
    db.session.flush()
    db.session.add(AlertDelivery(alert_id=alert.id, subscription_id=sub.id, level=1))
    db.session.commit()
    return alert


def _store(client: FlaskClient, now):
    """Old and new scans, runs and alerts of one organisation, and new ones of another."""
    org = factories.make_org()
    dev = factories.make_device(org)
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])
    old, new = now - timedelta(days=DELETED_AGE), now - timedelta(days=KEPT_AGE)
    stored_run(dev.device, rnd, old, [(cp, old), (cp, old + timedelta(minutes=5))], reason="Låst")
    kept_run = stored_run(dev.device, rnd, new, [(cp, new)])
    r_old = factories.report(created_at=at_age(now, DELETED_AGE), category="brand")
    r_new = factories.report(created_at=at_age(now, KEPT_AGE), category="brand")
    push(client, dev, r_old, r_new)
    incident = {
        key: db.session.get(Report, uuid.UUID(r["id"])).incident_id
        for key, r in (("old", r_old), ("new", r_new))
    }
    sub = _subscription(org)
    _alert(org, incident["old"], old, 1, sub)  # its incident goes with the old report
    _alert(org, incident["new"], old, 1, sub)  # an old episode of a kept incident
    kept_alert = _alert(org, incident["new"], new, 2, sub)
    other = factories.make_org()
    stored_run(
        factories.make_device(other).device,
        round_over(other.id, [checkpoint(other.id)]),
        old,
        [],
    )
    return org, kept_run, kept_alert


def test_the_purge_deletes_old_scans_runs_and_alerts(app: Flask, client: FlaskClient) -> None:
    now = utcnow()
    org, kept_run, kept_alert = _store(client, now)
    counted = preview(org.id, now)
    assert {k: counted[k] for k in GUARDING} == {
        "scans_deleted": 2,
        "round_runs_deleted": 1,
        "alerts_deleted": 2,
        "alert_deliveries_deleted": 2,
    }
    outcome = scheduler.purge_now(org.id, now=now, owner="test:1", batch=1)
    assert outcome.status == "done", outcome
    assert {k: outcome.counts[k] for k in GUARDING} == {k: counted[k] for k in GUARDING}
    db.session.expire_all()
    assert [r.id for r in db.session.query(RoundRun).filter_by(org_id=org.id)] == [kept_run.id]
    assert db.session.query(CheckpointScan).filter_by(org_id=org.id).count() == 1
    assert [a.id for a in db.session.query(Alert)] == [kept_alert.id]
    assert [d.alert_id for d in db.session.query(AlertDelivery)] == [kept_alert.id]
    # Another organisation's old run is its own purge's business.
    assert db.session.query(RoundRun).count() == 2
    # A second purge finds nothing more.
    again = preview(org.id, now)
    assert all(again[k] == 0 for k in GUARDING)

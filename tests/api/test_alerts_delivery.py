"""Urgent alerts end to end against a push-service stand-in on loopback (tests/support/
pushservice.py checks the VAPID JWT and decrypts every message): fan-out once per
subscription, no personal data, 410 retires, 429 backs off, escalation with a frozen clock
and e-mail at the last level, acknowledgement, and the phone's pull."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import ack, webpush
from server.alerts.models import Alert, PushSubscription
from server.alerts.tick import tick
from server.extensions import db
from server.incidents.models import IncidentEvent
from sync.clock import utcnow
from tests.support import factories
from tests.support.alerts import (  # noqa: F401  (push_service_fixture is a fixture)
    DEVICE_NAME,
    LAT,
    LON,
    PLACE_TEXT,
    SECRET_TEXT,
    deliveries,
    make_scene,
    only_alert,
    push_service_fixture,
    send,
    urgent,
)
from tests.support.pushservice import PushService
from tests.support.smtp import (  # noqa: F401  (fixtures)
    SmtpServer,
    smtp_cert_fixture,
    smtp_server_fixture,
)
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    PULL,
    PUSH,
    cheap_hashing,
    login,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

# --- fan-out ---------------------------------------------------------------------------------


def test_an_urgent_report_sent_three_times_gives_one_message_per_subscription(
    app: Flask, client: FlaskClient, push_service: PushService
):
    scene = make_scene(app, push_service)
    report = urgent()
    now = utcnow()
    assert send(client, scene, report) == "created"
    tick(now, owner="worker-a")
    assert send(client, scene, report) == "duplicate"
    tick(now + timedelta(seconds=5), owner="worker-b")
    assert send(client, scene, report) == "duplicate"
    tick(now + timedelta(seconds=10), owner="worker-a")
    # Level 1's two browsers, once each; level 2 is not due yet.
    assert sorted(r.name for r in push_service.received) == ["first-laptop", "first-phone"]
    assert [d.status for d in deliveries()] == ["sent", "sent"]
    alert = only_alert()
    assert (alert.level, alert.episode) == (1, 1)
    headers = push_service.received[0].headers
    assert headers["urgency"] == "high" and int(headers["ttl"]) == webpush.TTL_SECONDS
    assert headers["topic"] == alert.incident_id.hex
    # A second urgent report joining the same incident is the same alert: nobody again.
    assert send(client, scene, urgent(description="Röken syns fortfarande")) == "created"
    tick(now + timedelta(seconds=15), owner="worker-b")
    assert len(push_service.received) == 2


def test_the_payload_holds_no_personal_data(
    app: Flask, client: FlaskClient, push_service: PushService
):
    scene = make_scene(app, push_service)
    send(client, scene, urgent())
    tick(utcnow())
    [message, *_] = push_service.received
    text = message.plaintext.decode("utf-8")
    for secret in (
        SECRET_TEXT, "Kalle", "0701234567", PLACE_TEXT, "Lindgren", DEVICE_NAME, "Ölme",
        scene.first.email, scene.second.email, "forsta", str(LAT), str(LON), "55.63", "13.20",
    ):  # fmt: skip
        assert secret not in text, secret
    alert = only_alert()
    assert message.payload["category"] == "brand"
    assert message.payload["title"] == "Brådskande: Brand"
    assert message.payload["url"] == f"/workspace/alerts/{alert.id}"
    assert message.payload["incident_url"] == f"/workspace/incidents/{alert.incident_id}"
    assert message.payload["tag"] == f"incident-{alert.incident_id.hex}"
    assert set(message.payload) == {
        "title", "body", "tag", "url", "incident_url", "category", "category_label", "area", "at",
    }  # fmt: skip
    assert len(message.plaintext) < 400


def test_an_incident_that_becomes_urgent_alerts_once(
    app: Flask, client: FlaskClient, push_service: PushService
):
    scene = make_scene(app, push_service)
    calm = factories.report(category="skadegorelse", severity=1, description=SECRET_TEXT)
    send(client, scene, calm)
    tick(utcnow())
    assert push_service.received == [] and db.session.query(Alert).count() == 0
    # The same place a little later, now severe: the incident becomes urgent.
    send(client, scene, factories.report(category="skadegorelse", severity=3))
    tick(utcnow())
    tick(utcnow())
    assert sorted(r.name for r in push_service.received) == ["first-laptop", "first-phone"]


def test_no_rota_no_alert_and_a_calm_report_alerts_nobody(
    app: Flask, client: FlaskClient, push_service: PushService
):
    scene = make_scene(app, push_service)
    send(client, scene, factories.report(category="lugnt", severity=None))
    other = factories.make_org()
    stranger = factories.make_device(other)
    resp = client.post(PUSH, json={"reports": [urgent()]}, headers=stranger.headers)
    assert resp.status_code == 200
    tick(utcnow())
    assert push_service.received == [] and db.session.query(Alert).count() == 0


# --- the push service's answers ---------------------------------------------------------------


def test_410_retires_the_subscription(app: Flask, client: FlaskClient, push_service: PushService):
    scene = make_scene(app, push_service)
    push_service.answer("first-phone", 410)
    send(client, scene, urgent())
    now = utcnow()
    tick(now)
    statuses = {d.subscription_id: d.status for d in deliveries()}
    db.session.expire_all()
    gone = db.session.query(PushSubscription).filter(PushSubscription.retired_at.isnot(None)).all()
    assert [s.endpoint.rsplit("/", 1)[1] for s in gone] == ["first-phone"]
    assert sorted(statuses.values()) == ["gone", "sent"]
    # The next urgent incident (elsewhere) reaches only the live browser.
    send(client, scene, urgent(location={"lat": 55.70, "lon": 13.30, "accuracy_m": 5.0}))
    tick(now + timedelta(seconds=5))
    assert [r.name for r in push_service.of("first-phone")] == ["first-phone"]
    assert len(push_service.of("first-laptop")) == 2


def test_429_backs_off_as_retry_after_says_and_then_delivers(
    app: Flask, client: FlaskClient, push_service: PushService
):
    scene = make_scene(app, push_service)
    push_service.answer("first-laptop", 429, {"Retry-After": "120"})
    push_service.answer("first-phone", 503)  # no Retry-After: the first backoff (30 s)
    send(client, scene, urgent())
    now = utcnow()
    tick(now)
    assert [r.status for r in push_service.of("first-laptop")] == [429]
    tick(now + timedelta(seconds=60))
    assert [r.status for r in push_service.of("first-laptop")] == [429]
    assert [r.status for r in push_service.of("first-phone")] == [503, 201]
    tick(now + timedelta(seconds=121))
    assert [r.status for r in push_service.of("first-laptop")] == [429, 201]
    assert [d.status for d in deliveries()] == ["sent", "sent"]
    assert [d.attempts for d in deliveries()] == [2, 2]


def test_retry_after_reads_seconds_and_http_dates_capped():
    now = utcnow()
    assert webpush.retry_after("30", now) == timedelta(seconds=30)
    assert webpush.retry_after("999999", now) == webpush.MAX_RETRY_AFTER
    later = (now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert timedelta(seconds=88) <= webpush.retry_after(later, now) <= timedelta(seconds=90)
    assert webpush.retry_after("soon", now) is None
    assert webpush.retry_after(None, now) is None


# --- escalation, e-mail and acknowledgement -----------------------------------------------------


def test_two_levels_escalate_on_a_frozen_clock_then_mail_the_last_level(
    app: Flask, client: FlaskClient, push_service: PushService, smtp_server: SmtpServer
):
    app.config.update(smtp_server.app_config())
    scene = make_scene(app, push_service)
    send(client, scene, urgent())
    t0 = utcnow()
    tick(t0)
    tick(t0 + timedelta(minutes=4, seconds=59))
    assert push_service.of("second-phone") == [] and smtp_server.messages == []
    tick(t0 + timedelta(minutes=5))
    assert len(push_service.of("second-phone")) == 1
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [scene.second.email]
    body = mail.message.get_body(("plain",)).get_content()
    assert "Brand" in body and f"/workspace/alerts/{only_alert().id}" in body
    assert SECRET_TEXT not in body and DEVICE_NAME not in body and PLACE_TEXT not in body
    # Nothing more, however long nobody answers.
    tick(t0 + timedelta(minutes=30))
    assert len(push_service.received) == 3 and len(smtp_server.messages) == 1
    assert only_alert().mail_state == "sent"


def test_an_acknowledgement_stops_the_escalation_and_reaches_the_phone(
    app: Flask, client: FlaskClient, push_service: PushService, smtp_server: SmtpServer
):
    app.config.update(smtp_server.app_config())
    scene = make_scene(app, push_service)
    report = urgent()
    send(client, scene, report)
    t0 = utcnow()
    tick(t0)
    alert = only_alert()
    browser = app.test_client()
    assert login(browser, scene.first).status_code == 302
    page = browser.get(f"/workspace/alerts/{alert.id}").get_data(as_text=True)
    assert "Kvittera" in page and "Brand" in page and SECRET_TEXT not in page
    resp = post(browser, f"/workspace/alerts/{alert.id}/acknowledge", {"back": "incident"})
    assert resp.status_code == 302 and str(alert.incident_id) in resp.location
    incident_page = browser.get(resp.location).get_data(as_text=True)
    assert "Kvitterat av forsta.jour@kommun.se" in incident_page
    tick(t0 + timedelta(minutes=5))
    tick(t0 + timedelta(minutes=30))
    assert push_service.of("second-phone") == [] and smtp_server.messages == []
    db.session.expire_all()
    [event] = db.session.query(IncidentEvent).filter_by(kind="acknowledged").all()
    assert event.actor_id == scene.first.person.id and event.incident_id == alert.incident_id
    # Again: no second event, a calm message.
    again = post(browser, f"/workspace/alerts/{alert.id}/acknowledge")
    assert again.status_code == 302
    assert "redan kvitterat" in browser.get(again.location).get_data(as_text=True)
    assert db.session.query(IncidentEvent).filter_by(kind="acknowledged").count() == 1
    # The reporting phone's next pull says so, and carries the on-call number.
    pulled = client.get(PULL, headers=scene.device.headers).get_json()
    assert [a["report_id"] for a in pulled["acknowledged"]] == [report["id"]]
    assert pulled["on_call"] == {"phone": "+46701112233"}
    # Another phone of the organisation learns nothing about this report.
    other = factories.make_device(scene.org)
    assert client.get(PULL, headers=other.headers).get_json()["acknowledged"] == []


def test_another_organisation_cannot_see_or_acknowledge_the_alert(
    app: Flask, client: FlaskClient, push_service: PushService
):
    scene = make_scene(app, push_service)
    send(client, scene, urgent())
    tick(utcnow())
    alert = only_alert()
    outsider = app.test_client()
    assert login(outsider, factories.make_person(factories.make_org(), "admin")).status_code == 302
    assert outsider.get(f"/workspace/alerts/{alert.id}").status_code == 404
    assert post(outsider, f"/workspace/alerts/{alert.id}/acknowledge").status_code == 404
    assert only_alert().acknowledged_at is None
    with pytest.raises(LookupError):
        ack.alert_of(scene.org.id + 999, alert.id)


def test_a_phone_without_an_on_call_number_gets_null(app: Flask, client: FlaskClient):
    org = factories.make_org()
    dev = factories.make_device(org)
    pulled = client.get(PULL, headers=dev.headers).get_json()
    assert pulled["on_call"] is None and pulled["acknowledged"] == []
    assert json.dumps(pulled)  # serialisable as is

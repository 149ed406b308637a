"""The last level's e-mail and the push message: their language, their recipients, and the
e-mail's lease when two workers overlap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import fanout, mail, passclock
from server.alerts.tick import tick
from server.digest import service as digest_settings
from sync.clock import utcnow
from tests.support import factories
from tests.support.alerts import (  # noqa: F401  (push_service_fixture is a fixture)
    make_rota,
    make_scene,
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
from tests.support.workspace import cheap_hashing  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def test_the_last_levels_mail_shows_no_recipient_the_others(
    app: Flask, client: FlaskClient, push_service: PushService, smtp_server: SmtpServer
):
    app.config.update(smtp_server.app_config())
    scene = make_scene(app, push_service)
    third = factories.make_person(scene.org, "viewer", email="tredje.jour@kommun.se")
    make_rota(scene.org.id, [([scene.first], 5), ([scene.second, third], 5)])
    send(client, scene, urgent())
    t0 = utcnow()
    tick(t0)
    tick(t0 + timedelta(minutes=5))
    [received] = smtp_server.messages
    assert sorted(received.rcpt_tos) == sorted([scene.second.email, third.email])
    headers = received.raw.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    assert scene.second.email not in headers and third.email not in headers
    assert received.message["To"] == "undisclosed-recipients:;"
    assert "Bcc" not in received.message


@pytest.mark.parametrize(
    ("lang", "title", "words", "foreign"),
    [
        (
            None,  # no digest settings: Swedish
            "Brådskande: Brand",
            ["(inte kvitterad)", "Kategori: Brand", "Öppna och kvittera:", "ring 112"],
            ["Urgent", "acknowledge", "Category"],
        ),
        (
            "en",
            "Urgent: Fire",
            ["(not acknowledged)", "Category: Fire", "Open and acknowledge:", "call 112"],
            ["Brådskande", "kvitter", "Kategori", "Område", "ring 112"],
        ),
    ],
)
def test_push_and_mail_speak_the_organisations_language(
    app: Flask,
    client: FlaskClient,
    push_service: PushService,
    smtp_server: SmtpServer,
    lang: str | None,
    title: str,
    words: list[str],
    foreign: list[str],
):
    app.config.update(smtp_server.app_config())
    scene = make_scene(app, push_service, levels=1)
    if lang is not None:
        digest_settings.configure(scene.org.id, lang=lang)
    send(client, scene, urgent())
    tick(utcnow())
    assert {r.payload["title"] for r in push_service.received} == {title}
    [received] = smtp_server.messages
    text = received.message["Subject"] + "\n" + received.message.get_body(("plain",)).get_content()
    assert title in text
    for word in words:
        assert word in text, word
    for word in foreign:
        assert word not in text, word


def test_an_e_mail_lease_runs_from_its_claim_so_an_overlapping_worker_sends_it_once(
    app: Flask,
    client: FlaskClient,
    push_service: PushService,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
):
    """Worker A's first e-mail takes 150 s; worker B's pass starts while A sends the second."""
    app.config.update(smtp_server.app_config())
    scene = make_scene(app, push_service, levels=1)  # level 1 is the last: mail at once
    send(client, scene, urgent())
    send(client, scene, urgent(category="skadegorelse", location={"lat": 55.7, "lon": 13.4}))
    t0 = utcnow()
    assert len(fanout.open_alerts(t0)) == 2  # two incidents, each mailed at once
    seconds = [0.0]
    monkeypatch.setattr(passclock, "monotonic", lambda: seconds[0])
    real = mail.send
    sent: list[str] = []

    def slow_send(smtp, msg, recipients):
        sent.append(msg["Message-ID"])
        if len(sent) == 1:
            seconds[0] += 150  # the SMTP server kept A waiting, past a whole lease
        elif len(sent) == 2:
            mail.send_due(t0 + timedelta(seconds=151), "B", app.config)
        return real(smtp, msg, recipients)

    monkeypatch.setattr(mail, "send", slow_send)
    mail.send_due(t0, "A", app.config)
    assert len(sent) == 2 and len(set(sent)) == 2, sent
    assert len(smtp_server.messages) == 2

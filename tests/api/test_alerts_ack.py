"""Who may acknowledge an alert: editors and persons on the rota; a reader who is not on
call must not stop the escalation."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts.tick import tick
from sync.clock import utcnow
from tests.support import factories
from tests.support.alerts import (  # noqa: F401  (push_service_fixture is a fixture)
    make_rota,
    make_scene,
    only_alert,
    push_service_fixture,
    send,
    urgent,
)
from tests.support.pushservice import PushService
from tests.support.workspace import cheap_hashing, login, post  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.mark.parametrize(
    ("role", "on_rota", "may"),
    [
        ("admin", False, True),
        ("coordinator", False, True),
        ("analyst", False, False),
        ("viewer", False, False),
        ("analyst", True, True),
        ("viewer", True, True),
    ],
)
def test_only_editors_and_the_rota_acknowledge(
    app: Flask,
    client: FlaskClient,
    push_service: PushService,
    role: str,
    on_rota: bool,
    may: bool,
):
    scene = make_scene(app, push_service)
    who = factories.make_person(scene.org, role)
    if on_rota:  # a third level, so the two that are paged stay as they were
        make_rota(scene.org.id, [([scene.first], 5), ([scene.second], 5), ([who], 5)])
    send(client, scene, urgent())
    tick(utcnow())
    alert = only_alert()
    browser = app.test_client()
    assert login(browser, who).status_code == 302
    page = browser.get(f"/workspace/alerts/{alert.id}").get_data(as_text=True)
    assert ('id="acknowledge"' in page) is may
    assert ("Bara jouren, samordnare och administratörer kan kvittera." in page) is not may
    resp = post(browser, f"/workspace/alerts/{alert.id}/acknowledge")
    assert resp.status_code == (302 if may else 403), resp.get_data(as_text=True)
    acknowledged = only_alert()
    if may:
        assert acknowledged.acknowledged_by == who.person.id
    else:
        assert acknowledged.acknowledged_at is None and acknowledged.next_at is not None
        assert "kvittera" in resp.get_data(as_text=True)

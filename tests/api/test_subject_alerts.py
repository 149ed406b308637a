"""A person's export lists their push subscriptions (host only, no keys) and rota places."""

from __future__ import annotations

import json

from flask import Flask

from server.cli import main
from server.privacy import subject as subjects
from tests.support import factories
from tests.support.alerts import configure_vapid, make_rota, subscribe
from tests.support.pushservice import make_subscriber

ENDPOINT = "https://push.example.net/wpush/v2/SECRET-CAPABILITY-PATH"


def test_a_person_export_lists_push_subscriptions_and_rota_places(app: Flask, org) -> None:
    configure_vapid(app)
    eva = factories.make_person(org, role="coordinator", email="eva@kommun.test")
    olle = factories.make_person(org, role="coordinator", email="olle@kommun.test")
    browser = make_subscriber("eva", ENDPOINT)
    subscribe(eva, browser)
    subscribe(olle, make_subscriber("olle", "https://other.example.org/x/OLLES"))
    make_rota(org.id, [([olle], 5), ([eva, olle], 10)])

    result = app.test_cli_runner().invoke(
        main, ["subject", "export", "--person", "eva@kommun.test"]
    )

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert tuple(data) == subjects.PERSON_KEYS
    [sub] = data["push_subscriptions"]
    assert sub["endpoint_host"] == "push.example.net"
    assert set(sub) == {"id", "endpoint_host", "created_at", "retired_at"}
    assert sub["created_at"] and sub["retired_at"] is None
    keys = browser.subscription_json()["keys"]
    for secret in ("SECRET-CAPABILITY-PATH", keys["p256dh"], keys["auth"], "OLLES"):
        assert secret not in result.output
    assert data["oncall"] == [{"org_id": org.id, "level": 2, "minutes": 10}]


def test_a_person_without_alerts_has_empty_lists(app: Flask, org) -> None:
    factories.make_person(org, role="viewer", email="ingen.jour@kommun.test")
    result = app.test_cli_runner().invoke(
        main, ["subject", "export", "--person", "ingen.jour@kommun.test"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["push_subscriptions"], data["oncall"]) == ([], [])

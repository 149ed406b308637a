"""Helpers for the urgent-alert tests: a VAPID key, the push-service stand-in, a rota, and a
scene (an organisation with a two-level rota, browsers and a phone) with its urgent report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import rota, subscriptions
from server.alerts.models import Alert, AlertDelivery
from server.db import phase
from server.extensions import db
from tests.support import factories
from tests.support.factories import Login
from tests.support.pushservice import PushService, Subscriber, b64url

SUBJECT = "mailto:drift@lagesbild.test"
PUSH = "/api/v1/sync/push"


def vapid_pem() -> tuple[str, str]:
    """Return a new VAPID private key as PEM text and its public point (base64url)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return pem, b64url(point)


def configure_vapid(app: Flask) -> str:
    """Give the app a fresh VAPID key and subject; return the public key."""
    pem, public = vapid_pem()
    app.config.update(VAPID_PRIVATE_KEY=pem, VAPID_SUBJECT=SUBJECT)
    return public


@pytest.fixture(name="push_service")
def push_service_fixture(app: Flask) -> Iterator[PushService]:
    """A push service on loopback that knows the app's (fresh) VAPID key."""
    service = PushService(configure_vapid(app)).start()
    try:
        yield service
    finally:
        service.stop()
        assert service.errors == [], service.errors


def make_rota(org_id: int, levels: list[tuple[list[Login], int]], phone: str = "") -> None:
    """Save a rota: each level's persons and minutes."""
    with phase("write"):
        rota.save(
            org_id,
            phone,
            [
                rota.Level(n, minutes, [who.person.id for who in persons])
                for n, (persons, minutes) in enumerate(levels, start=1)
            ],
        )


def subscribe(who: Login, sub: Subscriber) -> int:
    """Store a browser's subscription for the person, as the workspace endpoint does."""
    keys: dict[str, Any] = sub.subscription_json()["keys"]
    with phase("write"):
        row = subscriptions.save(who.person, sub.endpoint, keys["p256dh"], keys["auth"], True)
    db.session.expire_all()
    return row.id


# --- a scene for the delivery tests ---------------------------------------------------------

SECRET_TEXT = "Bilbrand vid Lindgrens garage, Kalle Svensson 0701234567 såg det"
PLACE_TEXT = "Bakom Lindgrens garage"
DEVICE_NAME = "Väktarbil Ölme 7"
LAT, LON = 55.63981, 13.20831


@dataclass
class Scene:
    """An organisation with a two-level rota, a phone and the push service's browsers."""

    org: Any
    device: factories.EnrolledDevice
    first: factories.Login  # level 1
    second: factories.Login  # level 2 (the last: also e-mail)
    service: PushService


def make_scene(app: Flask, service: PushService, levels: int = 2) -> Scene:
    """Build the organisation, its rota (level 1 with two browsers, level 2 with one) and phone."""
    org = factories.make_org()
    device = factories.make_device(org, name=DEVICE_NAME)
    first = factories.make_person(org, "coordinator", email="forsta.jour@kommun.se")
    second = factories.make_person(org, "viewer", email="andra.jour@kommun.se")
    rota = [([first], 5), ([second], 5)][:levels]
    make_rota(org.id, rota, phone="+46 70 111 22 33")
    subscribe(first, service.subscriber("first-laptop"))
    subscribe(first, service.subscriber("first-phone"))
    subscribe(second, service.subscriber("second-phone"))
    return Scene(org, device, first, second, service)


def urgent(**overrides: Any) -> dict[str, Any]:
    """An urgent report full of what must never reach a push payload."""
    body = {
        "category": "brand",
        "severity": 3,
        "description": SECRET_TEXT,
        "place": PLACE_TEXT,
        "location": {"lat": LAT, "lon": LON, "accuracy_m": 8.0},
    }
    body.update(overrides)
    return factories.report(**body)


def send(client: FlaskClient, scene: Scene, report: dict[str, Any]) -> str:
    """Push one report from the scene's phone; return its status (created, duplicate)."""
    resp = client.post(PUSH, json={"reports": [report]}, headers=scene.device.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["results"][0]["status"]


def deliveries() -> list[AlertDelivery]:
    """Every delivery, fresh from the database."""
    db.session.expire_all()
    return db.session.query(AlertDelivery).order_by(AlertDelivery.id).all()


def only_alert() -> Alert:
    """The one alert there is."""
    db.session.expire_all()
    [alert] = db.session.query(Alert).all()
    return alert

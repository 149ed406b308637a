"""Helpers for the urgent-alert tests: a VAPID key, the push-service stand-in, a rota."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from server.alerts import rota, subscriptions
from server.db import phase
from server.extensions import db
from tests.support.factories import Login
from tests.support.pushservice import PushService, Subscriber, b64url

SUBJECT = "mailto:drift@lagesbild.test"


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
